import type { Clock } from '../clock.js';
import { classify, type Verdict } from './classify.js';
import type { CommitBatch, Ledger, PendingRow, RowUpdate } from './ledger.js';
import { type Pacer, type PairLimiter, pairBackoffMs } from './pacer.js';
import type { RowOutcome, RowState, StopReason } from './types.js';
import type { Committer } from './writer.js';

/**
 * The sending loop of a campaign.
 *
 * One loop plans which rows leave next (pacing, pair limiter, in-flight window), writes their `in_flight` marks
 * in ONE transaction together with the outcomes that came back since the last one (group commit, fsync'ed:
 * see ledger.ts), and only after that COMMIT lets the requests leave, each at its absolute deadline. So:
 * - a request never leaves before the ledger says it may have left;
 * - at most `window` rows are `in_flight` at any time: after a crash, at most that many rows are unknown;
 * - the database sees one transaction per few milliseconds, not one per message.
 */

const TIMER_DONE = new Error('engine finished');

/**
 * An answer slower than the fastest recent ones by more than this means the request waited at the API (a pause,
 * then a bunch processed at once): it is counted as arriving that much before its answer. The slack absorbs the
 * few milliseconds our own event loop may take to notice an answer.
 */
const ARRIVAL_SLACK_MS = 3;

/** The next batch is planned and committed this long before its first departure. */
const PLAN_LEAD_MS = 1;

export type SendResult =
  | { kind: 'accepted'; wamid: string; messageStatus: string | null }
  | { kind: 'error'; error: unknown };

export interface Transport {
  send(row: PendingRow): Promise<SendResult>;
}

/** A final outcome produced by the engine (sent, failed, unknown, or skipped at dispatch time). */
export type EngineOutcome = RowOutcome & { state: Exclude<RowState, 'pending' | 'in_flight'> };

export interface EngineNotice {
  type: 'throttled' | 'pair' | 'transient' | 'network';
  row: number;
  code: number | null;
  title: string;
  /** For throttling: the rate after the decrease. */
  rate?: number;
  waitMs?: number;
}

export interface EngineOptions {
  ledger: Ledger;
  cid: number;
  clock: Clock;
  /** Ctrl+C / SIGTERM: stop planning, let in-flight requests finish, checkpoint. */
  signal: AbortSignal;
  transport: Transport;
  pacer: Pacer;
  pair: PairLimiter;
  /** Maximum rows in flight (planned + sent without an answer). */
  window: number;
  /** Rows due within this many ms are planned (and committed) together. */
  horizonMs?: number;
  /** Outcomes wait at most this long before being committed. */
  flushMs?: number;
  /** When the window is nearly full, wait this long for more free slots before committing a small batch. */
  gatherMs?: number;
  leaseOwner: string;
  heartbeatMs?: number;
  /**
   * Writes the group commits in another thread (writer.ts). Without it the loop commits synchronously. With it, a
   * batch is planned `commitLeadMs` before its first departure, so that its commit is confirmed in time.
   */
  committer?: Committer | null;
  commitLeadMs?: number;
  /** Whether the whole CSV is in the ledger (else more pending rows may come). */
  ingestDone: () => boolean;
  /** A reason to skip a recipient at dispatch time (opted out meanwhile), or null. */
  blocked?: (recipient: string) => string | null;
  onOutcome?: (o: EngineOutcome) => void;
  onNotice?: (n: EngineNotice) => void;
  /** Attempts per row for throttling answers before the row fails. */
  maxThrottleRetries?: number;
  maxTransientRetries?: number;
  maxPairRetries?: number;
  /** Consecutive network failures (nothing sent) before the run stops. */
  maxNetworkFailures?: number;
}

export interface EngineResult {
  stop: StopReason | null;
  cancelled: boolean;
  leaseLost: boolean;
  /** Requests that left during this run. */
  requests: number;
  /** Group commits (transactions) written during this run. */
  commits: number;
  firstRequestAt: number | null;
}

