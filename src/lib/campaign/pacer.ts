/**
 * Pacing maths for bulk sends, pure and clock-free (every method takes `now`), tested with a fake clock.
 *
 * - Absolute deadlines: message i of an epoch leaves at `epoch + i × interval`, so timer lateness never
 *   accumulates (no drift). The interval is `(1000 + MARGIN_MS) / rate`: `rate` consecutive messages span
 *   1000 + MARGIN_MS ms (mean rate = rate × 1000 / 1005, 0.5 % under the target), which leaves room to catch up
 *   after a stall.
 * - A sliding-window guard: the k-th message never leaves less than 1000 + GUARD_MS ms after the (k − rate)-th,
 *   so catching up never puts more than `rate` messages in any one second, even with GUARD_MS of network
 *   jitter between us and the API's one-second windows.
 * - Bounded catch-up: when the schedule is more than MAX_LAG_MS behind (the window was full, the list was still
 *   being read), the epoch moves forward instead of bursting the backlog.
 * - AIMD on 130429: a throttling answer pauses everything (backoff 0.5 s doubling up to 8 s, or Retry-After) and
 *   halves the rate; each second without throttling then adds 10 % of the target back (gradual return).
 */

/** Spacing margin of the schedule: `rate` messages take 1000 + MARGIN_MS ms. */
export const MARGIN_MS = 5;
/** The sliding-window guard: never more than `rate` messages within 1000 + GUARD_MS ms. */
export const GUARD_MS = 2;
export const MAX_LAG_MS = 100;
const MAX_RING = 100_000;

export interface PacerState {
  target: number;
  current: number;
  pausedUntil: number;
}

export class Pacer {
  readonly target: number;
  private currentRate: number;
  private epoch: number;
  private issued = 0;
  private readonly ring: Float64Array;
  private ringCount = 0;
  private ringPos = 0;
  pausedUntil = 0;
  private lastDecreaseAt = Number.NEGATIVE_INFINITY;
  private lastIncreaseAt = 0;
  private consecutive = 0;
  /** Number of throttling episodes (each halving of the rate). */
  throttleEpisodes = 0;

  constructor(target: number, now: number) {
    if (!(target > 0)) throw new RangeError(`rate must be > 0, got ${target}`);
    this.target = target;
    this.currentRate = target;
    this.epoch = now;
    this.ring = new Float64Array(Math.max(1, Math.min(MAX_RING, Math.ceil(target))));
  }

  get rate(): number {
    return this.currentRate;
  }

  private get interval(): number {
    return (1000 + MARGIN_MS) / this.currentRate;
  }

  private rebase(at: number): void {
    this.epoch = at;
    this.issued = 0;
  }

  /** The earliest time the next message may leave. */
  nextAt(now: number): number {
    this.recover(now);
    let scheduled = this.epoch + this.issued * this.interval;
    if (scheduled < now - MAX_LAG_MS) {
      this.rebase(now - MAX_LAG_MS);
      scheduled = this.epoch;
    }
    let at = Math.max(scheduled, this.pausedUntil);
    // the k-th most recent departure must be at least 1000 + GUARD_MS ms before this one
    const k = Math.min(Math.ceil(this.currentRate), this.ring.length);
    if (this.ringCount >= k) {
      const kth = this.ring[(this.ringPos - k + this.ring.length) % this.ring.length]!;
      at = Math.max(at, kth + 1000 + GUARD_MS);
    }
    return at;
  }

  /** Records that a message leaves at `at` (a time returned by nextAt, or later). */
  take(at: number): void {
    this.ring[this.ringPos] = at;
    this.ringPos = (this.ringPos + 1) % this.ring.length;
    if (this.ringCount < this.ring.length) this.ringCount++;
    this.issued++;
  }

  /**
   * A throttling answer (130429 and friends). Answers to requests that were already in flight when the first one
   * came back belong to the same episode and change nothing.
   */
  throttled(now: number, retryAfterMs?: number): void {
    if (now < this.lastDecreaseAt + 1000) return;
    this.throttleEpisodes++;
    const backoff = Math.min(8000, 500 * 2 ** Math.min(this.consecutive, 10));
    this.consecutive++;
    const pause = Math.max(backoff, retryAfterMs ?? 0);
    this.currentRate = Math.max(Math.min(this.target, 1), this.currentRate / 2, this.target * 0.05);
    this.pausedUntil = Math.max(this.pausedUntil, now + pause);
    this.lastDecreaseAt = now;
    this.lastIncreaseAt = this.pausedUntil;
    this.rebase(this.pausedUntil);
  }

  /** A pause without a rate decrease (network outage, maintenance mode). */
  pause(now: number, ms: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, now + ms);
    this.rebase(this.pausedUntil);
  }

  private recover(now: number): void {
    if (now < this.pausedUntil) return;
    if (this.currentRate < this.target && now - this.lastIncreaseAt >= 1000) {
      const next = this.epoch + this.issued * this.interval;
      this.currentRate = Math.min(this.target, this.currentRate + this.target * 0.1);
      this.lastIncreaseAt = now;
      this.rebase(Math.max(next, now - MAX_LAG_MS));
    }
    if (this.consecutive > 0 && now - this.lastDecreaseAt > 10_000 && this.currentRate >= this.target) {
      this.consecutive = 0;
    }
  }

  state(): PacerState {
    return { target: this.target, current: this.currentRate, pausedUntil: this.pausedUntil };
  }
}

/** One message every 6 s to the same recipient (meta-cloud-api.md §4.2). */
export const PAIR_INTERVAL_MS = 6000;

/** Remembers recent departures per recipient, bounded to the last PAIR_INTERVAL_MS. */
export class PairLimiter {
  private readonly last = new Map<string, number>();
  private readonly fifo: { recipient: string; at: number }[] = [];
  private head = 0;

  constructor(private readonly intervalMs = PAIR_INTERVAL_MS) {}

  /** The earliest time a message to `recipient` may leave. */
  earliest(recipient: string, now: number): number {
    this.prune(now);
    const last = this.last.get(recipient);
    return last === undefined ? now : Math.max(now, last + this.intervalMs);
  }

  record(recipient: string, at: number): void {
    this.last.set(recipient, at);
    this.fifo.push({ recipient, at });
  }

  /** The message that left at `at` was certainly not accepted (throttled, refused): it does not count. */
  forget(recipient: string, at: number): void {
    if (this.last.get(recipient) === at) this.last.delete(recipient);
  }

  get size(): number {
    return this.last.size;
  }

  private prune(now: number): void {
    while (this.head < this.fifo.length && this.fifo[this.head]!.at + this.intervalMs <= now) {
      const { recipient, at } = this.fifo[this.head]!;
      if (this.last.get(recipient) === at) this.last.delete(recipient);
      this.head++;
    }
    if (this.head > 1024 && this.head * 2 > this.fifo.length) {
      this.fifo.splice(0, this.head);
      this.head = 0;
    }
  }
}

/** Per-recipient backoff after 131056: 4^n seconds (n = 0, 1, 2 …), at least the pair interval. */
export function pairBackoffMs(failures: number): number {
  return Math.max(PAIR_INTERVAL_MS, 4 ** failures * 1000);
}
