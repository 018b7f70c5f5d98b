import type { Migration } from '../store.js';

/**
 * Template history (ids 400–499), owned by lib/templates. The Graph API does not expose how often a
 * template was edited or which names were deleted, so wacx keeps its own record of what it did:
 *
 * - template_edits: every successful edit (`POST /{template-id}`), with the status the template had before,
 *   for Meta's limits on APPROVED templates (1 edit per 24 h, 10 per 30 days).
 * - template_deletions: every successful delete, with the status before, for the 30-day block on reusing the
 *   name of a deleted APPROVED template.
 * Times are milliseconds since the epoch.
 */
export const TEMPLATE_MIGRATIONS: readonly Migration[] = [
  {
    id: 400,
    name: 'template edits and deletions',
    up: `
      CREATE TABLE template_edits (
        id INTEGER PRIMARY KEY,
        waba_id TEXT NOT NULL,
        template_id TEXT NOT NULL,
        name TEXT NOT NULL,
        language TEXT NOT NULL,
        status_before TEXT NOT NULL,
        fields TEXT NOT NULL,
        edited_at INTEGER NOT NULL
      );
      CREATE INDEX template_edits_template ON template_edits(template_id, edited_at);

      CREATE TABLE template_deletions (
        id INTEGER PRIMARY KEY,
        waba_id TEXT NOT NULL,
        template_id TEXT,
        name TEXT NOT NULL,
        language TEXT NOT NULL,
        status_before TEXT NOT NULL,
        deleted_at INTEGER NOT NULL
      );
      CREATE INDEX template_deletions_name ON template_deletions(waba_id, name, deleted_at);
    `,
  },
];
