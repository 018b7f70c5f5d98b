/**
 * Pacing maths for bulk sends, pure and clock-free (every method takes `now`), tested with a fake clock.
 *
 * - Absolute deadlines: message i of an epoch leaves at `epoch + i × interval`, so timer lateness never
 *   accumulates (no drift). The interval is `(1000 + margin) / rate`: `rate` consecutive messages span
 *   1000 + margin ms, so that up to that much jitter between us and the API never puts `rate + 1` messages in
 *   one of its one-second windows. Below 500 msg/s one extra message is already more than 1 % of the rate:
 *   margin 8 ms (mean 0.8 % under the target); from 500 msg/s on, several messages of jitter cost less than 1 %:
 *   margin 5 ms (0.5 % under), so that a pause of up to 5 ms at the API (requests then processed at once) still
 *   fits in its one-second windows.
 * - A sliding-window guard: the k-th message never leaves less than 1000 + guard ms after the (k − rate)-th,
 *   so catching up never puts more than `rate` messages in any one second, even with that much network
 *   jitter between us and the API's one-second windows. It works on actual departures (a message delayed by a
 *   stall does not leave bunched with the next ones), moved to the estimated arrival when an answer shows that
 *   the API paused (requests queued there arrive at once).
 * - Bounded catch-up: when the schedule is more than MAX_LAG_MS behind (a stall), the epoch moves forward instead
 *   of bursting the backlog; no credit at all builds up while there is nothing to send or the API is slow.
 * - Slow start (200 msg/s and more): the first 200 ms go from 60 % of the rate to all of it, while connections
 *   open and code warms up at both ends (a cold start otherwise arrives bunched).
 * - The target is a ceiling, not a fact: on 130429 the rate the API actually accepts is searched for and followed
 *   (engine/adaptive-rate.ts); the pause after a refusal lasts only as long as needed (Retry-After when given).
 */
import { AdaptiveRate, type AdaptiveState, type ThrottleKind } from './engine/adaptive-rate.js';

/** Spacing margin of the schedule: `rate` messages take 1000 + margin ms. */
export function marginMs(rate: number): number {
  return rate >= 500 ? 5 : 8;
}

/**
 * The sliding-window guard: never more than `rate` departures within 1000 + guard ms. It is 2 ms less than the
 * schedule's margin, so that in steady state it never holds anything back: it only bites when the sender catches
 * up after a stall (otherwise every catch-up burst would come back, held, one second later, and again).
 */
export function guardMs(rate: number): number {
  return marginMs(rate) - 2;
}
export const MAX_LAG_MS = 50;
/** Slow start: the first SLOW_START_MS of a run go from SLOW_START_FROM of the rate to all of it. */
export const SLOW_START_MS = 200;
export const SLOW_START_FROM = 0.6;
/** … only from this rate on: below, a cold start does not bunch anything. */
export const SLOW_START_ABOVE = 200;
const MAX_RING = 100_000;

export interface PacerState {
  target: number;
  current: number;
  pausedUntil: number;
  /** What the sender learnt about the rate the API accepts (engine/adaptive-rate.ts). */
  adaptive: AdaptiveState;
}

export class Pacer {
  readonly target: number;
  /** See marginMs() and guardMs(). */
  readonly margin: number;
  readonly guard: number;
  private currentRate: number;
  private epoch: number;
  private issued = 0;
  private readonly ring: Float64Array;
  private ringCount = 0;
  private ringPos = 0;
  /** Actual departure times (a planned departure can leave late, after a stall of the event loop). */
  private readonly sentRing: Float64Array;
  private sentCount = 0;
  private sentPos = 0;
  /** Departures recorded so far (to know whether a ring slot still holds a given departure). */
  private sentTotal = 0;
  pausedUntil = 0;
  /** First departure (start of the slow start). */
  private startedAt: number | null = null;
  private slowStart: boolean;
  /** The rate the API accepts, searched for below the target. */
  private readonly adaptive: AdaptiveRate;

