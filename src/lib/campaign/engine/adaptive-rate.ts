/**
 * The rate the API actually accepts, found while sending (pure, clock-free: every method takes `now`).
 *
 * The throughput a phone number advertises (or `--rate`) is a ceiling, not a fact: a number mid-upgrade, a portfolio
 * limit or a server set lower may enforce less. On 130429 the sender backs off at once, then searches for the rate
 * the API accepts, and keeps probing back toward the ceiling in case the limit lifts:
 *
 * - `good`: the highest rate held for a while without a throttling answer; `bad`: the lowest rate that drew one.
 * - Refused above `good`: back to `good` (it was accepted), pausing only for what is left of the API's one-second
 *   window at the refused rate (Retry-After when given). Refused at a rate believed good (the limit dropped): down to
 *   what the API accepted over the last two seconds, at least half the rate.
 * - Between `good` and `bad`: bisection, one step per hold (a second, or 20 messages at low rates), until they are
 *   within 2 %; then it stays at `good` and every CRUISE_MS tries `bad` again (sooner far below the ceiling, where
 *   waiting for a lifted limit costs the most: see cruiseMs; at once when every step up to it passed, see
 *   STALE_AFTER_CLIMBS). Once `bad` passes, the limit has lifted: it climbs
 *   above it in growing steps (2 %, 8 %, 32 % … of the rate per hold; doubling far below the ceiling, FAR_SHARE) up
 *   to the ceiling.
 * - Answers refused while nothing was accepted since the last decrease are the rest of an exhausted window, or a
 *   storm: the pause grows (250 ms doubling to 2 s, once per resume: answers to requests that left before the last
 *   pause do not count) without learning anything. When a request that left a whole
 *   second after the decrease is refused too, nothing accepted meanwhile, it is a storm: the rate drops to 5 % of
 *   the ceiling, then halves at each further episode (down to 1 % of the ceiling), and what was learnt about the
 *   limit is kept, so that when answers are accepted again the rate doubles back to `good` every RECOVER_MS.
 */

/** Within this share of each other, `good` and `bad` are close enough: the search stops. */
export const TOLERANCE = 0.02;
/** How long the sender stays at a converged rate before trying the refused one again. */
export const CRUISE_MS = 10_000;
/** After a storm: the rate doubles back toward `good` this often. */
export const RECOVER_MS = 500;
/**
 * After this many bisection steps up in a row without a refusal, the refused rate is tried again at once, not after
 * a cruise: it was probably refused under a limit that has lifted since (costs one refusal when it was not).
 */
export const STALE_AFTER_CLIMBS = 3;
/**
 * Below this share of the ceiling the rate is "far below" it: each step is held a second (not 20 messages), and above
 * every refused rate it doubles per step (what a step risks there is a few messages, what waiting costs is most of
 * the throughput).
 */
export const FAR_SHARE = 0.25;
/** Far below the ceiling the refused rate is tried again sooner, down to this share of CRUISE_MS (see cruiseMs). */
export const MIN_CRUISE_SHARE = 0.25;
/** The first upward step above every refused rate, as a share of the rate; it grows PROBE_GROWTH times per step. */
export const PROBE_FROM = 0.02;
export const PROBE_GROWTH = 4;
/** The API counts messages per second: a refusal may last until the end of its one-second window. */
export const WINDOW_MS = 1000;
/** The lowest rate, as a share of the ceiling (at least 1 msg/s). */
export const FLOOR_SHARE = 0.01;
/** In a storm the rate drops to at most this share of the ceiling (then halves at each further episode). */
export const STORM_SHARE = 0.05;
/** Pauses while nothing is accepted: from STREAK_PAUSE_MS, doubling, at most MAX_STREAK_PAUSE_MS. */
export const STREAK_PAUSE_MS = 250;
export const MAX_STREAK_PAUSE_MS = 2000;

/** How the controller read a throttling answer. */
export type ThrottleKind =
  /** The request left before the sender reacted to an earlier refusal: already accounted for. */
  | 'same'
  /** The API accepts some and refused this one: the rate is above its limit. */
  | 'limit'
  /** Nothing accepted since the last decrease: the rest of an exhausted window, or the start of a storm. */
  | 'streak'
  /** Refused a whole window after the decrease, nothing accepted meanwhile: a storm (or an outage of sending). */
  | 'storm';

