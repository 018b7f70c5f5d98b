import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { PricingCategory } from '../../src/lib/pricing/categories.js';
import { pricingCategory } from '../../src/lib/pricing/categories.js';
import { CountryOf, type EstimateInput, estimateCost } from '../../src/lib/pricing/estimate.js';
import { MarketResolver } from '../../src/lib/pricing/markets.js';
import { parseRateCard, readRateCard } from '../../src/lib/pricing/rate-card.js';
import { chargeFor, regimeOn } from '../../src/lib/pricing/rules.js';

const CARD = readRateCard(join(import.meta.dirname, '../../examples/rate-card.example.csv'));
const NOW = new Date('2026-12-04T09:00:00Z');

// one recipient per market kind: own row, region, "Other", NANP, BSUID
const DE = '4915112345678';
const IN = '919876543210';
const US = '12025550123';
const CA = '14165550123';
const AT = '436641234567'; // Rest of Western Europe
const JP = '819012345678'; // Rest of Asia Pacific: not on the example card → Other
const BSUID_DE = 'DE.13491208655302741918';

function input(overrides: Partial<EstimateInput> = {}): EstimateInput {
  return {
    card: CARD,
    category: 'marketing',
    sendDate: NOW,
    recipients: [DE, IN, US, CA, AT, JP, BSUID_DE].map((key, i) => ({ key, line: i + 2 })),
    customerServiceWindows: new Set(),
    freeEntryPointWindows: new Set(),
    monthVolume: () => 0,
    windowSource: 'the test',
    volumeSource: 'the test',
    ...overrides,
  };
}

const byCountry = (e: ReturnType<typeof estimateCost>) =>
  Object.fromEntries(e.lines.map((l) => [l.country, { market: l.market, billed: l.billed, cost: l.cost }]));