  constructor(target: number, now: number) {
    if (!(target > 0)) throw new RangeError(`rate must be > 0, got ${target}`);
    this.target = target;
    this.margin = marginMs(target);
    this.guard = guardMs(target);
    this.slowStart = target >= SLOW_START_ABOVE;
    this.currentRate = this.slowStart ? target * SLOW_START_FROM : target;
    this.adaptive = new AdaptiveRate(target, now);
    this.epoch = now;
    this.ring = new Float64Array(Math.max(1, Math.min(MAX_RING, Math.ceil(target))));
    this.sentRing = new Float64Array(this.ring.length);
  }

  get rate(): number {
    return this.currentRate;
  }

  /** Throttling episodes that lowered the rate. */
  get throttleEpisodes(): number {
    return this.adaptive.episodes;
  }

  private get interval(): number {
    return (1000 + this.margin) / this.currentRate;
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
    // the k-th most recent departure must be at least 1000 + guard ms before this one
    const k = Math.min(Math.ceil(this.currentRate), this.ring.length);
    if (this.ringCount >= k) {
      const kth = this.ring[(this.ringPos - k + this.ring.length) % this.ring.length]!;
      at = Math.max(at, kth + 1000 + this.guard);
    }
    return at;
  }

  /**
   * The earliest time a planned message may actually leave: the sliding-window guard applied to the actual
   * departures, so that messages delayed by a stall never leave bunched with the next ones.
   */
  admitAt(now: number): number {
    const k = Math.min(Math.ceil(this.currentRate), this.sentRing.length);
    if (this.sentCount < k) return Math.max(now, this.pausedUntil);
    const kth = this.sentRing[(this.sentPos - k + this.sentRing.length) % this.sentRing.length]!;
    return Math.max(now, this.pausedUntil, kth + 1000 + this.guard);
  }

  /**
   * The answer to departure `seq` shows that it reached the API later than it left (the API paused, then
   * processed a bunch of queued requests at once): the guard counts it at its estimated arrival instead, so that
   * the next departures do not add up with that bunch in the API's one-second windows.
   */
  arrived(seq: number, at: number): void {
    if (seq < this.sentTotal - this.sentCount) return; // no longer in the ring
    const slot = seq % this.sentRing.length;
    if (at > this.sentRing[slot]!) this.sentRing[slot] = at;
  }

  /**
   * Nothing was ready to send at `now` (the list is still being read, every row waits for a retry): no credit
   * accumulates while idle, the schedule starts again from now.
   */
  idle(now: number): void {
    if (this.epoch + this.issued * this.interval < now) this.rebase(now);
  }

  /** Records an actual departure; returns its sequence number (for `arrived`). */
  sent(at: number): number {
    this.sentRing[this.sentPos] = at;
    this.sentPos = (this.sentPos + 1) % this.sentRing.length;
    if (this.sentCount < this.sentRing.length) this.sentCount++;
    return this.sentTotal++;
  }

  /** Records that a message is planned to leave at `at` (a time returned by nextAt, or later). */
  take(at: number): void {
    this.startedAt ??= at;
    this.ring[this.ringPos] = at;
    this.ringPos = (this.ringPos + 1) % this.ring.length;
    if (this.ringCount < this.ring.length) this.ringCount++;
    this.issued++;
  }

  /** An accepted answer (what the API accepts is measured from them). */
  accepted(now: number): void {
    this.adaptive.accepted(now);
  }

  /**
   * A throttling answer (130429 and friends) at `now` to the request that left at `sentAt`. Answers to requests
   * that left before the sender reacted to an earlier one change nothing.
   */
  throttled(now: number, retryAfterMs?: number, sentAt?: number): ThrottleKind {
    const { kind, pauseMs } = this.adaptive.throttled(now, sentAt, retryAfterMs);
    if (kind !== 'same') {
      this.slowStart = false;
      this.currentRate = this.adaptive.rate;
    }
    if (pauseMs > 0) this.pause(now, pauseMs);
    else if (kind !== 'same') this.rebase(Math.max(now, this.pausedUntil));
    return kind;
  }