export interface AdaptiveState {
  /** The ceiling: --rate or the number's throughput. */
  ceiling: number;
  rate: number;
  /** The highest rate held without a throttling answer, or null (none yet since the limit dropped). */
  good: number | null;
  /** The lowest rate refused with a throttling answer (forgotten once it passes again), or null. */
  bad: number | null;
  /** Refusals seen by the controller that lowered the rate. */
  episodes: number;
  /** Nothing is accepted at all at the moment (a storm). */
  storm: boolean;
}

/** Accepted answers of the last two seconds, in 100 ms buckets. */
class RecentAccepts {
  private readonly buckets = new Float64Array(20);
  private bucket = Number.NEGATIVE_INFINITY;

  add(now: number): void {
    this.roll(now);
    this.buckets[this.bucket % 20]!++;
  }

  /** Accepted in the last two seconds (up to `now`). */
  count(now: number): number {
    this.roll(now);
    let n = 0;
    for (const b of this.buckets) n += b;
    return n;
  }

  private roll(now: number): void {
    const b = Math.floor(now / 100);
    if (b <= this.bucket) return;
    const from = Math.max(this.bucket + 1, b - 19);
    for (let i = from; i <= b; i++) this.buckets[i % 20] = 0;
    this.bucket = b;
  }
}

/**
 * How long a converged rate is held before the refused one is tried again: CRUISE_MS at half the ceiling or more
 * (each try costs a refusal: one in CRUISE_MS × rate messages), shorter further down (after a storm or a limit
 * dropped to a fraction of the ceiling, most of the throughput is lost while waiting), at least MIN_CRUISE_SHARE of it.
 */
export function cruiseMs(rate: number, ceiling: number): number {
  return CRUISE_MS * Math.min(1, Math.max(MIN_CRUISE_SHARE, (2 * rate) / ceiling));
}

export class AdaptiveRate {
  readonly ceiling: number;
  readonly floor: number;
  private current: number;
  private good: number | null = null;
  private bad: number | null = null;
  /** When the current rate took effect (it is judged from the end of the pause on). */
  private since: number;
  private resumeAt = 0;
  private decreasedAt = Number.NEGATIVE_INFINITY;
  private lastAcceptedAt = Number.NEGATIVE_INFINITY;
  private readonly startedAt: number;
  /** Pauses in a row for refusals with nothing accepted since the last decrease. */
  private streak = 0;
  /** When the last of those pauses was decided. */
  private streakPausedAt = Number.NEGATIVE_INFINITY;
  private storms = 0;
  private probeStep = PROBE_FROM;
  /** Bisection steps up in a row, each held without a refusal, since the last decrease. */
  private climbs = 0;
  /** What was known before the last limit episode (a storm that starts like one does not teach anything). */
  private before: { good: number | null; bad: number | null } | null = null;
  private readonly accepts = new RecentAccepts();
  episodes = 0;

  constructor(ceiling: number, now: number) {
    if (!(ceiling > 0)) throw new RangeError(`rate must be > 0, got ${ceiling}`);
    this.ceiling = ceiling;
    this.floor = Math.min(ceiling, Math.max(1, ceiling * FLOOR_SHARE));
    this.current = ceiling;
    this.since = now;
    this.startedAt = now;
  }

  get rate(): number {
    return this.current;
  }

  state(): AdaptiveState {
    return {
      ceiling: this.ceiling,
      rate: this.current,
      good: this.good,
      bad: this.bad,
      episodes: this.episodes,
      storm: this.storms > 0,
    };
  }

  /** An accepted answer. */
  accepted(now: number): void {
    this.lastAcceptedAt = Math.max(this.lastAcceptedAt, now);
    this.accepts.add(now);
    this.streak = 0;
    this.storms = 0;
  }

  /** Accepted answers per second over the last two seconds (or since the start), null right after the start. */
  acceptedRate(now: number): number | null {
    const span = Math.min(2000, now - this.startedAt);
    if (span < 500) return null;
    return (this.accepts.count(now) * 1000) / span;
  }

