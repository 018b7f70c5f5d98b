/** The parts of the sending engine, each alone, with the simulated clock (see engine.ts for how they fit). */
import { describe, expect, it, vi } from 'vitest';
import type { Verdict } from '../../src/lib/campaign/classify.js';
import {
  AdaptiveRate,
  CRUISE_MS,
  cruiseMs,
  MIN_CRUISE_SHARE,
} from '../../src/lib/campaign/engine/adaptive-rate.js';
import { GroupCommit, MAX_GATHERED } from '../../src/lib/campaign/engine/commits.js';
import { newCounters, RetryPolicy, type RetryVerdict } from '../../src/lib/campaign/engine/retries.js';
import { Sleeper } from '../../src/lib/campaign/engine/sleeper.js';
import { READ_AHEAD_MIN, RowSupply } from '../../src/lib/campaign/engine/supply.js';
import { ARRIVAL_SLACK_MS, InFlightWindow, MIN_WINDOW } from '../../src/lib/campaign/engine/window.js';
import type { CommitBatch } from '../../src/lib/campaign/ledger.js';
import { defaultWindow, MAX_SEND_CONNECTIONS, MAX_THROUGHPUT } from '../../src/lib/campaign/rate.js';
import { systemClock } from '../../src/lib/clock.js';
import { ingestPending, memoryCampaign, sentUpdate } from './helpers.js';
import { SimClock } from './sim-clock.js';

const limits = { maxThrottleRetries: 3, maxTransientRetries: 2, maxPairRetries: 2, maxNetworkFailures: 4 };
const throttle: RetryVerdict = {
  type: 'retry',
  scope: 'throttle',
  code: 130429,
  title: 'Rate limit hit',
  retryAfterMs: undefined,
};
const pair: RetryVerdict = { type: 'retry', scope: 'pair', code: 131056, title: 'Pair rate limit' };
const transient = (code: number, pauseMs = 1000): RetryVerdict => ({
  type: 'retry',
  scope: 'transient',
  code,
  title: 'Temporary',
  pauseMs,
});
const network: RetryVerdict = { type: 'retry', scope: 'network', code: null, title: 'ECONNREFUSED' };

describe('InFlightWindow (engine/window.ts)', () => {
  it('opens up with the answer time and the rate, within [MIN_WINDOW, max]', () => {
    const w = new InFlightWindow(512);
    expect(w.size(1)).toBe(MIN_WINDOW);
    expect(w.size(20)).toBe(Math.ceil((20 * (2 * 50 + 20)) / 1000) + 2);
    for (let i = 0; i < 50; i++) w.answered(400, i * 10, false); // Meta answers in ~400 ms
    expect(w.latency).toBeGreaterThan(390);
    expect(w.size(1000)).toBe(512);
    expect(w.size(100)).toBe(Math.ceil((100 * (2 * w.latency + 20)) / 1000) + 2);
    expect(w.batchMin(100)).toBe(Math.floor(w.size(100) / 4));
    // capped below what the rate needs: the answers set the pace, commits gather half a window
    expect(w.batchMin(1000)).toBe(256);
    for (let i = 0; i < 50; i++) w.answered(2, i * 10, false); // a fast API: stays small
    expect(w.size(100)).toBeLessThan(10);
  });

  it('defaults to half a second of sending (8 to 512); with pacing off, to twice the connections of the Pool', () => {
    expect(defaultWindow(1)).toBe(8);
    expect(defaultWindow(20)).toBe(10);
    expect(defaultWindow(80)).toBe(40);
    expect(defaultWindow(MAX_THROUGHPUT)).toBe(500);
    // --rate above any number's throughput (--force): one half on the wire, the next committed and queued in undici
    // (engine.test.ts: no connection idles for a commit)
    expect(defaultWindow(MAX_THROUGHPUT + 1)).toBe(2 * MAX_SEND_CONNECTIONS);
    expect(defaultWindow(1_000_000)).toBe(2 * MAX_SEND_CONNECTIONS);
  });

  it('tells when an answer shows that the API paused (the request counts at its estimated arrival)', () => {
    const w = new InFlightWindow(64);
    for (let i = 0; i < 100; i++) expect(w.answered(5, 1000 + i, i === 0) === null).toBe(i !== 0);
    expect(w.fastest).toBeLessThanOrEqual(5);
    // the first request: arriving just before its answer
    expect(new InFlightWindow(8).answered(30, 5000, true)).toBe(5000 - ARRIVAL_SLACK_MS);
    // a few ms of our own event loop: as expected
    expect(w.answered(5 + ARRIVAL_SLACK_MS, 6000, false)).toBeNull();
    // 200 ms: it waited at the API
    const arrival = w.answered(200, 7000, false);
    expect(arrival).toBeCloseTo(7000 - w.fastest - ARRIVAL_SLACK_MS, 5);
    expect(arrival).toBeLessThan(7000 - 5);
  });
});

