import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/lib/errors.js';
import { formatMicros, parseMicros } from '../../src/lib/pricing/money.js';
import {
  isCardStale,
  lastQuarterBoundary,
  parseCardDate,
  parseRateCard,
  rateFor,
  readRateCard,
} from '../../src/lib/pricing/rate-card.js';

const EXAMPLE = join(import.meta.dirname, '../../examples/rate-card.example.csv');

function problem(text: string): UsageError {
  try {
    parseRateCard(text, 'card.csv');
  } catch (error) {
    if (error instanceof UsageError) return error;
    throw error;
  }
  throw new Error('the card was accepted');
}

describe('rate card', () => {
  it('reads the example card: date, currency, markets, tiers', () => {
    const card = readRateCard(EXAMPLE);
    expect(card.effectiveDate).toBe('2026-10-01');
    expect(card.currency).toBe('USD');
    expect([...card.markets.values()].map((m) => m.name)).toContain('Rest of Western Europe');
    const germany = card.markets.get('germany');
    expect(germany?.rates).toEqual({
      marketing: 100_000,
      utility: 50_000,
      authentication: 50_000,
      authentication_international: 60_000,
      service: 50_000,
    });
    expect(germany?.tiers).toEqual([
      { from: 100_001, to: 1_000_000, rates: { utility: 45_000, authentication: 45_000 } },
      { from: 1_000_001, to: null, rates: { utility: 40_000, authentication: 40_000 } },
    ]);
  });

  it('prices by tier: the list rate below the first tier, the tier rate inside it; marketing has no tiers', () => {
    const germany = readRateCard(EXAMPLE).markets.get('germany');
    if (!germany) throw new Error('no Germany');
    expect(rateFor(germany, 'utility', 100_000)).toBe(50_000);
    expect(rateFor(germany, 'utility', 100_001)).toBe(45_000);
    expect(rateFor(germany, 'authentication', 5_000_000)).toBe(40_000);
    expect(rateFor(germany, 'marketing', 5_000_000)).toBe(100_000);
  });

  it("matches Meta's headers by name, with the currency in the header and the date in a column", () => {
    const card = parseRateCard(
      [
        'Market,Effective Date,Marketing (EUR),Utility (EUR),Authentication (EUR),Authentication - International (EUR)',
        'Spain,"October 1, 2026",0.0509,0.0165,0.0165,',
      ].join('\n'),
      'card.csv',
    );
    expect(card).toMatchObject({ effectiveDate: '2026-10-01', currency: 'EUR' });
    expect(card.markets.get('spain')?.rates).toEqual({
      marketing: 50_900,
      utility: 16_500,
      authentication: 16_500,
    });
  });

  it('a price that is not a number names file, line and column; exit 2', () => {
    const e = problem('Effective date,2026-10-01\nMarket,Marketing,Utility\nGermany,0.10,ten cents\n');
    expect(e.message).toBe('card.csv:3:3: Utility "ten cents" is not a price (a decimal such as 0.0456).');
    expect(e.exitCode).toBe(2);
  });

  it('a card without an effective date is refused with the fix', () => {
    const e = problem('Market,Marketing\nGermany,0.1\n');
    expect(e.message).toBe('card.csv: the card has no effective date.');
    expect(e.hint).toContain('Effective date,YYYY-MM-DD');
  });

  it('no header, a market twice, a bad tier, an empty market, mixed currencies: each named', () => {
    expect(problem('hello,world\n1,2\n').message).toContain('no header row with a Market column');
    expect(problem('Effective date,2026-10-01\nMarket,Marketing\nIndia,0.01\nIndia,0.02\n').message).toBe(
      'card.csv:4:1: India appears twice.',
    );
    expect(problem('Effective date,2026-10-01\nMarket,Utility,Tier\nIndia,0.01,lots\n').message).toContain(
      'card.csv:3:3: tier "lots"',
    );
    expect(problem('Effective date,2026-10-01\nMarket,Utility\n,0.01\n').message).toBe(
      'card.csv:3:1: the Market cell is empty.',
    );
    expect(
      problem('Currency,USD\nEffective date,2026-10-01\nMarket,Currency,Utility\nIndia,INR,0.01\n').message,
    ).toBe('card.csv:4:2: currency INR, but the card is in USD; use one card per currency.');
    expect(problem('Effective date,someday\nMarket,Utility\nIndia,0.01\n').message).toContain('card.csv:1:');
  });

  it('a missing file is a usage error naming the flag', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wacx-card-'));
    const e = (() => {
      try {
        readRateCard(join(dir, 'nope.csv'));
      } catch (error) {
        return error as UsageError;
      }
    })();
    expect(e?.message).toMatch(/^--rate-card: Cannot read .*nope\.csv: no such file or directory\.$/);
    writeFileSync(join(dir, 'broken.csv'), 'Effective date,2026-10-01\nMarket,Utility\n"India,0.01\n');
    expect(() => readRateCard(join(dir, 'broken.csv'))).toThrow(/broken\.csv:\d+: not a readable CSV/);
  });

  it('dates, quarter boundaries and staleness', () => {
    expect(parseCardDate('2026/1/5')).toBe('2026-01-05');
    expect(parseCardDate('1 July 2026')).toBe('2026-07-01');
    expect(parseCardDate('2026-02-30')).toBeNull();
    expect(lastQuarterBoundary(new Date('2026-12-04T10:00:00Z'))).toBe('2026-10-01');
    expect(lastQuarterBoundary(new Date('2027-01-01T00:00:00Z'))).toBe('2027-01-01');
    const card = readRateCard(EXAMPLE);
    expect(isCardStale(card, new Date('2026-12-04T00:00:00Z'))).toBe(false);
    expect(isCardStale(card, new Date('2027-01-02T00:00:00Z'))).toBe(true);
  });

  it('money is exact in millionths', () => {
    expect(parseMicros('0.0123')).toBe(12_300);
    expect(parseMicros('0.1234567')).toBeNull();
    expect(parseMicros('-1')).toBeNull();
    expect(formatMicros(12_300)).toBe('0.0123');
    expect(formatMicros(1_500_000)).toBe('1.50');
    let sum = 0;
    for (let i = 0; i < 1_000_000; i++) sum += 12_300;
    expect(formatMicros(sum)).toBe('12300.00');
  });
});
