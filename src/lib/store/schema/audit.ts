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
  {
    // Each send's audit record is written with its commit: an index on a hash is a write to a random page of it,
    // which we measured at a third of the ledger writer's work per message. The lookup by hash only classifies a
    // break that verify already found (a moved record): a scan of the table is enough there.
    id: 801,
    name: 'audit trail: no index on hash',
    up: 'DROP INDEX IF EXISTS audit_records_hash',
  },
];
