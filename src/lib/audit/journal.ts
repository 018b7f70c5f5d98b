/**
 * The audit journal in the store: appending (inside the caller's write transaction, so that a send and its
 * record commit together) and reading in order. Several processes may append to one store: the head is read
 * inside the write transaction, which SQLite serialises.
 */
import type { Db } from '../store/store.js';
import { type AuditRecord, ChainChecker, GENESIS, type Problem, recordHash, sha256 } from './chain.js';

export const AUDIT_KINDS = [
  'send',
  'echo',
  'inbound',
  'status',
  'template_change',
  'consent',
  'campaign_start',
  'campaign_stop',
  'retention',
] as const;
export type AuditKind = (typeof AUDIT_KINDS)[number];

export interface AuditEntry {
  at: number;
  kind: AuditKind;
  subject: string;
  /** Written as JSON in this key order; the text written is what is hashed. */
  content: Record<string, unknown>;
}

export interface Head {
  seq: number;
  hash: string;
  at: number;
}

export interface VerifyResult {
  count: number;
  head: Head | null;
  pruned: number;
  prunedRanges: [number, number][];
  problem: Problem | null;
}

interface Row {
  seq: number;
  at: number;
  kind: string;
  subject: string;
  content: string | null;
  content_hash: string;
  prev_hash: string;
  hash: string;
}

export const fromRow = (r: Row): AuditRecord => ({
  seq: r.seq,
  at: r.at,
  kind: r.kind,
  subject: r.subject,
  content: r.content,
  contentHash: r.content_hash,
  prevHash: r.prev_hash,
  hash: r.hash,
});

/**
 * A benchmark yardstick only (bench/audit-send.bench.mjs): WACX_AUDIT_OFF=1 makes append() write nothing, so that
 * the CPU cost of the audit trail can be measured against the same run without it. Never set it in production.
 */
const AUDIT_OFF = process.env.WACX_AUDIT_OFF === '1';

export class AuditJournal {
  private readonly insert;
  private readonly last;

  constructor(private readonly db: Db) {
    this.insert = db.prepare(
      `INSERT INTO audit_records (seq, at, kind, subject, content, content_hash, prev_hash, hash)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.last = db.prepare('SELECT seq, hash, at FROM audit_records ORDER BY seq DESC LIMIT 1');
  }

  /** Appends `entries` in order; inside the caller's transaction when there is one, else in its own. */
  append(entries: readonly AuditEntry[]): void {
    if (entries.length === 0 || AUDIT_OFF) return;
    const write = () => {
      const head = this.last.get() as Head | undefined;
      let seq = head?.seq ?? 0;
      let prevHash = head?.hash ?? GENESIS;
      for (const e of entries) {
        const content = JSON.stringify(e.content);
        const contentHash = sha256(content);
        const hash = recordHash({ at: e.at, kind: e.kind, subject: e.subject, contentHash, prevHash });
        seq++;
        this.insert.run(seq, e.at, e.kind, e.subject, content, contentHash, prevHash, hash);
        prevHash = hash;
      }
    };
    if (this.db.inTransaction) write();
    else this.db.transaction(write).immediate();
  }

  head(): Head | null {
    return (this.last.get() as Head | undefined) ?? null;
  }

  /** Records with `from <= at < until` (ms), in sequence order, read lazily. */
  *records(range: { from?: number; until?: number } = {}): Generator<AuditRecord> {
    const rows = this.db
      .prepare('SELECT * FROM audit_records WHERE at >= ? AND at < ? ORDER BY seq')
      .iterate(
        range.from ?? Number.MIN_SAFE_INTEGER,
        range.until ?? Number.MAX_SAFE_INTEGER,
      ) as Iterable<Row>;
    for (const r of rows) yield fromRow(r);
  }

  /** Recomputes the whole chain in constant memory; with `anchor`, also that the chain still extends it. */
  verify(anchor?: { seq: number; hash: string }): VerifyResult {
    const bySeq = this.db.prepare('SELECT seq FROM audit_records WHERE hash = ? LIMIT 1');
    const next = this.db.prepare('SELECT * FROM audit_records WHERE seq > ? ORDER BY seq LIMIT 1');
    const checker = new ChainChecker(
      (hash) => (bySeq.get(hash) as { seq: number } | undefined)?.seq ?? null,
      (seq) => {
        const r = next.get(seq) as Row | undefined;
        return r ? fromRow(r) : null;
      },
    );
    const rows = this.db.prepare('SELECT * FROM audit_records ORDER BY seq').iterate() as Iterable<Row>;
    for (const r of rows) if (!checker.next(fromRow(r))) break;
    let problem = checker.problem;
    const head = checker.head;
    if (!problem && anchor) {
      const at = this.db.prepare('SELECT hash FROM audit_records WHERE seq = ?').get(anchor.seq) as
        | { hash: string }
        | undefined;
      if (!at) {
        problem = {
          kind: 'truncated',
          seq: anchor.seq,
          detail: `the chain ends at record ${head?.seq ?? 0}, before the anchored record ${anchor.seq}: records were removed from its end`,
        };
      } else if (at.hash !== anchor.hash) {
        problem = {
          kind: 'changed',
          seq: anchor.seq,
          detail: `record ${anchor.seq} no longer has the anchored hash: the chain was rewritten up to it`,
        };
      }
    }
    return {
      count: checker.count,
      head: head ? { seq: head.seq, hash: head.hash, at: head.at } : null,
      pruned: checker.pruned,
      prunedRanges: checker.prunedRanges,
      problem,
    };
  }
}
