import { describe, expect, it } from 'vitest';
import {
  AdaptiveRate,
  CRUISE_MS,
  MAX_STREAK_PAUSE_MS,
  RECOVER_MS,
  STREAK_PAUSE_MS,
  TOLERANCE,
} from '../../src/lib/campaign/engine/adaptive-rate.js';

/** Accepted answers at `rate` msg/s from `from` to `to` (ms), as the engine reports them. */
function accept(a: AdaptiveRate, rate: number, from: number, to: number): void {
  for (let t = from; t < to; t += 1000 / rate) a.accepted(t);
}

/** Lets `ms` pass without a refusal, ticking every 50 ms like the engine's planning; returns the rates seen. */
function pass(a: AdaptiveRate, from: number, ms: number): number[] {
  const rates: number[] = [];
  for (let t = from; t <= from + ms; t += 50) {
    if (a.tick(t)) rates.push(a.rate);
    a.accepted(t);
  }
  return rates;
}

/**
 * Drives the controller against a fixed-window API whose limit is `limit(t)` msg/s: at a rate above it (the
 * sender's spacing puts `rate` messages in 1008 ms) one refusal a second, otherwise accepted answers. Returns the
 * rate every second and the refusals.
 */
function drive(a: AdaptiveRate, limit: (t: number) => number, from: number, to: number) {
  const rates: number[] = [];
  let refusals = 0;
  for (let t = from; t < to; t += 50) {
    if (t % 1000 === 0) rates.push(a.rate);
    if (a.rate * (1000 / 1008) > limit(t) + 0.05 && t % 1000 === 500) {
      a.throttled(t, t - 10);
      refusals++;
    } else {
      a.tick(t);
      a.accepted(t);
    }
  }
  return { rates, refusals };
}