  /**
   * A throttling answer at `now` to a request that left at `sentAt`; returns how it was read and the pause (ms from
   * `now`, 0 for none) before anything else may leave.
   */
  throttled(
    now: number,
    sentAt: number | undefined,
    retryAfterMs?: number,
  ): { kind: ThrottleKind; pauseMs: number } {
    const retry = retryAfterMs ?? 0;
    // a request that left before the sender reacted (a decrease, or a pause for a streak): already accounted for
    const same = { kind: 'same' as const, pauseMs: Math.max(0, Math.min(retry, this.resumeAt - now)) };
    if (sentAt !== undefined && sentAt < this.decreasedAt) return same;
    if (this.episodes > 0 && this.lastAcceptedAt <= this.decreasedAt) {
      // the requests that left before the last pause tell nothing new: the pause grows once per resume, not once
      // per answer (a window's worth of answers in flight would otherwise reach the longest pause at once)
      if (sentAt !== undefined && sentAt < this.streakPausedAt) return same;
      this.streak++;
      this.streakPausedAt = now;
      const pause = Math.max(retry, Math.min(MAX_STREAK_PAUSE_MS, STREAK_PAUSE_MS * 2 ** (this.streak - 1)));
      // judged by when the refused request left, not by when its answer came (a slow or paused API answers late)
      if ((sentAt ?? now) - this.decreasedAt < WINDOW_MS) {
        this.resumeAt = Math.max(this.resumeAt, now + pause);
        return { kind: 'streak', pauseMs: pause };
      }
      // a whole window with nothing accepted: a storm; the limit learnt before it still holds
      if (this.storms === 0 && this.before) {
        this.good = this.before.good;
        this.bad = this.before.bad;
      }
      this.storms++;
      // a trickle while nothing is accepted: each resume after a pause sends one or two probes, not a burst
      this.decrease(now, Math.max(this.floor, Math.min(this.current / 2, this.ceiling * STORM_SHARE)), pause);
      return { kind: 'storm', pauseMs: pause };
    }
    // the API accepts some and refused this one: above its limit
    const r = this.current;
    this.before = { good: this.good, bad: this.bad };
    this.bad = this.bad === null ? r : Math.min(this.bad, r);
    let next: number;
    if (this.good !== null && this.good < r * 0.999) next = this.good;
    else {
      // refused at a rate believed good: the limit dropped; how much, the accepted answers tell
      const a = this.acceptedRate(now);
      next = a !== null && a >= 0.9 * r ? r * 0.97 : Math.max(r / 2, (a ?? 0) * 0.97);
      this.good = null;
    }
    next = Math.max(this.floor, next);
    // pause for what is left of the window at the refused rate (the API accepted about `next` of its `r`)
    const pause = Math.max(retry, Math.min(WINDOW_MS, Math.max(20, WINDOW_MS * (1 - next / r))));
    this.decrease(now, next, pause);
    return { kind: 'limit', pauseMs: pause };
  }

  private decrease(now: number, rate: number, pauseMs: number): void {
    this.episodes++;
    this.current = rate;
    this.decreasedAt = now;
    this.resumeAt = Math.max(this.resumeAt, now + pauseMs);
    this.since = now;
    this.probeStep = PROBE_FROM;
    this.climbs = 0;
  }

  private set(rate: number, now: number): void {
    this.current = Math.min(this.ceiling, rate);
    this.since = now;
  }

  /** Time passed without a throttling answer: raises the rate when due; returns whether it changed. */
  tick(now: number): boolean {
    if (now < this.resumeAt) return false;
    const held = now - Math.max(this.since, this.resumeAt);
    const r = this.current;
    if (this.good !== null && r < this.good * 0.999) {
      // back toward the rate the API accepted before (after a storm)
      if (held < RECOVER_MS || this.storms > 0) return false;
      this.set(Math.min(this.good, r * 2), now);
      return true;
    }
    // 20 messages at low rates; far below the ceiling a second (a trickle after a storm must not take minutes back)
    const far = r < FAR_SHARE * this.ceiling;
    const hold = far ? WINDOW_MS : Math.min(3000, Math.max(1000, 20_000 / r));
    if (held < hold) return false;
    if (this.good === null || r > this.good) this.good = r;
    if (r >= this.ceiling) {
      this.bad = null;
      return false;
    }
    if (this.bad !== null && r < this.bad) {
      if (this.bad - r > TOLERANCE * r) {
        this.set((r + this.bad) / 2, now);
        this.climbs++;
        return true;
      }
      // reached from below without a refusal on the way: `bad` may date from before the limit lifted (a storm)
      if (this.climbs < STALE_AFTER_CLIMBS && held < cruiseMs(r, this.ceiling)) return false;
      this.climbs = 0;
      // converged a while ago: has the limit lifted?
      this.set(this.bad, now);
      return true;
    }
    // above every refused rate: the limit lifted (or was never met); look higher, in growing steps
    this.bad = null;
    this.set(r * (1 + (far ? 1 : this.probeStep)), now);
    this.probeStep = Math.min(1, this.probeStep * PROBE_GROWTH);
    return true;
  }
}
