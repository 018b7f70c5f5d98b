/**
 * Retention: message contents and raw payloads older than a window are removed from every table that holds them;
 * what the contents were about stays (times, ids, statuses, counts), so reports and history status still add up.
 * Audit records keep their hashes: the chain verifies after pruning and lists pruned records as pruned.
 */
import { AuditJournal } from '../audit/journal.js';
import { tableExists } from '../store/database.js';
import type { Db } from '../store/store.js';

interface ContentColumns {
  table: string;
  /** The column that dates a row (ms since the epoch). */
  time: string;
  /** What pruning sets, and the condition under which a row still holds content. */
  clear: string;
  holds: string;
  what: string;
}

/** Every place the store keeps message contents or raw payloads. */
export const CONTENT: readonly ContentColumns[] = [
  {
    table: 'webhook_payloads',
    time: 'received_at',
    clear: "body = ''",
    holds: "body != ''",
    what: 'raw webhook payloads',
  },
  {
    table: 'webhook_events',
    time: 'received_at',
    clear: "data = '{}'",
    holds: "data != '{}'",
    what: 'parsed webhook events',
  },
  {
    table: 'inbound_messages',
    time: 'timestamp',
    clear: 'text = NULL',
    holds: 'text IS NOT NULL',
    what: 'inbound message texts',
  },
  {
    table: 'message_echoes',
    time: 'timestamp',
    clear: 'text = NULL',
    holds: 'text IS NOT NULL',
    what: 'App message texts (echoes)',
  },
  {
    table: 'history_messages',
    time: 'timestamp',
    clear: 'text = NULL',
    holds: 'text IS NOT NULL',
    what: 'imported history texts',
  },
  {
    table: 'audit_records',
    time: 'at',
    clear: 'content = NULL',
    holds: 'content IS NOT NULL',
    what: 'audit record contents',
  },
];

export interface PruneCount {
  table: string;
  what: string;
  rows: number;
}

/** How many rows of each table hold content older than `before` (what `--dry-run` shows and the prompt asks about). */
export function countPrunable(db: Db, before: number): PruneCount[] {
  return CONTENT.filter((c) => tableExists(db, c.table)).map((c) => ({
    table: c.table,
    what: c.what,
    rows: (
      db.prepare(`SELECT count(*) AS n FROM ${c.table} WHERE ${c.time} < ? AND ${c.holds}`).get(before) as {
        n: number;
      }
    ).n,
  }));
}

/** Removes the contents older than `before` in one transaction, and records the run in the audit trail. */
export function prune(db: Db, before: number, now: number): PruneCount[] {
  const journal = new AuditJournal(db);
  return db
    .transaction(() => {
      const counts = CONTENT.filter((c) => tableExists(db, c.table)).map((c) => ({
        table: c.table,
        what: c.what,
        rows: db.prepare(`UPDATE ${c.table} SET ${c.clear} WHERE ${c.time} < ? AND ${c.holds}`).run(before)
          .changes,
      }));
      journal.append([
        {
          at: now,
          kind: 'retention',
          subject: 'store',
          content: {
            before: new Date(before).toISOString(),
            pruned: Object.fromEntries(counts.map((c) => [c.table, c.rows])),
          },
        },
      ]);
      return counts;
    })
    .immediate();
}