describe('GroupCommit (engine/commits.ts)', () => {
  function setup(committer: ConstructorParameters<typeof GroupCommit>[0]['committer'] = null) {
    const clock = new SimClock();
    const { ledger, cid } = memoryCampaign(clock.now());
    ingestPending(ledger, cid, 5, clock.now());
    ledger.acquireLease(cid, { owner: 'me', host: 'h', pid: 1 }, clock.now(), 30_000, () => true);
    const gc = new GroupCommit(
      { ledger, cid, leaseOwner: 'me', committer, flushMs: 100, heartbeatMs: 2000 },
      clock.now(),
    );
    return { clock, ledger, cid, gc };
  }

  it('gathers outcomes until flushMs or MAX_GATHERED, heartbeats every heartbeatMs, one transaction each', () => {
    const { clock, ledger, cid, gc } = setup();
    const t0 = clock.now();
    expect(gc.flushDue(t0)).toBe(false);
    expect(gc.nextDue()).toBe(t0 + 2000);
    expect(gc.write(t0, false, [1, 2], () => {})).toBe(true);
    expect(ledger.counts(cid).in_flight).toBe(2);
    gc.record(sentUpdate(1), t0 + 10);
    expect(gc.flushDue(t0 + 50)).toBe(false);
    expect(gc.nextDue()).toBe(t0 + 110);
    expect(gc.flushDue(t0 + 110)).toBe(true);
    let ok: boolean | 'failed' | undefined;
    gc.write(t0 + 110, gc.heartbeatDue(t0 + 110), [], (r) => {
      ok = r;
    });
    expect(ok).toBe(true); // synchronous: confirmed at once
    expect(ledger.counts(cid)).toMatchObject({ sent: 1, in_flight: 1 });
    expect(gc.count).toBe(2);
    expect(gc.heartbeatDue(t0 + 1999)).toBe(false);
    expect(gc.heartbeatDue(t0 + 2000)).toBe(true);
    expect(gc.write(t0 + 2000, false, [], () => {})).toBe(false); // nothing to write
    for (let i = 0; i < MAX_GATHERED; i++) gc.record(sentUpdate(2), t0 + 2001);
    expect(gc.flushDue(t0 + 2001)).toBe(true);
  });

  it('through a writer thread: counts unconfirmed commits, reports a lost lease and a failed write', async () => {
    const batches: CommitBatch[] = [];
    let answer: boolean | Error = true;
    const clockRef: { c?: SimClock } = {};
    const { clock, gc } = setup({
      commit: async (batch) => {
        batches.push(batch);
        await clockRef.c!.sleep(4);
        if (answer instanceof Error) throw answer;
        return answer;
      },
      close: async () => {},
    });
    clockRef.c = clock;
    const results: (boolean | 'failed')[] = [];
    gc.write(clock.now(), true, [1], (r) => results.push(r));
    expect(gc.pending).toBe(1);
    expect(batches[0]).toMatchObject({ intents: [1], heartbeatOwner: 'me' });
    await clock.run(clock.sleep(10));
    expect(gc.pending).toBe(0);
    answer = false;
    gc.write(clock.now(), false, [2], (r) => results.push(r));
    await clock.run(clock.sleep(10));
    answer = new Error('disk full');
    gc.write(clock.now(), false, [3], (r) => results.push(r));
    await clock.run(clock.sleep(10));
    expect(results).toEqual([true, false, 'failed']);
    expect(gc.failure?.message).toBe('disk full');
  });
});

