/**
 * Retries of the sending loop: per-row counters and delays for the answers that prove a message was not accepted
 * (classify.ts): throttling (the row waits for the pacer's pause), the pair rate limit (only that recipient waits,
 * 4^n s), temporary errors (1, 2, 4 … s; everything pauses only when most recent answers are errors, or on 131057),
 * and network failures before anything was sent (growing waits; the run stops after too many in a row).
 * Pure: it is told the answers and the time, and says what to do.
 */
import type { Verdict } from '../classify.js';
import { pairBackoffMs } from '../pacer.js';
import type { StopReason } from '../types.js';

export type RetryVerdict = Extract<Verdict, { type: 'retry' }>;

/** What a row has been through (kept with the row while it waits in memory). */
export interface RetryCounters {
  throttled: number;
  transient: number;
  pairFailures: number;
}

export interface RetryLimits {
  /** Attempts per row for throttling answers before the row fails. */
  maxThrottleRetries: number;
  maxTransientRetries: number;
  maxPairRetries: number;
  /** Consecutive network failures (nothing sent) before the run stops. */
  maxNetworkFailures: number;
}

export type RetryPlan =
  /** Send the row again from `notBefore`; `pauseMs` > 0: everything pauses that long. */
  | { kind: 'retry'; notBefore: number; waitMs: number; pauseMs: number }
  | { kind: 'fail'; code: number | null; title: string; reason: string }
  | { kind: 'stop'; reason: StopReason };

export function newCounters(): RetryCounters {
  return { throttled: 0, transient: 0, pairFailures: 0 };
}

export class RetryPolicy {
  private networkFailures = 0;
  /** Answers of the last one to two seconds: ok vs refused with a temporary error (for the global pause). */
  private readonly health = { start: 0, ok: 0, bad: 0, prevOk: 0, prevBad: 0 };

  constructor(private readonly limits: RetryLimits) {}

  /** An accepted answer. */
  accepted(now: number): void {
    this.networkFailures = 0;
    this.record(now, false);
  }

  /** Any answer that was not accepted (before `plan` for retries). */
  refused(now: number, v: Verdict): void {
    const temporary = v.type === 'retry' && (v.scope === 'transient' || v.scope === 'network');
    this.record(now, temporary);
    if (v.type !== 'retry' || v.scope !== 'network') this.networkFailures = 0;
  }

  /**
   * What to do with a row refused with a retryable answer. `throttleResumeAt`: when the pacer lets messages leave
   * again after a throttling answer (it already reacted to it).
   */
  plan(c: RetryCounters, v: RetryVerdict, now: number, throttleResumeAt: number): RetryPlan {
    switch (v.scope) {
      case 'throttle': {
        c.throttled++;
        if (c.throttled > this.limits.maxThrottleRetries)
          return {
            kind: 'fail',
            code: v.code,
            title: v.title,
            reason: `still throttled after ${c.throttled} attempts`,
          };
        const notBefore = Math.max(now, throttleResumeAt);
        return { kind: 'retry', notBefore, waitMs: notBefore - now, pauseMs: 0 };
      }
      case 'pair': {
        const wait = pairBackoffMs(c.pairFailures);
        c.pairFailures++;
        if (c.pairFailures > this.limits.maxPairRetries) {
          return {
            kind: 'fail',
            code: v.code,
            title: v.title,
            reason: `pair rate limit still hit after ${c.pairFailures} attempts`,
          };
        }
        return { kind: 'retry', notBefore: now + wait, waitMs: wait, pauseMs: 0 };
      }
      case 'transient': {
        c.transient++;
        if (c.transient > this.limits.maxTransientRetries) {
          return {
            kind: 'fail',
            code: v.code,
            title: v.title,
            reason: `refused ${c.transient} times with a temporary error`,
          };
        }
        // this row waits (1, 2, 4 … s); everything pauses only when most answers are errors, or on 131057
        const wait = v.code === 131057 ? v.pauseMs : v.pauseMs * 2 ** (c.transient - 1);
        const pause = v.code === 131057 || this.unhealthy() ? v.pauseMs : 0;
        return { kind: 'retry', notBefore: now + wait, waitMs: wait, pauseMs: pause };
      }
      case 'network': {
        this.networkFailures++;
        if (this.networkFailures >= this.limits.maxNetworkFailures) {
          return {
            kind: 'stop',
            reason: {
              kind: 'network',
              code: null,
              title: 'Network unavailable',
              message: `${this.networkFailures} requests in a row could not reach the API: ${v.title}`,
              hint: 'Check the network and the Graph URL, then run the same command again to resume.',
            },
          };
        }
        const wait = Math.min(30_000, 250 * 2 ** Math.min(this.networkFailures, 8));
        const pause = this.networkFailures >= 3 || this.unhealthy() ? wait : 0;
        return { kind: 'retry', notBefore: now + wait, waitMs: wait, pauseMs: pause };
      }
    }
  }

  private record(now: number, bad: boolean): void {
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
  unhealthy(): boolean {
    const h = this.health;
    const bad = h.bad + h.prevBad;
    const total = bad + h.ok + h.prevOk;
    return total >= 5 && bad / total > 0.5;
  }
}
