/**
 * Group commits of the sending loop: the outcomes gathered since the last commit, the in_flight marks of the rows
 * about to leave, and the lease's heartbeat, written in ONE transaction (fsync'ed: see ledger.ts), either
 * synchronously or through the writer thread (writer.ts). It decides when a commit is due (outcomes waiting for
 * `flushMs`, or many of them; the heartbeat every `heartbeatMs`) and counts what is still unconfirmed.
 */
import type { CommitBatch, Ledger, RowUpdate } from '../ledger.js';
import type { Committer } from '../writer.js';

/** Outcomes are committed at once when this many are waiting. */
export const MAX_GATHERED = 1024;

export interface GroupCommitOptions {
  ledger: Ledger;
  cid: number;
  leaseOwner: string;
  committer: Committer | null;
  /** Outcomes wait at most this long before being committed. */
  flushMs: number;
  heartbeatMs: number;
}

export class GroupCommit {
  private updates: RowUpdate[] = [];
  private firstUpdateAt = 0;
  private lastHeartbeat: number;
  /** Commits sent to the writer thread and not confirmed yet. */
  pending = 0;
  /** Group commits (transactions) written. */
  count = 0;
  /** The first commit that failed (disk full, permissions…), or null. */
  failure: Error | null = null;

  constructor(
    private readonly o: GroupCommitOptions,
    now: number,
  ) {
    this.lastHeartbeat = now;
  }

  /** The run starts: the next heartbeat is due heartbeatMs from now. */
  started(now: number): void {
    this.lastHeartbeat = now;
  }

  /** Adds a row's new state to the next commit. */
  record(update: RowUpdate, now: number): void {
    if (this.updates.length === 0) this.firstUpdateAt = now;
    this.updates.push(update);
  }

  get gathered(): number {
    return this.updates.length;
  }

  heartbeatDue(now: number): boolean {
    return now - this.lastHeartbeat >= this.o.heartbeatMs;
  }

  flushDue(now: number): boolean {
    return (
      this.updates.length > 0 &&
      (now - this.firstUpdateAt >= this.o.flushMs || this.updates.length >= MAX_GATHERED)
    );
  }

  /** The next time a commit is due without anything new (outcomes waiting, heartbeat). */
  nextDue(): number {
    let at = this.lastHeartbeat + this.o.heartbeatMs;
    if (this.updates.length > 0) at = Math.min(at, this.firstUpdateAt + this.o.flushMs);
    return at;
  }

  /**
   * Writes one commit: the gathered outcomes, the in_flight marks of `intents`, the heartbeat when asked. `done(ok)`
   * is called once it is confirmed (at once when the commit is synchronous); ok false: the lease was lost (another
   * run owns the campaign), nothing of it was written; 'failed': the write failed (see `failure`). Returns false when
   * nothing was there to write.
   */
  write(now: number, heartbeat: boolean, intents: number[], done: (ok: boolean | 'failed') => void): boolean {
    if (this.updates.length === 0 && intents.length === 0 && !heartbeat) return false;
    const batch: CommitBatch = {
      updates: this.updates,
      intents,
      ...(heartbeat ? { heartbeatOwner: this.o.leaseOwner } : {}),
    };
    this.updates = [];
    this.count++;
    if (heartbeat) this.lastHeartbeat = now;
    const result = this.o.committer
      ? this.o.committer.commit(batch, now)
      : this.o.ledger.commit(this.o.cid, batch, now);
    if (typeof result === 'boolean') {
      done(result);
      return true;
    }
    this.pending++;
    result.then(
      (ok) => {
        this.pending--;
        done(ok);
      },
      (error: unknown) => {
        this.pending--;
        this.failure ??= error instanceof Error ? error : new Error(String(error));
        done('failed');
      },
    );
    return true;
  }
}
