import { describe, expect, it } from 'vitest';
import { ago, formatDuration as doctorDuration } from '../../src/lib/doctor/format.js';
import { formatDuration, formatExactDuration } from '../../src/lib/io/format.js';

const S = 1000;
const MIN = 60 * S;
const H = 60 * MIN;
const DAY = 24 * H;

describe('one grammar for durations (lib/io/format.ts)', () => {
  it('two units by default, rounded down: what the history window and sync messages say', () => {
    expect(formatDuration(250)).toBe('250 ms');
    expect(formatDuration(42 * S + 900)).toBe('42 s');
    expect(formatDuration(5 * MIN + 3 * S)).toBe('5 min 3 s');
    expect(formatDuration(H)).toBe('1 h 0 min');
    expect(formatDuration(20 * H + 17 * MIN + 59 * S)).toBe('20 h 17 min');
    expect(formatDuration(47 * H + 59 * MIN)).toBe('47 h 59 min');
    expect(formatDuration(3 * DAY + 4 * H + 5 * MIN)).toBe('3 days 4 h');
  });

  it('one unit on request: what the doctor details say', () => {
    expect(formatDuration(999, 1)).toBe('999 ms');
    expect(formatDuration(59 * S, 1)).toBe('59 s');
    expect(formatDuration(3 * MIN + 59 * S, 1)).toBe('3 min');
    expect(formatDuration(36 * H, 1)).toBe('36 h');
    expect(formatDuration(13.5 * DAY, 1)).toBe('13 days');
    expect(doctorDuration(2 * H + 30 * MIN)).toBe('2 h');
    expect(doctorDuration(538 * DAY)).toBe('538 days');
  });

  it('drops the sign (callers say "ago" or "left") and names a time it cannot measure', () => {
    expect(formatDuration(-(6 * H + 5 * MIN))).toBe('6 h 5 min');
    expect(formatDuration(Number.NaN)).toBe('an unknown time');
    expect(ago(10 * H, 8 * H)).toBe('2 h ago');
    expect(ago(0, 3 * MIN)).toBe('in 3 min (in the future: check the clock)');
  });

  it('exact durations keep what was given, in the same words', () => {
    expect(formatExactDuration(10 * MIN)).toBe('10 min');
    expect(formatExactDuration(90 * S)).toBe('90 s');
    expect(formatExactDuration(250)).toBe('250 ms');
    expect(formatExactDuration(H)).toBe('1 h');
  });
});
