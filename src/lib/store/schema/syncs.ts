import type { Migration } from '../store.js';

/**
 * Coexistence sync requests (ids 200–299), owned by lib/history/sync.ts and shared by `wacx onboard` and
 * `wacx history sync`. Times are milliseconds since the epoch.
 *
 * - sync_requests: every smb_app_data call made (accepted with its request_id, or refused with Meta's code).
 * - sync_onboardings: when each number was (last) onboarded, the start of its 24 h sync window.
 */
export const SYNC_MIGRATIONS: readonly Migration[] = [
  {
    id: 200,
    name: 'sync requests and onboarding times',
    up: `
      CREATE TABLE sync_requests (
        id INTEGER PRIMARY KEY,
        phone_number_id TEXT NOT NULL,
        sync_type TEXT NOT NULL,
        outcome TEXT NOT NULL,
        request_id TEXT,
        requested_at INTEGER NOT NULL,
        onboarded_at INTEGER,
        error_code INTEGER,
        error_message TEXT
      );
      CREATE INDEX sync_requests_phone ON sync_requests(phone_number_id, sync_type, requested_at);

      CREATE TABLE sync_onboardings (
        phone_number_id TEXT PRIMARY KEY,
        onboarded_at INTEGER NOT NULL,
        source TEXT NOT NULL,
        recorded_at INTEGER NOT NULL
      );
    `,
  },
];