describe('RetryPolicy (engine/retries.ts)', () => {
  it('throttling: the row waits for the pacer, and fails after maxThrottleRetries', () => {
    const p = new RetryPolicy(limits);
    const c = newCounters();
    expect(p.plan(c, throttle, 1000, 1300)).toEqual({
      kind: 'retry',
      notBefore: 1300,
      waitMs: 300,
      pauseMs: 0,
    });
    p.plan(c, throttle, 2000, 0);
    p.plan(c, throttle, 3000, 0);
    expect(p.plan(c, throttle, 4000, 0)).toMatchObject({
      kind: 'fail',
      code: 130429,
      reason: 'still throttled after 4 attempts',
    });
  });

  it('pair limit: only that row waits 4^n s (at least 6 s); fails after maxPairRetries', () => {
    const p = new RetryPolicy(limits);
    const c = newCounters();
    expect(p.plan(c, pair, 0, 0)).toMatchObject({ kind: 'retry', notBefore: 6000, pauseMs: 0 });
    expect(p.plan(c, pair, 0, 0)).toMatchObject({ kind: 'retry', notBefore: 6000 });
    expect(p.plan(c, pair, 0, 0)).toMatchObject({ kind: 'fail', code: 131056 });
  });

  it('temporary errors: 1, 2 … s for the row; a global pause on 131057 or when most answers are errors', () => {
    const p = new RetryPolicy(limits);
    const c = newCounters();
    p.accepted(0);
    p.accepted(1);
    p.accepted(2);
    const v = transient(131000);
    p.refused(3, v);
    expect(p.plan(c, v, 3, 0)).toEqual({ kind: 'retry', notBefore: 1003, waitMs: 1000, pauseMs: 0 });
    p.refused(4, v);
    expect(p.plan(c, v, 4, 0)).toEqual({ kind: 'retry', notBefore: 2004, waitMs: 2000, pauseMs: 0 });
    expect(p.plan(c, v, 5, 0)).toMatchObject({
      kind: 'fail',
      reason: 'refused 3 times with a temporary error',
    });
    // most answers errors: everything pauses
    const q = new RetryPolicy(limits);
    for (let i = 0; i < 6; i++) q.refused(i, v);
    expect(q.unhealthy()).toBe(true);
    expect(q.plan(newCounters(), v, 10, 0).kind === 'retry' && q.plan(newCounters(), v, 10, 0)).toMatchObject(
      {
        pauseMs: 1000,
      },
    );
    expect(new RetryPolicy(limits).plan(newCounters(), transient(131057, 60_000), 0, 0)).toMatchObject({
      waitMs: 60_000,
      pauseMs: 60_000,
    });
  });

  it('network failures: growing waits, a global pause from the third in a row, a stop at maxNetworkFailures', () => {
    const p = new RetryPolicy(limits);
    const waits: number[] = [];
    const pauses: number[] = [];
    for (let i = 0; i < 3; i++) {
      p.refused(i, network);
      const r = p.plan(newCounters(), network, i, 0);
      if (r.kind !== 'retry') throw new Error(r.kind);
      waits.push(r.waitMs);
      pauses.push(r.pauseMs);
    }
    expect(waits).toEqual([500, 1000, 2000]);
    expect(pauses[2]).toBe(2000);
    p.refused(3, network);
    expect(p.plan(newCounters(), network, 3, 0)).toMatchObject({ kind: 'stop', reason: { kind: 'network' } });
    // an accepted answer (or any other answer) resets the count
    const q = new RetryPolicy(limits);
    for (let i = 0; i < 3; i++) q.plan(newCounters(), network, i, 0);
    q.accepted(10);
    expect(q.plan(newCounters(), network, 11, 0)).toMatchObject({ kind: 'retry', waitMs: 500 });
    const other: Verdict = { type: 'failed', code: 131026, title: 'x', message: 'x' };
    q.refused(12, other);
    expect(q.plan(newCounters(), network, 13, 0)).toMatchObject({ kind: 'retry', waitMs: 500 });
  });
});

