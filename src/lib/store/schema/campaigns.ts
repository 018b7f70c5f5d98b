import type { Migration } from '../store.js';

/**
 * Campaign ledger (ids 300–399). Owned by lib/campaign (`wacx send`, `wacx campaigns …`).
 * Times are milliseconds since the epoch.
 *
 * - campaigns: one row per campaign: what is sent (template, language, number), where the rows came from
 *   (CSV path, size, mtime, sha256, header), the options that shape each message (mapping, phone column,
 *   default country), how far the CSV has been ingested (`ingest_offset` = byte offset just after the last
 *   ingested record, `ingest_line`, `next_row`), the run status and the lease (owner token, host, pid,
 *   heartbeat) that keeps a second run of the same campaign from starting.
 * - campaign_rows: one row per CSV record (row = 1-based record number after the header):
 *   pending → in_flight (committed BEFORE the request leaves) → sent | failed | unknown; or skipped
 *   (invalid, duplicate, opted out, excluded) with a reason. `recipient` (E.164 digits, no '+') is NULL for
 *   invalid and duplicate rows, so the unique index dedupes recipients within a campaign.
 *   `params` holds the mapped parameter values (JSON array, in the campaign's slot order).
 */
export const CAMPAIGN_MIGRATIONS: readonly Migration[] = [
  {
    id: 300,
    name: 'campaigns ledger',
    up: `
      CREATE TABLE campaigns (
        cid INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        status TEXT NOT NULL,
        stop_reason TEXT,
        template TEXT NOT NULL,
        language TEXT NOT NULL,
        phone_number_id TEXT NOT NULL,
        waba_id TEXT,
        csv_path TEXT NOT NULL,
        csv_size INTEGER NOT NULL,
        csv_mtime INTEGER NOT NULL,
        csv_sha256 TEXT NOT NULL,
        columns TEXT,
        options TEXT NOT NULL,
        template_json TEXT NOT NULL,
        ingest_done INTEGER NOT NULL DEFAULT 0,
        ingest_offset INTEGER NOT NULL DEFAULT 0,
        ingest_line INTEGER NOT NULL DEFAULT 0,
        next_row INTEGER NOT NULL DEFAULT 1,
        lease_owner TEXT,
        lease_host TEXT,
        lease_pid INTEGER,
        lease_heartbeat INTEGER,
        runs INTEGER NOT NULL DEFAULT 0,
        active_ms INTEGER NOT NULL DEFAULT 0,
        started_at INTEGER,
        finished_at INTEGER
      );

      CREATE TABLE campaign_rows (
        cid INTEGER NOT NULL REFERENCES campaigns(cid) ON DELETE CASCADE,
        row INTEGER NOT NULL,
        line INTEGER NOT NULL,
        recipient TEXT,
        input TEXT,
        params TEXT,
        state TEXT NOT NULL CHECK (state IN ('pending', 'in_flight', 'sent', 'failed', 'unknown', 'skipped')),
        reason TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        error_code INTEGER,
        error_title TEXT,
        wamid TEXT,
        message_status TEXT,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (cid, row)
      ) WITHOUT ROWID;
      CREATE INDEX campaign_rows_state ON campaign_rows(cid, state, row);
      CREATE UNIQUE INDEX campaign_rows_recipient ON campaign_rows(cid, recipient);
    `,
  },
];
