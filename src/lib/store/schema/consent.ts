import type { Migration } from '../store.js';

/**
 * The consent register (ids 900–999), owned by lib/consent. Append-only: every grant and revoke is a row with its
 * source and proof; a person's state for a scope is their latest row for it or for `all`.
 */
export const CONSENT_MIGRATIONS: readonly Migration[] = [
  {
    id: 900,
    name: 'consent register',
    up: `
      CREATE TABLE consent_events (
        id INTEGER PRIMARY KEY,
        subject TEXT NOT NULL,
        scope TEXT NOT NULL CHECK (scope IN ('marketing', 'utility', 'all')),
        action TEXT NOT NULL CHECK (action IN ('grant', 'revoke')),
        at INTEGER NOT NULL,
        source TEXT NOT NULL,
        proof TEXT,
        recorded_at INTEGER NOT NULL
      );
      CREATE INDEX consent_events_subject ON consent_events(subject, at);
    `,
  },
  {
    id: 901,
    name: 'consent register: the opt-outs and opt-ins received before it existed',
    up: `
      INSERT INTO consent_events (subject, scope, action, at, source, proof, recorded_at)
      SELECT recipient,
             CASE source WHEN 'user_preferences' THEN 'marketing' ELSE 'all' END,
             CASE opted_out WHEN 1 THEN 'revoke' ELSE 'grant' END,
             at,
             'webhook: ' || source || coalesce(' "' || keyword || '"', ''),
             NULL,
             at
      FROM opt_outs ORDER BY at, id;
    `,
  },
];