describe('RowSupply (engine/supply.ts)', () => {
  function ledgerWith(n: number, done: boolean) {
    const { ledger, cid } = memoryCampaign(0);
    ingestPending(ledger, cid, n, 0, done);
    return { ledger, cid };
  }

  it('reads pending rows in pages, in row order; retries come first once due, sorted by their time', () => {
    const { ledger, cid } = ledgerWith(300, true);
    const s = new RowSupply(ledger, cid, () => true);
    s.refill(0, 10);
    expect(s.hasWork).toBe(true);
    const first = s.peek(0)!;
    expect(first).toMatchObject({ from: 'queue', work: { row: { row: 1 }, notBefore: 0 } });
    s.take('queue');
    first.work.notBefore = 500;
    s.requeue(first.work);
    const second = s.peek(0)!;
    s.take('queue');
    second.work.notBefore = 200;
    s.requeue(second.work);
    expect(s.peek(100)!.from).toBe('queue'); // no retry due yet
    expect(s.peek(200)).toMatchObject({ from: 'retry', work: { row: { row: 2 } } });
    s.take('retry');
    expect(s.peek(1000)).toMatchObject({ from: 'retry', work: { row: { row: 1 } } });
    // the first page held READ_AHEAD_MIN rows: the next refills read the rest, then nothing more will come
    let taken = 0;
    while (s.peek(-1)?.from === 'queue') {
      s.take('queue');
      taken++;
    }
    expect(taken).toBe(READ_AHEAD_MIN - 2);
    s.refill(0, 10);
    s.refill(0, 300);
    expect(s.drained).toBe(true);
    expect(s.exhausted).toBe(false); // row 1 still waits for its retry
    s.take('retry');
    while (s.peek(-1)) s.take('queue');
    expect(s.exhausted).toBe(true);
  });

  it('while the CSV is still being read, looks again 20 ms later or when woken', () => {
    const { ledger, cid } = ledgerWith(5, false);
    let done = false;
    const s = new RowSupply(ledger, cid, () => done);
    s.refill(1000, 10);
    expect(s.drained).toBe(false);
    expect(s.dryUntil).toBe(1020);
    s.wake();
    expect(s.dryUntil).toBe(0);
    done = true;
    s.refill(1001, 100);
    expect(s.drained).toBe(true);
  });
});

describe('Sleeper (engine/sleeper.ts)', () => {
  it('sleeps until the deadline or until woken, reusing an earlier timer; close() cancels the timers', async () => {
    const clock = new SimClock();
    const t0 = clock.now();
    const s = new Sleeper(clock);
    const woke: number[] = [];
    const sleep = (ms: number) => s.wait(t0 + ms).then(() => woke.push(clock.now() - t0));
    await clock.run(sleep(50));
    expect(woke).toEqual([50]);
    // woken before the deadline
    const waiting = sleep(1000 - 50 + 50 + 1000);
    void clock.sleep(10).then(() => s.wake());
    await clock.run(waiting);
    expect(woke[1]).toBe(60);
    // nothing to wait for: resolves at once
    await s.wait(clock.now());
    s.close();
  });

  it('on the system clock: one timer, re-armed in place for an earlier deadline, none left after close()', async () => {
    // Counts the timers this Sleeper armed that have neither fired nor been cleared. Not the process's active
    // timers: another test's timer firing meanwhile would change that count.
    const pending = new Set<NodeJS.Timeout>();
    let armedNow = 0;
    let insideWait = false;
    const realSetTimeout = globalThis.setTimeout;
    const realClearTimeout = globalThis.clearTimeout;
    const setSpy = vi.spyOn(globalThis, 'setTimeout').mockImplementation(((fn: () => void, ms: number) => {
      if (!insideWait) return realSetTimeout(fn, ms);
      armedNow++;
      const t: NodeJS.Timeout = realSetTimeout(() => {
        pending.delete(t);
        fn();
      }, ms);
      pending.add(t);
      return t;
    }) as typeof setTimeout);
    const clearSpy = vi.spyOn(globalThis, 'clearTimeout').mockImplementation(((
      t: NodeJS.Timeout | undefined,
    ) => {
      if (t) pending.delete(t);
      realClearTimeout(t);
    }) as typeof clearTimeout);
    const s = new Sleeper(systemClock);
    const wait = (inMs: number) => {
      armedNow = 0;
      insideWait = true;
      try {
        return s.wait(Date.now() + inMs);
      } finally {
        insideWait = false;
      }
    };
    try {
      const late = wait(60_000);
      expect([armedNow, pending.size]).toEqual([1, 1]);
      s.wake();
      await late;
      const early = wait(5); // earlier than the armed one: the same timer, re-armed in place
      expect(pending.size).toBe(1);
      await early; // it fired
      expect(pending.size).toBe(0);
      const again = wait(60_000);
      expect(pending.size).toBe(1);
      s.wake();
      await again;
      const later = wait(120_000); // the armed timer fires first and wakes the loop: no second timer
      expect([armedNow, pending.size]).toEqual([0, 1]);
      s.close();
      expect(pending.size).toBe(0);
      s.wake();
      await later;
    } finally {
      setSpy.mockRestore();
      clearSpy.mockRestore();
    }
  });
});

