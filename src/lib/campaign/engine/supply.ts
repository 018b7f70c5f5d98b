/**
 * The rows the sending loop takes from: pending rows read from the ledger in pages (in row order, after a cursor),
 * and rows waiting for a retry (sorted by the time they may leave again, first due first).
 */
import type { Ledger, PendingRow } from '../ledger.js';
import { newCounters, type RetryCounters } from './retries.js';

/** A row on its way: read from the ledger, or back for another attempt. */
export interface Work {
  row: PendingRow;
  /** It may not leave before this time (a retry's wait, the pair limit). */
  notBefore: number;
  /** When the current attempt was planned to leave (for the pair limiter). */
  sentAt?: number;
  /** When it actually left (for the answer time). */
  leftAt?: number;
  /** Its departure number in the pacer. */
  seq?: number;
  retries: RetryCounters;
}

export type Source = 'retry' | 'queue';

/** The smallest page of pending rows read at a time. */
export const READ_AHEAD_MIN = 128;

export class RowSupply {
  private queue: Work[] = [];
  private head = 0;
  private cursor = 0;
  private retries: Work[] = [];
  /** The last refill found no more rows and the whole CSV was already in the ledger. */
  private drainedAll = false;
  /** The last refill found no more rows while the CSV was still being read: look again at dryUntil. */
  private dry = 0;

  constructor(
    private readonly ledger: Ledger,
    private readonly cid: number,
    /** Whether the whole CSV is in the ledger (else more pending rows may come). */
    private readonly ingestDone: () => boolean,
  ) {}

  /** More rows may have been ingested: look again at the next refill. */
  wake(): void {
    this.dry = 0;
  }

  get drained(): boolean {
    return this.drainedAll;
  }

  /** When to look for new rows again (the CSV is still being read). */
  get dryUntil(): number {
    return this.dry;
  }

  /** Rows ready to be taken or waiting for a retry. */
  get hasWork(): boolean {
    return this.head < this.queue.length || this.retries.length > 0;
  }

  /** Nothing more will come and nothing is waiting. */
  get exhausted(): boolean {
    return this.drainedAll && !this.hasWork;
  }

  /** When the first retry may leave, if only retries are left (else null). */
  get onlyRetriesFrom(): number | null {
    const r = this.retries[0];
    return this.head >= this.queue.length && r ? r.notBefore : null;
  }

  /**
   * Reads the next page of pending rows (`want`, at least READ_AHEAD_MIN) when fewer than `want` are ready: rows
   * read ahead live until they leave, so about one window of them, not several (memory-capped runs).
   */
  refill(now: number, want: number): void {
    const available = this.queue.length - this.head;
    if (this.drainedAll || available >= want || now < this.dry) return;
    const limit = Math.max(READ_AHEAD_MIN, want);
    const doneBefore = this.ingestDone();
    const rows = this.ledger.pendingAfter(this.cid, this.cursor, limit);
    if (this.head > 4096) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    for (const row of rows) {
      this.queue.push({ row, notBefore: 0, retries: newCounters() });
      this.cursor = row.row;
    }
    if (rows.length < limit) {
      if (doneBefore) this.drainedAll = true;
      else this.dry = now + 20; // the CSV is still being read; wake() looks again sooner
    }
  }

  /** The next candidate due by `until` (retries first), without taking it. */
  peek(until: number): { work: Work; from: Source } | null {
    const r = this.retries[0];
    if (r && r.notBefore <= until) return { work: r, from: 'retry' };
    const q = this.queue[this.head];
    if (q) return { work: q, from: 'queue' };
    return null;
  }

  take(from: Source): void {
    if (from === 'retry') this.retries.shift();
    else this.head++;
  }

  /** Puts a row back to wait until its notBefore (sorted, stable). */
  requeue(work: Work): void {
    let lo = 0;
    let hi = this.retries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.retries[mid]!.notBefore <= work.notBefore) lo = mid + 1;
      else hi = mid;
    }
    this.retries.splice(lo, 0, work);
  }
}