interface Work {
  row: PendingRow;
  notBefore: number;
  /** When the current attempt was planned to leave (for the pair limiter). */
  sentAt?: number;
  /** When it actually left (for the answer time). */
  leftAt?: number;
  /** Its departure number in the pacer. */
  seq?: number;
  throttled: number;
  transient: number;
  pairFailures: number;
}

interface Planned {
  work: Work;
  at: number;
  /** Its in_flight mark is committed: it may leave. */
  ready: boolean;
}

export class Engine {
  private readonly o: Required<Omit<EngineOptions, 'blocked' | 'onOutcome' | 'onNotice' | 'committer'>> &
    Pick<EngineOptions, 'blocked' | 'onOutcome' | 'onNotice' | 'committer'>;
  /** Commits sent to the writer thread and not confirmed yet. */
  private pendingCommits = 0;
  private commitFailure: Error | null = null;
  private queue: Work[] = [];
  private head = 0;
  private cursor = 0;
  /** The last refill found no more rows and the whole CSV was already in the ledger. */
  private drained = false;
  /** The last refill found no more rows while the CSV was still being read: look again at dryUntil. */
  private dryUntil = 0;
  private retries: Work[] = [];
  private planned: Planned[] = [];
  private inFlight = 0;
  private updates: RowUpdate[] = [];
  private firstUpdateAt = 0;
  private lastHeartbeat = 0;
  private lastPlanAt = Number.NEGATIVE_INFINITY;
  private networkFailures = 0;
  private stopReason: StopReason | null = null;
  private leaseLost = false;
  private waker: (() => void) | null = null;
  private requests = 0;
  private commits = 0;
  private firstRequestAt: number | null = null;
  /** The armed timer: its deadline and generation (a newer wait() makes older timers no-ops). */
  private timerAt = Number.POSITIVE_INFINITY;
  private spins = 0;
  /** Pending timers, cancelled when the run ends (so that they do not keep the process alive). */
  private readonly timers = new Set<AbortController>();
  private generation = 0;
  /** Smoothed answer time (ms), for the in-flight window. */
  private latency = 50;
  /** A slowly rising minimum of the answer times (ms). */
  private fastest = 50;

  constructor(options: EngineOptions) {
    this.o = {
      // at high rates plan (and commit) 20 ms of departures at a time, else 10 ms
      horizonMs: options.pacer.target >= 400 ? 20 : 10,
      flushMs: 100,
      gatherMs: 5,
      heartbeatMs: 2000,
      commitLeadMs: options.committer ? 15 : 0,
      maxThrottleRetries: 30,
      maxTransientRetries: 5,
      maxPairRetries: 5,
      maxNetworkFailures: 20,
      ...options,
    };
  }

  /**
   * The in-flight window in use: what the rate needs at the observed answer time (twice the smoothed latency,
   * plus 20 ms), at most `window`. Against a slow API (Meta answers in a few hundred ms) it opens up; against a
   * fast one it stays small, so that a pause of the receiver never leaves a big bunch of requests queued to
   * arrive at once.
   */
  private get window(): number {
    const needed = Math.ceil((this.o.pacer.rate * (2 * this.latency + 20)) / 1000) + 2;
    return Math.min(this.o.window, Math.max(4, needed));
  }

  private get batchMin(): number {
    return Math.max(1, Math.floor(this.window / 4));
  }

  /** Wakes the loop: new rows were ingested, or something else changed. */
  notify(): void {
    this.dryUntil = 0;
    const w = this.waker;
    this.waker = null;
    w?.();
  }

  /** Number of rows planned or sent without an answer. */
  get outstanding(): number {
    return this.inFlight + this.planned.length;
  }

