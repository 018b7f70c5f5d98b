import type { Migration } from '../store.js';

/**
 * Resumable onboarding state (ids 500–599), owned by lib/onboarding. Times are milliseconds since the epoch.
 * No secret is ever stored here: the business token goes to the profile's secrets; a signup code relayed by
 * `wacx webhooks serve` (onboarding_callbacks) is deleted as soon as `wacx onboard` takes it.
 *
 * - onboarding_runs: one `wacx onboard` attempt per row (the latest incomplete one is resumed);
 *   the ids it found (WABA, phone number) and when Meta says the number was onboarded (24 h sync window).
 * - onboarding_steps: the state of each step of a run (pending / done / skipped / failed) with its details (JSON).
 * - onboarding_callbacks: signups a `wacx onboard` waits for through the public receiver (lib/onboarding/relay.ts).
 */
export const ONBOARDING_MIGRATIONS: readonly Migration[] = [
  {
    id: 500,
    name: 'onboarding runs and steps',
    up: `
      CREATE TABLE onboarding_runs (
        id INTEGER PRIMARY KEY,
        started_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        completed_at INTEGER,
        app_id TEXT,
        config_id TEXT,
        waba_id TEXT,
        phone_number_id TEXT,
        display_phone_number TEXT,
        onboarded_at INTEGER
      );

      CREATE TABLE onboarding_steps (
        run_id INTEGER NOT NULL REFERENCES onboarding_runs(id) ON DELETE CASCADE,
        step TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('pending', 'done', 'skipped', 'failed')),
        detail TEXT NOT NULL DEFAULT '{}',
        error TEXT,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (run_id, step)
      );
    `,
  },
  {
    id: 501,
    name: 'onboarding callbacks relayed by the webhook receiver',
    up: `
      CREATE TABLE onboarding_callbacks (
        state TEXT PRIMARY KEY,
        start_id TEXT NOT NULL UNIQUE,
        signup_url TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        code TEXT,
        session_info TEXT,
        error TEXT,
        received_at INTEGER
      );
    `,
  },
];