describe('AdaptiveRate after a deep limit lifts (engine/adaptive-rate.ts)', () => {
  /**
   * Sends at the controller's rate (its pauses honoured) to an API that accepts `limit(t)` messages per one-second
   * window and refuses the rest with 130429. Returns the messages accepted each second and the refusals.
   */
  function api(a: AdaptiveRate, limit: (t: number) => number, to: number) {
    const perSecond: number[] = [];
    let refusals = 0;
    let window = -1;
    let inWindow = 0;
    for (let t = 0; t < to; ) {
      const second = Math.floor(t / 1000);
      if (second !== window) [window, inWindow] = [second, 0];
      a.tick(t);
      if (inWindow < limit(t)) {
        inWindow++;
        a.accepted(t + 5);
        perSecond[second] = (perSecond[second] ?? 0) + 1;
        t += 1000 / a.rate;
      } else {
        refusals++;
        t += Math.max(a.throttled(t + 5, t).pauseMs, 1000 / a.rate);
      }
    }
    return { perSecond: Array.from(perSecond, (n) => n ?? 0), refusals };
  }

  it('a limit 40× below the ceiling: back at ≥ 90 % of the ceiling within 15 s of the lift (it was 26–31 s)', () => {
    for (const lift of [4000, 6000, 10_000, 14_000]) {
      const { perSecond } = api(new AdaptiveRate(200, 0), (t) => (t < lift ? 5 : 200), 60_000);
      const back = perSecond.findIndex((n, s) => s * 1000 >= lift && n >= 180);
      expect(back).toBeGreaterThan(0);
      expect(back - lift / 1000).toBeLessThanOrEqual(12);
    }
  });

  it('a steady limit at half the ceiling: about one refusal per cruise, within 2 % of the limit', () => {
    for (const [ceiling, limit] of [
      [20, 10],
      [80, 40],
      [1000, 500],
    ] as const) {
      const { perSecond, refusals } = api(new AdaptiveRate(ceiling, 0), () => limit, 120_000);
      const after = perSecond.slice(20);
      expect(after.reduce((n, x) => n + x, 0) / after.length).toBeGreaterThanOrEqual(limit * 0.98);
      expect(refusals).toBeLessThan(120_000 / CRUISE_MS + 25);
    }
  });

  it('tries the refused rate again every CRUISE_MS at half the ceiling or more, sooner further down', () => {
    expect(cruiseMs(100, 200)).toBe(CRUISE_MS);
    expect(cruiseMs(200, 200)).toBe(CRUISE_MS);
    expect(cruiseMs(25, 200)).toBe(CRUISE_MS / 4);
    expect(cruiseMs(5, 200)).toBe(CRUISE_MS * MIN_CRUISE_SHARE);
  });
});
