import type { AuditEntry } from '../audit/journal.js';
import type { Db } from '../store/store.js';
import type { RejectReason } from './rejections.js';
import {
  appendAudit,
  BodyIngest,
  type IngestOptions,
  type IngestResult,
  ingestPayload,
  readBody,
  recordRejection,
} from './storage.js';

/** One thing for the receiver's store to write: a received body, or a body refused before it was read. */
export type WriteItem =
  | { kind: 'body'; raw: Buffer; signature: string | null; receivedAt: number }
  | { kind: 'rejection'; reason: RejectReason; at: number };

/** A body's result (null: it could not be stored); a rejection's is null too (counting is best effort). */
export type WriteResult = IngestResult | null;

export interface BatchOptions {
  appSecret: string;
  maxBytes: number;
}

/** What happened to one batch. */
export interface BatchReport {
  results: WriteResult[];
  /** Transactions committed: 1 when the batch went in whole, more when it had to be split. */
  commits: number;
}

function bodyOptions(
  item: Extract<WriteItem, { kind: 'body' }>,
  options: BatchOptions,
  batch?: { audited: AuditEntry[] },
): IngestOptions {
  return {
    signature: item.signature,
    appSecret: options.appSecret,
    requireSignature: true,
    receivedAt: item.receivedAt,
    source: 'http',
    maxBytes: options.maxBytes,
    batch,
  };
}

function writeOne(db: Db, item: WriteItem, options: BatchOptions): WriteResult {
  if (item.kind === 'body') return ingestPayload(db, item.raw, bodyOptions(item, options));
  try {
    recordRejection(db, item.reason, item.at, 'http');
  } catch {
    // counting is best effort
  }
  return null;
}

/** The batch in one transaction: each step of storing a body taken for every body before the next step. */
function writeAll(db: Db, items: WriteItem[], options: BatchOptions): WriteResult[] {
  const batch = { audited: [] as AuditEntry[] };
  const read = items.map((item) =>
    item.kind === 'body'
      ? readBody(db, item.raw, bodyOptions(item, options, batch))
      : writeOne(db, item, options),
  );
  const bodies = read.filter((r): r is BodyIngest => r instanceof BodyIngest);
  for (const body of bodies) body.insertPayload();
  for (const body of bodies) body.insertEvents();
  const results = read.map((r) => (r instanceof BodyIngest ? r.finish() : r));
  appendAudit(db, batch.audited);
  return results;
}

const runners = new WeakMap<Db, { all: (items: WriteItem[], o: BatchOptions) => WriteResult[] }>();

/**
 * Group commit: verifies, parses and stores every item of `items` in ONE transaction (BEGIN IMMEDIATE, so that the
 * write lock is waited for with the busy timeout; the batch's audit records appended once at its end), so that the
 * batch costs one fsync. Should that transaction fail (disk full, locked, a failing commit, one bad payload), each
 * item is tried again in a transaction of its own: one bad payload cannot fail the others, and an item whose own
 * commit fails gets null. Nothing of a failed transaction is kept, so a null result was never stored.
 */
export function writeBatch(db: Db, items: readonly WriteItem[], options: BatchOptions): BatchReport {
  let runner = runners.get(db);
  if (!runner) {
    const all = db.transaction((batch: WriteItem[], o: BatchOptions) => writeAll(db, batch, o));
    runner = { all: (batch, o) => all.immediate(batch, o) };
    runners.set(db, runner);
  }
  try {
    return { results: runner.all([...items], options), commits: 1 };
  } catch {
    let commits = 0;
    const one = db.transaction((item: WriteItem) => writeOne(db, item, options));
    const results = items.map((item) => {
      try {
        const r = one.immediate(item);
        commits++;
        return r;
      } catch {
        return null;
      }
    });
    return { results, commits };
  }
}