  /** A pause without a rate decrease (network outage, maintenance mode). */
  pause(now: number, ms: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, now + ms);
    this.rebase(this.pausedUntil);
  }

  private recover(now: number): void {
    if (now < this.pausedUntil) return;
    if (this.slowStart) {
      if (this.startedAt === null) return;
      // slow start: connections are being opened and code is still cold, at both ends
      const share = SLOW_START_FROM + ((1 - SLOW_START_FROM) * (now - this.startedAt)) / SLOW_START_MS;
      const rate = Math.min(this.target, this.target * Math.min(1, share));
      if (rate - this.currentRate >= this.target * 0.05 || rate >= this.target) {
        this.changeRate(rate, now);
        if (rate >= this.target) this.slowStart = false;
      }
      return;
    }
    if (this.adaptive.tick(now)) this.changeRate(this.adaptive.rate, now);
  }

  private changeRate(rate: number, now: number): void {
    const next = this.epoch + this.issued * this.interval;
    this.currentRate = rate;
    this.rebase(Math.max(next, now - MAX_LAG_MS));
  }

  state(): PacerState {
    return {
      target: this.target,
      current: this.currentRate,
      pausedUntil: this.pausedUntil,
      adaptive: this.adaptive.state(),
    };
  }
}

/** One message every 6 s to the same recipient (meta-cloud-api.md §4.2). */
export const PAIR_INTERVAL_MS = 6000;

/**
 * Remembers departures per recipient, bounded to the last PAIR_INTERVAL_MS: those the sending loop records (the
 * engine records only the departures a row may follow with another attempt). Departures sit in a ring of parallel
 * arrays (no object or boxed number per departure) and the map holds each recipient's latest departure as its
 * position in the ring. Departures may be recorded a little out of time order (as their answers come back): one
 * that is already over then waits behind a later one to be dropped, which changes no answer of earliest().
 */
export class PairLimiter {
  private readonly last = new Map<string, number>();
  private recipients: (string | undefined)[] = new Array(1024);
  private times = new Float64Array(1024);
  /** Ring positions: departures head … tail − 1 are remembered (indexes taken modulo the capacity). */
  private head = 0;
  private tail = 0;

  constructor(private readonly intervalMs = PAIR_INTERVAL_MS) {}

  /** The earliest time a message to `recipient` may leave. */
  earliest(recipient: string, now: number): number {
    this.prune(now);
    const seq = this.last.get(recipient);
    return seq === undefined ? now : Math.max(now, this.timeOf(seq) + this.intervalMs);
  }

  record(recipient: string, at: number): void {
    if (this.tail - this.head === this.times.length) this.grow();
    const i = this.tail % this.times.length;
    this.recipients[i] = recipient;
    this.times[i] = at;
    this.last.set(recipient, this.tail);
    this.tail++;
  }

  get size(): number {
    return this.last.size;
  }

  private timeOf(seq: number): number {
    return this.times[seq % this.times.length]!;
  }

  private prune(now: number): void {
    while (this.head < this.tail) {
      const i = this.head % this.times.length;
      if (this.times[i]! + this.intervalMs > now) break;
      const recipient = this.recipients[i]!;
      if (this.last.get(recipient) === this.head) this.last.delete(recipient);
      this.recipients[i] = undefined;
      this.head++;
    }
  }

  private grow(): void {
    const n = this.times.length;
    const recipients: (string | undefined)[] = new Array(n * 2);
    const times = new Float64Array(n * 2);
    for (let seq = this.head; seq < this.tail; seq++) {
      recipients[seq % (n * 2)] = this.recipients[seq % n];
      times[seq % (n * 2)] = this.times[seq % n]!;
    }
    this.recipients = recipients;
    this.times = times;
  }
}

/** Per-recipient backoff after 131056: 4^n seconds (n = 0, 1, 2 …), at least the pair interval. */
export function pairBackoffMs(failures: number): number {
  return Math.max(PAIR_INTERVAL_MS, 4 ** failures * 1000);
}