  async run(): Promise<EngineResult> {
    const { clock } = this.o;
    this.lastHeartbeat = clock.now();
    const onAbort = () => this.notify();
    this.o.signal.addEventListener('abort', onAbort);
    try {
      for (;;) {
        const now = clock.now();
        if (this.commitFailure && !this.stopReason) {
          this.stopReason = {
            kind: 'input',
            code: null,
            title: 'Ledger write failed',
            message: this.commitFailure.message,
            hint: 'Check the disk (space, permissions) of the profile database, then run the same command again.',
          };
        }
        if (this.stopReason || this.leaseLost || this.o.signal.aborted) {
          // rows marked in_flight but not sent yet go back to pending
          for (const p of this.planned)
            this.update(p.work.row.row, 'pending', 'not sent: the run stopped before it left', now);
          this.planned = [];
          if (this.inFlight === 0 && this.pendingCommits === 0) {
            await this.finalFlush(now);
            break;
          }
          await this.wait(Number.POSITIVE_INFINITY);
          continue;
        }
        this.dispatchDue(now);
        this.refill(now);
        const fresh = this.plan(now);
        const heartbeatDue = now - this.lastHeartbeat >= this.o.heartbeatMs;
        const flushDue =
          this.updates.length > 0 &&
          (now - this.firstUpdateAt >= this.o.flushMs || this.updates.length >= 1024);
        if (fresh.length > 0 || flushDue || heartbeatDue) {
          if (!this.flush(now, heartbeatDue, fresh)) continue; // lease lost: stop path
        }
        this.dispatchDue(clock.now());
        if (this.finished()) {
          await this.finalFlush(clock.now());
          break;
        }
        await this.wait(this.nextWake(clock.now()));
      }
    } finally {
      this.o.signal.removeEventListener('abort', onAbort);
      for (const ac of this.timers) ac.abort(TIMER_DONE);
      this.timers.clear();
    }
    return {
      stop: this.stopReason,
      cancelled: this.o.signal.aborted && !this.stopReason,
      leaseLost: this.leaseLost,
      requests: this.requests,
      commits: this.commits,
      firstRequestAt: this.firstRequestAt,
    };
  }

  private finished(): boolean {
    return (
      this.drained &&
      this.pendingCommits === 0 &&
      this.head >= this.queue.length &&
      this.retries.length === 0 &&
      this.planned.length === 0 &&
      this.inFlight === 0
    );
  }

  private refill(now: number): void {
    const available = this.queue.length - this.head;
    if (this.drained || available >= this.window * 2 || now < this.dryUntil) return;
    const limit = Math.max(256, this.window * 4);
    const doneBefore = this.o.ingestDone();
    const rows = this.o.ledger.pendingAfter(this.o.cid, this.cursor, limit);
    if (this.head > 4096) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    for (const row of rows) {
      this.queue.push({ row, notBefore: 0, throttled: 0, transient: 0, pairFailures: 0 });
      this.cursor = row.row;
    }
    if (rows.length < limit) {
      if (doneBefore) this.drained = true;
      else this.dryUntil = now + 20; // the CSV is still being read; notify() looks again sooner
    }
  }

  /** The next candidate due by `until` (retries first), without taking it. */
  private peek(until: number): { work: Work; from: 'retry' | 'queue' } | null {
    const r = this.retries[0];
    if (r && r.notBefore <= until) return { work: r, from: 'retry' };
    const q = this.queue[this.head];
    if (q) return { work: q, from: 'queue' };
    return null;
  }

  private take(from: 'retry' | 'queue'): void {
    if (from === 'retry') this.retries.shift();
    else this.head++;
  }