describe('cost estimate', () => {
  it('prices each recipient by its market: own row, region, Other; a BSUID by its country prefix', () => {
    const e = estimateCost(input(), NOW);
    expect(byCountry(e)).toEqual({
      DE: { market: 'Germany', billed: 2, cost: 200_000 },
      IN: { market: 'India', billed: 1, cost: 10_000 },
      US: { market: 'North America', billed: 1, cost: 25_000 },
      CA: { market: 'North America', billed: 1, cost: 25_000 },
      AT: { market: 'Rest of Western Europe', billed: 1, cost: 60_000 },
      JP: { market: 'Other', billed: 1, cost: 60_000 },
    });
    expect(e.total).toEqual({
      messages: 7,
      billed: 7,
      freeCustomerService: 0,
      freeEntryPoint: 0,
      notDelivered: 0,
      pricingUnknown: 0,
      unpriced: 0,
      cost: 380_000,
    });
    expect(e.currency).toBe('USD');
    expect(e.card).toEqual({
      path: CARD.path,
      effectiveDate: '2026-10-01',
      stale: false,
      lastQuarterBoundary: '2026-10-01',
    });
  });

  it('every category × window under the rules from 2026-10-01: only free entry point windows are free', () => {
    const categories: PricingCategory[] = ['marketing', 'utility', 'authentication', 'service'];
    for (const category of categories) {
      const e = estimateCost(
        input({
          category,
          recipients: [{ key: DE }, { key: IN }, { key: US }],
          customerServiceWindows: new Set([DE]),
          freeEntryPointWindows: new Set([IN]),
        }),
        NOW,
      );
      expect({ category, ...e.total }).toMatchObject({
        category,
        billed: 2,
        freeEntryPoint: 1,
        freeCustomerService: 0,
      });
    }
  });

  it('the 2026-10-01 change, both sides of the date: utility inside the window was free until then', () => {
    const utilityInWindow = (day: string) =>
      estimateCost(
        input({
          category: 'utility',
          sendDate: new Date(`${day}T12:00:00Z`),
          recipients: [{ key: DE }, { key: US }],
          customerServiceWindows: new Set([DE]),
        }),
        NOW,
      );
    const before = utilityInWindow('2026-09-30');
    expect(before.regime).toBe('per-message');
    expect(before.total).toMatchObject({ billed: 1, freeCustomerService: 1, cost: 4_000 });
    const after = utilityInWindow('2026-10-01');
    expect(after.regime).toBe('per-message-2026-10');
    expect(after.total).toMatchObject({ billed: 2, freeCustomerService: 0, cost: 54_000 });
    // marketing inside the window was always billed
    expect(chargeFor('per-message', 'marketing', { customerService: true, freeEntryPoint: false })).toBe(
      'billed',
    );
    expect(regimeOn(new Date('2025-06-30T23:59:59Z'))).toBeNull();
    expect(() => estimateCost(input({ sendDate: new Date('2025-06-30T12:00:00Z') }), NOW)).toThrow(
      /per conversation/,
    );
  });

  it("volume tiers: month-to-date volume moves the campaign's messages into cheaper tiers as it goes", () => {
    const recipients = Array.from({ length: 10 }, (_, i) => ({
      key: `49151123456${String(i).padStart(2, '0')}`,
    }));
    const e = estimateCost(
      input({ category: 'utility', recipients, monthVolume: (m) => (m === 'Germany' ? 99_995 : 0) }),
      NOW,
    );
    // volumes 99,996–100,000 at the list rate, 100,001–100,005 in the tier
    expect(e.total.cost).toBe(5 * 50_000 + 5 * 45_000);
    const marketing = estimateCost(input({ recipients, monthVolume: () => 99_995 }), NOW);
    expect(marketing.total.cost).toBe(10 * 100_000);
  });

  it('rows without a price are counted, listed by line, and left out of the total', () => {
    const card = parseRateCard(
      'Effective date,2026-10-01\nMarket,Marketing,Utility\nGermany,0.10,\n',
      'c.csv',
    );
    const e = estimateCost(input({ card, category: 'utility' }), NOW);
    expect(e.total).toMatchObject({ messages: 7, billed: 0, unpriced: 7, cost: 0 });
    expect(e.unpricedRows.count).toBe(7);
    expect(e.unpricedRows.examples[0]).toBe(`line 2 (${DE})`);
    expect(e.lines.find((l) => l.country === 'US')?.market).toBeNull();
  });

  it('says what it assumed, and warns about a card older than the last quarter boundary', () => {
    const e = estimateCost(input({ category: 'authentication' }), new Date('2027-01-15T00:00:00Z'));
    expect(e.card.stale).toBe(true);
    expect(e.card.lastQuarterBoundary).toBe('2027-01-01');
    expect(e.assumptions.join('\n')).toMatch(/every message is delivered/);
    expect(e.assumptions.join('\n')).toMatch(/authentication-international/);
    expect(e.assumptions.join('\n')).toMatch(/volume tiers from this month/);
  });

  it('a card row named after the country wins over its region (the standalone markets of 2026-10-01)', () => {
    const card = parseRateCard(
      'Effective date,2026-10-01\nMarket,Marketing\nUkraine,0.09\nRest of Central & Eastern Europe,0.08\n',
      'c.csv',
    );
    const markets = new MarketResolver(card);
    expect(markets.resolve('UA')).toMatchObject({ via: 'country', market: { name: 'Ukraine' } });
    expect(markets.resolve('PL')).toMatchObject({
      via: 'region',
      market: { name: 'Rest of Central & Eastern Europe' },
    });
    expect(markets.resolve('JP')).toBeNull();
  });

  it("countries: phone numbers by calling code (NANP by area code), BSUIDs by prefix; categories from Meta's words", () => {
    const countries = new CountryOf();
    expect([DE, US, CA, '447700900123', 'US.ENT.998877'].map((k) => countries.of(k))).toEqual([
      'DE',
      'US',
      'CA',
      'GB',
      'US',
    ]);
    expect(
      ['MARKETING', 'marketing_lite', 'authentication-international', 'bogus'].map(pricingCategory),
    ).toEqual(['marketing', 'marketing', 'authentication_international', null]);
  });
});
