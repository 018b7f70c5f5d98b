import type { Migration } from '../store.js';

/**
 * The audit trail (ids 800–899), owned by lib/audit. One append-only, hash-chained journal: each record's hash
 * covers its time, kind, subject, content hash and the previous record's hash (see lib/audit/chain.ts).
 * `content` becomes NULL when retention prunes a record; its hashes stay, so the chain still verifies.
 */
export const AUDIT_MIGRATIONS: readonly Migration[] = [
  {
    id: 800,
    name: 'audit trail',
    up: `
      CREATE TABLE audit_records (
        seq INTEGER PRIMARY KEY,
        at INTEGER NOT NULL,
        kind TEXT NOT NULL,
        subject TEXT NOT NULL,
        content TEXT,
        content_hash TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
      );
      CREATE INDEX audit_records_hash ON audit_records(hash);
      CREATE INDEX audit_records_at ON audit_records(at);
    `,
  },
];
