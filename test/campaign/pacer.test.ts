import { describe, expect, it } from 'vitest';
import {
  guardMs,
  MAX_LAG_MS,
  Pacer,
  PairLimiter,
  pairBackoffMs,
  SLOW_START_MS,
} from '../../src/lib/campaign/pacer.js';

/**
 * Runs a pacer like the engine does: a message is planned at nextAt, leaves `late(i)` ms after it (timer lateness,
 * a stall), and never before the sliding-window guard on actual departures admits it.
 */
function departures(rate: number, seconds: number, late: (i: number) => number = () => 0): number[] {
  const t0 = 1_000_000;
  const p = new Pacer(rate, t0);
  const out: number[] = [];
  let now = t0;
  for (;;) {
    const at = p.nextAt(now);
    p.take(at);
    let actual = Math.max(now, at) + late(out.length);
    actual = Math.max(actual, p.admitAt(actual));
    if (actual >= t0 + seconds * 1000) break;
    p.sent(actual);
    out.push(actual);
    now = actual;
  }
  return out;
}

function maxInWindow(times: readonly number[], windowMs = 1000): number {
  let max = 0;
  let j = 0;
  for (let i = 0; i < times.length; i++) {
    while (times[i]! - times[j]! >= windowMs) j++;
    max = Math.max(max, i - j + 1);
  }
  return max;
}

describe('Pacer', () => {
  for (const rate of [20, 80, 1000]) {
    it(`holds ${rate} msg/s on average within 1 % and never more than ${rate} in any one second`, () => {
      const t = departures(rate, 60);
      const mean = (t.length - 1) / ((t.at(-1)! - t[0]!) / 1000);
      expect(Math.abs(mean - rate) / rate).toBeLessThan(0.01);
      expect(maxInWindow(t)).toBeLessThanOrEqual(rate);
      // any `rate` consecutive departures span more than a second plus the jitter guard
      for (let i = rate; i < t.length; i += 7)
        expect(t[i]! - t[i - rate]!).toBeGreaterThanOrEqual(1000 + guardMs(rate) - 1e-6);
    });
  }

  it('starts at half the rate from 200 msg/s on, and reaches the full rate within the slow start', () => {
    const t = departures(1000, 2);
    const first = t.filter((x) => x < t[0]! + 100).length;
    expect(first).toBeGreaterThan(55);
    expect(first).toBeLessThan(80);
    const after = t.filter(
      (x) => x >= t[0]! + SLOW_START_MS + 100 && x < t[0]! + SLOW_START_MS + 1100,
    ).length;
    expect(after).toBeGreaterThan(985);
    expect(departures(80, 1).filter((x) => x < 1_000_000 + 100).length).toBe(8); // no slow start below 200 msg/s
  });

  it('does not drift when timers fire late (absolute deadlines)', () => {
    // every wake-up 3 ms late: the schedule does not accumulate the lateness
    const t = departures(20, 60, () => 3);
    expect(Math.abs(t.length / 60 - 20) / 20).toBeLessThan(0.01);
  });

  it('catches up after a short stall without ever exceeding the rate in a one-second window', () => {
    // a 10 ms stall every 5 s (GC, a commit): fully caught up
    const t = departures(100, 60, (i) => (i % 500 === 499 ? 10 : 0));
    expect(maxInWindow(t)).toBeLessThanOrEqual(100);
    expect(Math.abs(t.length / 60 - 100)).toBeLessThan(1);
    expect(t.length / 60).toBeGreaterThan(departures(100, 60).length / 60 - 0.05);
  });

  it('bounds the catch-up after a long stall (no burst of the whole backlog)', () => {
    // a 2 s stall every 5 s: only MAX_LAG_MS of backlog is caught up, and no second holds more than the rate
    const t = departures(100, 60, (i) => (i % 300 === 299 ? 2000 : 0));
    expect(maxInWindow(t)).toBeLessThanOrEqual(100);
    const burst = maxInWindow(t, 50);
    expect(burst).toBeLessThanOrEqual(Math.ceil((100 * (MAX_LAG_MS + 50)) / 1000) + 1); // MAX_LAG_MS of backlog + 50 ms
  });

  it('on throttling backs off at once, briefly, and answers to requests sent before that change nothing', () => {
    const p = new Pacer(80, 0);
    for (let t = 0; t < 3000; t += 12.5) p.accepted(t); // 80 msg/s accepted
    expect(p.throttled(3000, undefined, 2990)).toBe('limit');
    expect(p.rate).toBeLessThan(80);
    expect(p.throttleEpisodes).toBe(1);
    const pause = p.pausedUntil - 3000;
    expect(pause).toBeGreaterThan(0);
    expect(pause).toBeLessThanOrEqual(1000);
    expect(p.nextAt(3001)).toBeGreaterThanOrEqual(p.pausedUntil);
    expect(p.admitAt(3001)).toBeGreaterThanOrEqual(p.pausedUntil);
    // a request that left before the reaction: same episode
    const rate = p.rate;
    expect(p.throttled(3005, undefined, 2995)).toBe('same');
    expect(p.rate).toBe(rate);
    expect(p.throttleEpisodes).toBe(1);
  });

  it('honours Retry-After when it is longer than the backoff', () => {
    const p = new Pacer(20, 0);
    p.throttled(1000, 5000);
    expect(p.pausedUntil).toBe(6000);
    expect(p.nextAt(1000)).toBeGreaterThanOrEqual(6000);
  });
});

describe('PairLimiter', () => {
  it('keeps 6 s between two messages to one recipient and forgets old entries', () => {
    const pair = new PairLimiter();
    expect(pair.earliest('491', 0)).toBe(0);
    pair.record('491', 100);
    expect(pair.earliest('491', 200)).toBe(6100);
    expect(pair.earliest('492', 200)).toBe(200);
    expect(pair.earliest('491', 7000)).toBe(7000);
    expect(pair.size).toBe(0);
  });

  it('remembers tens of thousands of recent departures (ring growth), some recorded out of time order', () => {
    const pair = new PairLimiter();
    // 50,000 recipients over 5 s (10,000 msg/s), then one of them again
    for (let i = 0; i < 50_000; i++) pair.record(`49${i}`, i / 10);
    expect(pair.size).toBe(50_000);
    expect(pair.earliest('490', 5000)).toBe(6000);
    expect(pair.earliest('4949999', 5000)).toBeCloseTo(4999.9 + 6000);
    pair.record('4412345', 5001);
    expect(pair.earliest('4412345', 5002)).toBe(11_001);
    // recorded as its answer came back, after a later departure: it still counts from when it left
    pair.record('4400001', 4000);
    expect(pair.earliest('4400001', 5002)).toBe(10_000);
    expect(pair.earliest('4400001', 10_001)).toBe(10_001);
    // 6 s after the last one, everything is forgotten
    expect(pair.earliest('4949999', 12_000)).toBe(12_000);
    expect(pair.size).toBe(0);
  });

  it('backs off 4^n seconds after 131056, never less than the pair interval', () => {
    expect([0, 1, 2, 3, 4].map(pairBackoffMs)).toEqual([6000, 6000, 16_000, 64_000, 256_000]);
  });
});
