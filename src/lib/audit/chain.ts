/**
 * The hash chain of the audit trail. A record's content is hashed on its own (so that retention can drop the
 * content and keep the proof), and its hash covers its time, kind, subject, that content hash and the previous
 * record's hash. The sequence number is not hashed: it only orders the records, and a gap in it is a deletion.
 */
import * as crypto from 'node:crypto';

export const GENESIS = '0'.repeat(64);

export interface AuditRecord {
  seq: number;
  /** ms since the epoch. */
  at: number;
  kind: string;
  /** Who or what the record is about: a recipient, a template name, a campaign id. */
  subject: string;
  /** JSON text as written; null once pruned. */
  content: string | null;
  contentHash: string;
  prevHash: string;
  hash: string;
}

/** One-shot hashing where Node has it (20.12+): a send's audit record takes three hashes. */
export const sha256: (text: string) => string =
  typeof crypto.hash === 'function'
    ? (text) => crypto.hash('sha256', text, 'hex')
    : (text) => crypto.createHash('sha256').update(text).digest('hex');

export function recordHash(
  r: Pick<AuditRecord, 'at' | 'kind' | 'subject' | 'contentHash' | 'prevHash'>,
): string {
  return sha256(`${r.at}\n${r.kind}\n${r.subject}\n${r.contentHash}\n${r.prevHash}`);
}

/** What a reader of the chain needs to find what was done to it. */
export type Problem =
  | { kind: 'changed'; seq: number; detail: string }
  | { kind: 'deleted'; seq: number; detail: string }
  | { kind: 'inserted'; seq: number; detail: string }
  | { kind: 'moved'; seq: number; detail: string }
  | { kind: 'truncated'; seq: number; detail: string };

/**
 * Checks records in sequence order, one at a time (constant memory). At the first break, `findByHash` (which
 * record carries a hash) and `recordAfter` (the next record) tell a moved record from an inserted or replaced one.
 */
export class ChainChecker {
  private prev: AuditRecord | null = null;
  private beforePrev: AuditRecord | null = null;
  count = 0;
  pruned = 0;
  prunedRanges: [number, number][] = [];
  problem: Problem | null = null;

  constructor(
    private readonly findByHash: (hash: string) => number | null,
    private readonly recordAfter: (seq: number) => AuditRecord | null,
    private readonly startPrevHash = GENESIS,
    private readonly startSeq = 1,
  ) {}

  /** Feeds the next record; false once a problem is found (the first one is kept). */
  next(r: AuditRecord): boolean {
    if (this.problem) return false;
    const expectedSeq = this.prev ? this.prev.seq + 1 : this.startSeq;
    if (r.seq > expectedSeq) {
      const last = r.seq - 1;
      const range = last === expectedSeq ? `record ${expectedSeq}` : `records ${expectedSeq}–${last}`;
      return this.fail({
        kind: 'deleted',
        seq: expectedSeq,
        detail: `${range} ${last === expectedSeq ? 'is' : 'are'} missing`,
      });
    }
    if (r.content === null) {
      this.pruned++;
      const lastRange = this.prunedRanges.at(-1);
      if (lastRange && lastRange[1] === r.seq - 1) lastRange[1] = r.seq;
      else this.prunedRanges.push([r.seq, r.seq]);
    } else if (sha256(r.content) !== r.contentHash) {
      return this.fail({
        kind: 'changed',
        seq: r.seq,
        detail: `record ${r.seq}'s content no longer matches its hash`,
      });
    }
    if (recordHash(r) !== r.hash) {
      return this.fail({
        kind: 'changed',
        seq: r.seq,
        detail: `record ${r.seq}'s time, kind or subject was changed`,
      });
    }
    const expectedPrev = this.prev ? this.prev.hash : this.startPrevHash;
    if (r.prevHash !== expectedPrev) return this.fail(this.classifyBreak(r));
    this.beforePrev = this.prev;
    this.prev = r;
    this.count++;
    return true;
  }

  private classifyBreak(r: AuditRecord): Problem {
    const before = this.prev;
    if (before && this.beforePrev && r.prevHash === this.beforePrev.hash) {
      return {
        kind: 'inserted',
        seq: before.seq,
        detail: `record ${before.seq} is not part of the chain: it was inserted`,
      };
    }
    const after = this.recordAfter(r.seq);
    if (after && after.prevHash === (before ? before.hash : this.startPrevHash)) {
      return {
        kind: 'inserted',
        seq: r.seq,
        detail: `record ${r.seq} is not part of the chain: it was inserted`,
      };
    }
    const original = this.findByHash(r.prevHash);
    if (original !== null && original !== before?.seq) {
      return {
        kind: 'moved',
        seq: r.seq,
        detail: `record ${r.seq} was written after record ${original}, not after ${before ? before.seq : 'the start'}: records were moved`,
      };
    }
    const at = before ? before.seq : r.seq;
    return {
      kind: before ? 'changed' : 'deleted',
      seq: at,
      detail: before
        ? `record ${r.seq} does not follow record ${before.seq}: record ${before.seq} was replaced, or records after it deleted and renumbered`
        : `record ${r.seq} does not start the chain: the records before it were deleted`,
    };
  }

  private fail(problem: Problem): false {
    this.problem = problem;
    return false;
  }

  get head(): AuditRecord | null {
    return this.prev;
  }
}