describe('AdaptiveRate (the rate the API accepts)', () => {
  it('starts at the ceiling and stays there while nothing is refused', () => {
    const a = new AdaptiveRate(80, 0);
    expect(a.rate).toBe(80);
    expect(pass(a, 0, 20_000)).toEqual([]);
    expect(a.state()).toMatchObject({ rate: 80, good: 80, bad: null, episodes: 0, storm: false });
  });

  it('refused above a rate it held: back to that rate at once, pausing only for the rest of the window', () => {
    const a = new AdaptiveRate(40, 0);
    accept(a, 20, 0, 3000); // the API accepted 20 msg/s of the 40 sent
    expect(a.throttled(3000, 2999).kind).toBe('limit');
    expect(a.rate).toBe(20); // what it accepted (at least half the rate)
    const rates = pass(a, 3000, 1600);
    expect(a.state().good).toBe(20); // held a second without a refusal
    expect(rates).toEqual([30]); // bisection toward the refused 40
    const r = a.throttled(4700, 4690);
    expect(r.kind).toBe('limit');
    expect(a.rate).toBe(20);
    expect(a.state().bad).toBe(30);
    // the pause: what is left of a one-second window at the refused rate, never seconds
    expect(r.pauseMs).toBeCloseTo(1000 * (1 - 20 / 30), 5);
  });

  it('converges between the accepted and the refused rate within the tolerance, then cruises and re-probes', () => {
    const a = new AdaptiveRate(20, 0);
    accept(a, 10, 0, 2000);
    const { rates, refusals } = drive(a, () => 10, 2000, 122_000);
    const { good, bad } = a.state();
    expect(good).toBeGreaterThanOrEqual(10 * 0.95);
    expect(good).toBeLessThanOrEqual(10 * 1.01);
    if (bad !== null) expect(bad - good!).toBeLessThanOrEqual(TOLERANCE * good! * 2);
    // after 20 s, within a few % of the limit all the time
    expect(Math.min(...rates.slice(20))).toBeGreaterThanOrEqual(9.5);
    // probing costs a refusal every CRUISE_MS or so, far fewer than one a second (120)
    expect(refusals).toBeLessThan(120_000 / CRUISE_MS + 20);
  });

  it('when the refused rate passes again (the limit lifted) it climbs to the ceiling in growing steps', () => {
    const a = new AdaptiveRate(100, 0);
    accept(a, 50, 0, 2000);
    const { rates } = drive(a, (t) => (t < 60_000 ? 50 : 100), 2000, 120_000);
    const lift = rates.slice(58); // from the lift on (one a second)
    const back = lift.findIndex((r) => r >= 100);
    expect(back).toBeGreaterThan(0);
    expect(back).toBeLessThanOrEqual(30);
    const steps = [...new Set(lift.slice(0, back + 1))];
    const growth = steps.slice(1).map((r, i) => r - steps[i]!);
    // growing steps once above the rate refused before (not +10 % of the target a second)
    expect(growth.at(-2)!).toBeGreaterThan(growth[0]!);
    expect(a.state()).toMatchObject({ rate: 100, bad: null });
  });

  it('a storm (nothing accepted for a whole window): longer pauses, the rate halves, what was known is kept', () => {
    const a = new AdaptiveRate(200, 0);
    accept(a, 200, 0, 3000);
    expect(a.tick(3000)).toBe(false);
    expect(a.state().good).toBe(200);
    let t = 3000;
    const first = a.throttled(t, t - 5);
    expect(first.kind).toBe('limit');
    const pauses: number[] = [first.pauseMs];
    const kinds: string[] = [];
    for (let i = 0; i < 8; i++) {
      t += pauses.at(-1)! + 5; // the first request after the pause is refused too
      const r = a.throttled(t, t - 1);
      kinds.push(r.kind);
      pauses.push(r.pauseMs);
    }
    expect(kinds).toContain('streak');
    expect(kinds).toContain('storm');
    expect(Math.max(...pauses)).toBeLessThanOrEqual(MAX_STREAK_PAUSE_MS);
    expect(a.state().storm).toBe(true);
    expect(a.rate).toBeLessThanOrEqual(200 / 4);
    expect(a.state().good).toBe(200); // what was known before the storm
    // the storm ends: the rate doubles back every RECOVER_MS to what it was
    a.accepted(t + 2000);
    const rates = pass(a, t + 2000, 10 * RECOVER_MS);
    expect(rates.at(-1)).toBe(200);
    for (let i = 1; i < rates.length; i++) expect(rates[i]!).toBeLessThanOrEqual(rates[i - 1]! * 2 + 1e-9);
  });

  it('the rest of an exhausted window: the pause grows once per resume, not once per refused answer in flight', () => {
    const a = new AdaptiveRate(1000, 0);
    accept(a, 500, 0, 3000); // the API accepted 500 msg/s of the 1,000 sent
    const first = a.throttled(3000, 2999);
    expect(first.kind).toBe('limit');
    expect(a.rate).toBe(500); // at least half the refused rate
    let t = 3000 + first.pauseMs;
    // 30 requests left in the 10 ms after the pause; all are refused, their answers arrive one after another
    const answers = Array.from({ length: 30 }, (_, i) => a.throttled(t + 12 + i * 0.2, t + i * 0.3));
    expect(answers[0]).toEqual({ kind: 'streak', pauseMs: STREAK_PAUSE_MS });
    expect(answers.slice(1).map((r) => r.kind)).toEqual(Array(29).fill('same'));
    expect(Math.max(...answers.slice(1).map((r) => r.pauseMs))).toBeLessThanOrEqual(STREAK_PAUSE_MS);
    // the next resume is refused too: the pause doubles, once
    t += 12 + STREAK_PAUSE_MS;
    const again = [a.throttled(t + 10, t + 1), a.throttled(t + 11, t + 2)];
    expect(again.map((r) => r.kind)).toEqual(['streak', 'same']);
    expect(again[0]!.pauseMs).toBe(2 * STREAK_PAUSE_MS);
    // no storm: the refused requests all left within the window after the decrease
    expect(a.state()).toMatchObject({ rate: 500, storm: false });
    // then accepted: a later refusal is about the limit again, not the rest of a window
    a.accepted(t + 600);
    expect(a.throttled(t + 700, t + 650).kind).toBe('limit');
  });

  it('honours Retry-After, and never goes below 1 % of the ceiling', () => {
    const a = new AdaptiveRate(1000, 0);
    accept(a, 1000, 0, 2000);
    expect(a.throttled(2000, 1999, 3000).pauseMs).toBe(3000);
    let t = 5000;
    for (let i = 0; i < 60; i++) {
      t += 2100;
      a.throttled(t, t - 1);
    }
    expect(a.rate).toBe(10);
  });
});