  private requeue(work: Work): void {
    // sorted by notBefore (stable)
    let lo = 0;
    let hi = this.retries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.retries[mid]!.notBefore <= work.notBefore) lo = mid + 1;
      else hi = mid;
    }
    this.retries.splice(lo, 0, work);
  }

  private plan(now: number): Planned[] {
    const out: Planned[] = [];
    const window = this.window;
    const free = window - this.outstanding;
    if (free <= 0) {
      // the API is slower than the rate: no credit builds up meanwhile (no burst when it answers again)
      this.o.pacer.idle(now);
      return out;
    }
    // paced: the next batch (the next horizonMs of departures) is planned once the last one has (nearly) left
    const lastAt = this.lastPlannedAt();
    if (this.planned.length > 0 && lastAt > now + this.o.commitLeadMs) return out;
    // window-bound (pacing off): gather completions into bigger batches, one commit each
    if (free < this.batchMin && this.inFlight > 0 && now < this.lastPlanAt + this.o.gatherMs) return out;
    const until = now + this.o.commitLeadMs + this.o.horizonMs + 1e-6;
    while (this.outstanding + out.length < window) {
      const c = this.peek(until);
      if (!c) {
        if (out.length === 0 && this.outstanding === 0) this.o.pacer.idle(now);
        break;
      }
      const slot = this.o.pacer.nextAt(now);
      if (slot > until) break;
      const { work } = c;
      const pairAt = this.o.pair.earliest(work.row.recipient, now);
      const at = Math.max(slot, work.notBefore, pairAt);
      if (at > until) {
        // this recipient must wait (pair limit or backoff): park it, keep the slot for the next row
        this.take(c.from);
        work.notBefore = at;
        this.requeue(work);
        continue;
      }
      this.take(c.from);
      const blocked = this.o.blocked?.(work.row.recipient) ?? null;
      if (blocked) {
        this.update(work.row.row, 'skipped', blocked, now);
        this.emit(work, 'skipped', { reason: blocked });
        continue;
      }
      this.o.pacer.take(at);
      this.o.pair.record(work.row.recipient, at);
      work.sentAt = at;
      out.push({ work, at, ready: false });
    }
    if (out.length > 0) this.lastPlanAt = now;
    return out;
  }

  /**
   * One group commit: the outcomes since the last one, the in_flight marks of `fresh`, the heartbeat. `fresh` rows
   * join the planned ones; they may leave once the commit is confirmed (at once when it is synchronous).
   * Returns false when the lease was lost.
   */
  private flush(now: number, heartbeat: boolean, fresh: Planned[] = []): boolean {
    if (this.updates.length === 0 && fresh.length === 0 && !heartbeat) return true;
    const batch: CommitBatch = {
      updates: this.updates,
      intents: fresh.map((p) => p.work.row.row),
      ...(heartbeat ? { heartbeatOwner: this.o.leaseOwner } : {}),
    };
    this.updates = [];
    this.commits++;
    if (heartbeat) this.lastHeartbeat = now;
    for (const p of fresh) this.planned.push(p);
    const result = this.o.committer
      ? this.o.committer.commit(batch, now)
      : this.o.ledger.commit(this.o.cid, batch, now);
    if (typeof result === 'boolean') return this.committed(result, fresh);
    this.pendingCommits++;
    result.then(
      (ok) => {
        this.pendingCommits--;
        this.committed(ok, fresh);
        this.notify();
      },
      (error: unknown) => {
        this.pendingCommits--;
        this.commitFailure ??= error instanceof Error ? error : new Error(String(error));
        this.notify();
      },
    );
    return true;
  }

  private committed(ok: boolean, fresh: readonly Planned[]): boolean {
    if (!ok) {
      // another run owns the campaign now: the rows just planned will not leave (their marks were not written)
      this.leaseLost = true;
      this.planned = this.planned.filter((p) => !fresh.includes(p));
      return false;
    }
    for (const p of fresh) {
      p.ready = true;
      p.work.row.attempts++;
    }
    return true;
  }

  /** The last commit of the run (outcomes), confirmed before returning. */
  private async finalFlush(now: number): Promise<void> {
    this.flush(now, false);
    while (this.pendingCommits > 0) await this.wait(Number.POSITIVE_INFINITY);
  }

  private dispatchDue(now: number): void {
    // compacted in place: this runs after every answer, with hundreds of rows planned at high rates
    const planned = this.planned;
    let kept = 0;
    for (let i = 0; i < planned.length; i++) {
      const p = planned[i]!;
      if (p.ready && p.at <= now + 0.5) {
        // late after a stall? never let it leave bunched with the next ones
        const admit = this.o.pacer.admitAt(now);
        if (admit <= now + 0.5) {
          p.work.seq = this.o.pacer.sent(now);
          this.dispatch(p.work, now);
          continue;
        }
        p.at = admit;
      }
      planned[kept++] = p;
    }
    planned.length = kept;
  }

  private dispatch(work: Work, now: number): void {
    work.leftAt = now;
    this.inFlight++;
    this.requests++;
    this.firstRequestAt ??= now;
    let sending: Promise<SendResult>;
    try {
      sending = this.o.transport.send(work.row);
    } catch (error) {
      sending = Promise.resolve({ kind: 'error', error });
    }
    sending.then(
      (r) => this.settle(work, r),
      (error: unknown) => this.settle(work, { kind: 'error', error }),
    );
  }

  private settle(work: Work, result: SendResult): void {
    this.inFlight--;
    const now = this.o.clock.now();
    if (work.leftAt !== undefined) {
      const took = now - work.leftAt;
      this.latency += 0.2 * (took - this.latency);
      // the fastest recent answers tell how long a request takes when the API is not paused
      this.fastest = Math.min(took, this.fastest + 0.01 * Math.max(0, this.latency - this.fastest));
      if (work.seq === 0) {
        // the first request also opened a connection and met cold code at both ends: how long it took to reach
        // the API is unknown, so it counts as arriving just before its answer
        this.o.pacer.arrived(0, now - ARRIVAL_SLACK_MS);
      } else if (work.seq !== undefined && took > this.fastest + ARRIVAL_SLACK_MS) {
        // a pause of the API (not a few ms of our own event loop noticing the answer late): count the request at
        // its estimated arrival
        this.o.pacer.arrived(work.seq, now - this.fastest - ARRIVAL_SLACK_MS);
      }
    }
    if (result.kind === 'accepted') {
      this.networkFailures = 0;
      this.recordHealth(now, false);
      this.update(work.row.row, 'sent', null, now, {
        wamid: result.wamid,
        messageStatus: result.messageStatus,
      });
      this.emit(work, 'sent', { wamid: result.wamid });
    } else {
      this.onError(work, classify(result.error), now);
    }
    this.notify();
  }

  /** Answers of the last one to two seconds: ok vs refused with a temporary error (for the global pause). */
  private health = { start: 0, ok: 0, bad: 0, prevOk: 0, prevBad: 0 };

  private recordHealth(now: number, bad: boolean): void {
    const h = this.health;
    if (now - h.start >= 1000) {
      const recent = now - h.start < 2000;
      h.prevOk = recent ? h.ok : 0;
      h.prevBad = recent ? h.bad : 0;
      h.ok = 0;
      h.bad = 0;
      h.start = now;
    }
    if (bad) h.bad++;
    else h.ok++;
  }

  /** Most recent answers are temporary errors: pause everything rather than hammer a struggling API. */
  private unhealthy(): boolean {
    const h = this.health;
    const bad = h.bad + h.prevBad;
    const total = bad + h.ok + h.prevOk;
    return total >= 5 && bad / total > 0.5;
  }

  private onError(work: Work, v: Verdict, now: number): void {
    const row = work.row.row;
    const temporary = v.type === 'retry' && (v.scope === 'transient' || v.scope === 'network');
    this.recordHealth(now, temporary);
    if (v.type !== 'retry' || v.scope !== 'network') this.networkFailures = 0;
    switch (v.type) {
      case 'failed':
        this.update(row, 'failed', v.message, now, { errorCode: v.code, errorTitle: v.title });
        this.emit(work, 'failed', { reason: v.message, errorCode: v.code, errorTitle: v.title });
        return;
      case 'unknown':
        this.update(row, 'unknown', v.message, now);
        this.emit(work, 'unknown', { reason: v.message });
        return;
      case 'stop':
        this.stopReason ??= v.reason;
        this.update(row, 'pending', `not sent: ${v.reason.title}`, now);
        return;
      case 'retry':
        // refused: that attempt does not count toward the recipient's pair limit
        if (work.sentAt !== undefined && v.scope !== 'pair')
          this.o.pair.forget(work.row.recipient, work.sentAt);
        break;
    }
    const fail = (code: number | null, title: string, why: string) => {
      this.update(row, 'failed', why, now, { errorCode: code, errorTitle: title });
      this.emit(work, 'failed', { reason: why, errorCode: code, errorTitle: title });
    };
    switch (v.scope) {
      case 'throttle': {
        this.o.pacer.throttled(now, v.retryAfterMs);
        work.throttled++;
        if (work.throttled > this.o.maxThrottleRetries) {
          fail(v.code, v.title, `still throttled after ${work.throttled} attempts`);
          return;
        }
        work.notBefore = this.o.pacer.pausedUntil;
        this.o.onNotice?.({
          type: 'throttled',
          row,
          code: v.code,
          title: v.title,
          rate: this.o.pacer.rate,
          waitMs: Math.max(0, this.o.pacer.pausedUntil - now),
        });
        break;
      }
      case 'pair': {
        const wait = pairBackoffMs(work.pairFailures);
        work.pairFailures++;
        if (work.pairFailures > this.o.maxPairRetries) {
          fail(v.code, v.title, `pair rate limit still hit after ${work.pairFailures} attempts`);
          return;
        }
        work.notBefore = now + wait;
        this.o.onNotice?.({ type: 'pair', row, code: v.code, title: v.title, waitMs: wait });
        break;
      }
      case 'transient': {
        work.transient++;
        if (work.transient > this.o.maxTransientRetries) {
          fail(v.code, v.title, `refused ${work.transient} times with a temporary error`);
          return;
        }
        // this row waits (1, 2, 4 … s); everything pauses only when most answers are errors, or on 131057
        const wait = v.code === 131057 ? v.pauseMs : v.pauseMs * 2 ** (work.transient - 1);
        work.notBefore = now + wait;
        if (v.code === 131057 || this.unhealthy()) this.o.pacer.pause(now, v.pauseMs);
        this.o.onNotice?.({ type: 'transient', row, code: v.code, title: v.title, waitMs: wait });
        break;
      }
      case 'network': {
        this.networkFailures++;
        if (this.networkFailures >= this.o.maxNetworkFailures) {
          this.stopReason ??= {
            kind: 'network',
            code: null,
            title: 'Network unavailable',
            message: `${this.networkFailures} requests in a row could not reach the API: ${v.title}`,
            hint: 'Check the network and the Graph URL, then run the same command again to resume.',
          };
          this.update(row, 'pending', 'not sent: network unavailable', now);
          return;
        }
        const wait = Math.min(30_000, 250 * 2 ** Math.min(this.networkFailures, 8));
        if (this.networkFailures >= 3 || this.unhealthy()) this.o.pacer.pause(now, wait);
        work.notBefore = now + wait;
        this.o.onNotice?.({ type: 'network', row, code: null, title: v.title, waitMs: wait });
        break;
      }
    }
    // back to pending in the ledger; the row waits in memory until notBefore
    this.update(row, 'pending', `retry: ${v.code ?? ''} ${v.title}`.trim(), now);
    this.requeue(work);
  }

  private update(
    row: number,
    state: RowState,
    reason: string | null,
    now: number,
    extra: {
      wamid?: string;
      messageStatus?: string | null;
      errorCode?: number | null;
      errorTitle?: string | null;
    } = {},
  ): void {
    if (this.updates.length === 0) this.firstUpdateAt = now;
    this.updates.push({
      row,
      state,
      reason,
      errorCode: extra.errorCode ?? null,
      errorTitle: extra.errorTitle ?? null,
      wamid: extra.wamid ?? null,
      messageStatus: extra.messageStatus ?? null,
    });
  }

  private emit(
    work: Work,
    state: EngineOutcome['state'],
    extra: { reason?: string; errorCode?: number | null; errorTitle?: string | null; wamid?: string },
  ): void {
    this.o.onOutcome?.({
      row: work.row.row,
      line: work.row.line,
      recipient: work.row.recipient,
      state,
      reason: extra.reason ?? null,
      errorCode: extra.errorCode ?? null,
      errorTitle: extra.errorTitle ?? null,
      wamid: extra.wamid ?? null,
      attempts: work.row.attempts,
    });
  }

  private lastPlannedAt(): number {
    let last = Number.NEGATIVE_INFINITY;
    for (const p of this.planned) last = Math.max(last, p.at);
    return last;
  }

  private nextWake(now: number): number {
    let at = Number.POSITIVE_INFINITY;
    for (const p of this.planned) if (p.ready) at = Math.min(at, p.at);
    // the next batch is planned commitLeadMs before the last planned departure
    if (this.planned.length > 0 && this.o.commitLeadMs > 0)
      at = Math.min(at, this.lastPlannedAt() - this.o.commitLeadMs);
    if (this.updates.length > 0) at = Math.min(at, this.firstUpdateAt + this.o.flushMs);
    at = Math.min(at, this.lastHeartbeat + this.o.heartbeatMs);
    const free = this.window - this.outstanding;
    const hasWork = this.head < this.queue.length || this.retries.length > 0;
    if (free > 0 && hasWork && this.planned.length === 0) {
      if (free < this.batchMin && this.inFlight > 0) at = Math.min(at, this.lastPlanAt + this.o.gatherMs);
      else {
        // plan (and commit) just before the next departure is due
        const lead = PLAN_LEAD_MS + this.o.commitLeadMs;
        let next = this.o.pacer.nextAt(now) - lead;
        const r = this.retries[0];
        if (this.head >= this.queue.length && r) next = Math.max(next, r.notBefore - lead);
        at = Math.min(at, Math.max(next, now + 0.001));
      }
    }
    if (!hasWork && !this.drained) at = Math.min(at, Math.max(now, this.dryUntil));
    return at;
  }

  /**
   * Sleeps until `until`, or until notify(). Timers are not cancelled (that costs an AbortController and an
   * AbortError per wake-up, thousands per second when the window is the limit): a timer armed for an earlier or
   * equal deadline is reused, and a stale timer that fires later is a no-op.
   */
  private wait(until: number): Promise<void> {
    const now = this.o.clock.now();
    if (until <= now) {
      // nothing to wait for: go round again, but let I/O and timers run now and then
      if (++this.spins < 64) return Promise.resolve();
      this.spins = 0;
      return new Promise<void>((resolve) => setImmediate(resolve));
    }
    this.spins = 0;
    return new Promise<void>((resolve) => {
      this.waker = resolve;
      if (until === Number.POSITIVE_INFINITY) return;
      if (this.timerAt <= until && this.timerAt > now) return; // the armed timer fires first: it wakes us
      const gen = ++this.generation;
      this.timerAt = until;
      const ac = new AbortController();
      this.timers.add(ac);
      this.o.clock.sleep(until - now, ac.signal).then(
        () => {
          this.timers.delete(ac);
          if (gen === this.generation) this.timerAt = Number.POSITIVE_INFINITY;
          const w = this.waker;
          this.waker = null;
          w?.();
        },
        () => this.timers.delete(ac),
      );
    });
  }
}
