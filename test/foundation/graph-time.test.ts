import { describe, expect, it } from 'vitest';
import { parseUnixSeconds } from '../../src/lib/graph/time.js';

describe('parseUnixSeconds (webhook timestamps)', () => {
  it('reads Unix seconds given as a number or as digits', () => {
    expect(parseUnixSeconds(1_700_000_000)).toBe(1_700_000_000_000);
    expect(parseUnixSeconds('1700000000')).toBe(1_700_000_000_000);
    expect(parseUnixSeconds(' 1700000000 ')).toBe(1_700_000_000_000);
    expect(parseUnixSeconds(1_700_000_000.9)).toBe(1_700_000_000_000);
  });

  it('accepts a date, and gives null for anything else', () => {
    expect(parseUnixSeconds('2023-08-22T19:05:53Z')).toBe(Date.UTC(2023, 7, 22, 19, 5, 53));
    expect(parseUnixSeconds('soon')).toBeNull();
    expect(parseUnixSeconds(Number.NaN)).toBeNull();
    expect(parseUnixSeconds(null)).toBeNull();
    expect(parseUnixSeconds({})).toBeNull();
  });
});
