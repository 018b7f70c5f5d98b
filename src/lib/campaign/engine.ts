import type { Clock } from '../clock.js';
import { classify, type Verdict } from './classify.js';
import { GroupCommit } from './engine/commits.js';
import { RetryPolicy } from './engine/retries.js';
import { Sleeper } from './engine/sleeper.js';
import { RowSupply, type Work } from './engine/supply.js';
import { InFlightWindow } from './engine/window.js';
import type { Ledger, PendingRow } from './ledger.js';
import type { Pacer, PairLimiter } from './pacer.js';
import type { RowOutcome, RowState, StopReason } from './types.js';
import type { Committer } from './writer.js';

/**
 * The sending loop of a campaign: the coordinator of its parts, each owning one concern:
 * - pacer.ts: when the next message may leave (absolute deadlines, the sliding-window guard, the rate the API
 *   accepts: engine/adaptive-rate.ts) and the pair limiter;
 * - engine/window.ts: how many requests may be in flight (driven by the answer times);
 * - engine/commits.ts: the group commits (outcomes, in_flight marks, the lease's heartbeat) and when they are due;
 * - engine/retries.ts: per-row retry counters and delays (throttling, pair limit, temporary errors, network).
 *
 * One loop plans which rows leave next (pacing, pair limiter, in-flight window), writes their `in_flight` marks
 * in ONE transaction together with the outcomes that came back since the last one (group commit, fsync'ed:
 * see ledger.ts), and only after that COMMIT lets the requests leave, each at its absolute deadline. So:
 * - a request never leaves before the ledger says it may have left;
 * - at most `window` rows are `in_flight` at any time: after a crash, at most that many rows are unknown;
 * - the database sees one transaction per few milliseconds, not one per message.
 */

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
  /**
   * 'throughput': the rate the sender settled on changed (the API accepts less than the target, or the limit
   * lifted); it is about the run, not a row (row 0).
   */
  type: 'throttled' | 'pair' | 'transient' | 'network' | 'throughput';
  row: number;
  code: number | null;
  title: string;
  /** For throttling and throughput: the sender's rate after the change. */
  rate?: number;
  waitMs?: number;
  /** For throttling and throughput: the target (the ceiling: --rate or the number's throughput). */
  target?: number;
  /**
   * For throttling and throughput: about the highest rate the API accepted (msg/s), or null when not known yet;
   * equal to the target when it accepts everything again.
   */
  allowed?: number | null;
  /** For throttling and throughput: the lowest rate the API refused, or null. */
  refusedAbove?: number | null;
  /** For throttling: every request is refused at the moment (a storm), not only those above a limit. */
  storm?: boolean;
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
  /** Times the loop went round: it sleeps until something is due, so a few per message, not a busy spin. */
  loops: number;
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
  private readonly inFlightWindow: InFlightWindow;
  private readonly commits: GroupCommit;
  private readonly retryPolicy: RetryPolicy;
  private readonly supply: RowSupply;
  private planned: Planned[] = [];
  private inFlight = 0;
  private lastPlanAt = Number.NEGATIVE_INFINITY;
  private stopReason: StopReason | null = null;
  private leaseLost = false;
  private requests = 0;
  private loops = 0;
  private firstRequestAt: number | null = null;
  private readonly sleeper: Sleeper;
  /** The throughput last reported (rate, refused rate), and when. */
  private reported = { rate: 0, refused: null as number | null, at: Number.NEGATIVE_INFINITY };
  private lastThrottle: { code: number; title: string } | null = null;

  constructor(options: EngineOptions) {
    this.o = {
      // at high rates plan (and commit) 20 ms of departures at a time, else 10 ms
      horizonMs: options.pacer.target >= 400 ? 20 : 10,
      flushMs: 100,
      // window-bound (pacing off): 5 ms made a third more commits, each with its fsync, for no more sends (we measured)
      gatherMs: 10,
      heartbeatMs: 2000,
      commitLeadMs: options.committer ? 15 : 0,
      maxThrottleRetries: 30,
      maxTransientRetries: 5,
      maxPairRetries: 5,
      maxNetworkFailures: 20,
      ...options,
    };
    this.reported.rate = options.pacer.target;
    this.inFlightWindow = new InFlightWindow(this.o.window);
    this.commits = new GroupCommit(
      {
        ledger: this.o.ledger,
        cid: this.o.cid,
        leaseOwner: this.o.leaseOwner,
        committer: this.o.committer ?? null,
        flushMs: this.o.flushMs,
        heartbeatMs: this.o.heartbeatMs,
      },
      this.o.clock.now(),
    );
    this.retryPolicy = new RetryPolicy(this.o);
    this.supply = new RowSupply(this.o.ledger, this.o.cid, this.o.ingestDone);
    this.sleeper = new Sleeper(this.o.clock);
  }

  /** The in-flight window in use (see engine/window.ts). */
  private get window(): number {
    return this.inFlightWindow.size(this.o.pacer.rate);
  }

  private get batchMin(): number {
    return this.inFlightWindow.batchMin(this.o.pacer.rate);
  }

  /** Wakes the loop: new rows were ingested, or something else changed. */
  notify(): void {
    this.supply.wake();
    this.sleeper.wake();
  }

  /** Number of rows planned or sent without an answer. */
  get outstanding(): number {
    return this.inFlight + this.planned.length;
  }

  async run(): Promise<EngineResult> {
    const { clock } = this.o;
    this.commits.started(clock.now());
    const onAbort = () => this.notify();
    this.o.signal.addEventListener('abort', onAbort);
    try {
      for (;;) {
        this.loops++;
        const now = clock.now();
        if (this.commits.failure && !this.stopReason) {
          this.stopReason = {
            kind: 'input',
            code: null,
            title: 'Ledger write failed',
            message: this.commits.failure.message,
            hint: 'Check the disk (space, permissions) of the profile database, then run the same command again.',
          };
        }
        if (this.stopReason || this.leaseLost || this.o.signal.aborted) {
          // rows marked in_flight but not sent yet go back to pending
          for (const p of this.planned)
            this.update(p.work.row.row, 'pending', 'not sent: the run stopped before it left', now);
          this.planned = [];
          if (this.inFlight === 0 && this.commits.pending === 0) {
            await this.finalFlush(now);
            break;
          }
          await this.wait(Number.POSITIVE_INFINITY);
          continue;
        }
        this.dispatchDue(now);
        this.refill(now);
        const fresh = this.plan(now);
        this.reportThroughput(now);
        const heartbeatDue = this.commits.heartbeatDue(now);
        const flushDue = this.commits.flushDue(now);
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
      this.sleeper.close();
    }
    return {
      stop: this.stopReason,
      cancelled: this.o.signal.aborted && !this.stopReason,
      leaseLost: this.leaseLost,
      requests: this.requests,
      commits: this.commits.count,
      firstRequestAt: this.firstRequestAt,
      loops: this.loops,
    };
  }

  private finished(): boolean {
    return (
      this.supply.exhausted && this.commits.pending === 0 && this.planned.length === 0 && this.inFlight === 0
    );
  }

  /** Pending rows are read ahead: about one window (see engine/supply.ts). */
  private refill(now: number): void {
    this.supply.refill(now, this.window);
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
      const c = this.supply.peek(until);
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
        this.supply.take(c.from);
        work.notBefore = at;
        this.supply.requeue(work);
        continue;
      }
      this.supply.take(c.from);
      const blocked = this.o.blocked?.(work.row.recipient) ?? null;
      if (blocked) {
        this.update(work.row.row, 'skipped', blocked, now);
        this.emit(work, 'skipped', { reason: blocked });
        continue;
      }
      this.o.pacer.take(at);
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
    for (const p of fresh) this.planned.push(p);
    let sync = true;
    let lost = false;
    this.commits.write(
      now,
      heartbeat,
      fresh.map((p) => p.work.row.row),
      (ok) => {
        if (ok === 'failed') {
          this.notify();
          return;
        }
        if (!this.committed(ok, fresh)) lost = true;
        if (!sync) this.notify();
      },
    );
    sync = false;
    return !lost;
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
    while (this.commits.pending > 0) await this.wait(Number.POSITIVE_INFINITY);
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
      const arrival = this.inFlightWindow.answered(now - work.leftAt, now, work.seq === 0);
      // a pause of the API: the pacer's guard counts the request at its estimated arrival
      if (arrival !== null && work.seq !== undefined) this.o.pacer.arrived(work.seq, arrival);
    }
    if (result.kind === 'accepted') {
      this.retryPolicy.accepted(now);
      this.o.pacer.accepted(now);
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

  private onError(work: Work, v: Verdict, now: number): void {
    const row = work.row.row;
    this.retryPolicy.refused(now, v);
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
        // The ledger holds each recipient once per campaign: only a row tried again can meet the pair limit, so only
        // its departure is remembered, and only when the API counted it (a pair-limit answer; any other refusal
        // does not count toward the recipient's limit). Remembering every departure kept tens of thousands of
        // recipients alive for 6 s at high rates, all of them promoted to the old generation.
        if (work.sentAt !== undefined && v.scope === 'pair')
          this.o.pair.record(work.row.recipient, work.sentAt);
        break;
    }
    const pacer = this.o.pacer;
    let kind: ReturnType<Pacer['throttled']> | null = null;
    if (v.scope === 'throttle') {
      kind = pacer.throttled(now, v.retryAfterMs, work.leftAt);
      this.lastThrottle = { code: v.code, title: v.title };
    }
    const plan = this.retryPolicy.plan(work.retries, v, now, pacer.pausedUntil);
    if (plan.kind === 'fail') {
      this.update(row, 'failed', plan.reason, now, { errorCode: plan.code, errorTitle: plan.title });
      this.emit(work, 'failed', { reason: plan.reason, errorCode: plan.code, errorTitle: plan.title });
      return;
    }
    if (plan.kind === 'stop') {
      this.stopReason ??= plan.reason;
      this.update(row, 'pending', 'not sent: network unavailable', now);
      return;
    }
    if (plan.pauseMs > 0) pacer.pause(now, plan.pauseMs);
    work.notBefore = plan.notBefore;
    if (v.scope === 'throttle') {
      // the answers to requests that left before the sender reacted change nothing: no notice for them
      if (kind !== 'same') {
        const a = pacer.state().adaptive;
        this.o.onNotice?.({
          type: 'throttled',
          row,
          code: v.code,
          title: v.title,
          rate: pacer.rate,
          waitMs: plan.waitMs,
          target: pacer.target,
          allowed: a.good,
          refusedAbove: a.bad,
          storm: a.storm,
        });
      }
    } else {
      this.o.onNotice?.({
        type: v.scope,
        row,
        code: v.code,
        title: v.title,
        waitMs: plan.waitMs,
      });
    }
    // back to pending in the ledger; the row waits in memory until notBefore
    this.update(row, 'pending', `retry: ${v.code ?? ''} ${v.title}`.trim(), now);
    this.supply.requeue(work);
  }

  /**
   * Once the rate the sender settled on moves (a limit found, a step back toward the target, the target reached
   * again): a 'throughput' notice, at most one a second.
   */
  private reportThroughput(now: number): void {
    if (this.lastThrottle === null || now - this.reported.at < 1000) return;
    const pacer = this.o.pacer;
    const a = pacer.state().adaptive;
    const rate = pacer.rate;
    if (Math.abs(rate - this.reported.rate) < 0.01 * pacer.target && a.bad === this.reported.refused) return;
    this.reported = { rate, refused: a.bad, at: now };
    this.o.onNotice?.({
      type: 'throughput',
      row: 0,
      code: this.lastThrottle.code,
      title: this.lastThrottle.title,
      rate,
      target: pacer.target,
      allowed: rate >= pacer.target ? pacer.target : a.good,
      refusedAbove: a.bad,
    });
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
    this.commits.record(
      {
        row,
        state,
        reason,
        errorCode: extra.errorCode ?? null,
        errorTitle: extra.errorTitle ?? null,
        wamid: extra.wamid ?? null,
        messageStatus: extra.messageStatus ?? null,
      },
      now,
    );
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
    at = Math.min(at, this.commits.nextDue());
    const free = this.window - this.outstanding;
    const hasWork = this.supply.hasWork;
    // a full window waits for an answer (notify); otherwise the next batch is planned once every condition of
    // plan() holds, not before: waking earlier would only spin
    if (free > 0 && hasWork) {
      const lead = PLAN_LEAD_MS + this.o.commitLeadMs;
      let next = this.o.pacer.nextAt(now) - lead;
      const retryAt = this.supply.onlyRetriesFrom;
      if (retryAt !== null) next = Math.max(next, retryAt - lead);
      if (this.planned.length > 0) next = Math.max(next, this.lastPlannedAt() - this.o.commitLeadMs);
      if (free < this.batchMin && this.inFlight > 0) next = Math.max(next, this.lastPlanAt + this.o.gatherMs);
      at = Math.min(at, Math.max(next, now + 0.001));
    }
    if (!hasWork && !this.supply.drained) at = Math.min(at, Math.max(now, this.supply.dryUntil));
    return at;
  }

  private wait(until: number): Promise<void> {
    return this.sleeper.wait(until);
  }
}
