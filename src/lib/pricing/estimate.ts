/**
 * A campaign's price before it is sent: every recipient priced by its country's market on the card, the template's
 * current category, the rules in force on the send date, the open windows and the month's volume tiers.
 * Every message is assumed delivered (Meta bills on delivery), so the total is what the campaign costs at most.
 */
import { lazyModule } from '../lazy.js';
import type { PricingCategory } from './categories.js';
import { TIERED } from './categories.js';
import { MarketResolver } from './markets.js';
import type { Micros } from './money.js';
import { isCardStale, lastQuarterBoundary, type RateCard, rateFor } from './rate-card.js';
import { type Charge, chargeFor, type Regime, regimeOn } from './rules.js';

const phoneLib = lazyModule<typeof import('libphonenumber-js')>('libphonenumber-js');

const BSUID_COUNTRY = /^([A-Z]{2})\./;

export interface EstimateRecipient {
  /** E.164 digits without '+', or a BSUID (`US.1349…`). */
  key: string;
  /** Where the row came from (CSV line), for the list of rows without a price. */
  line?: number;
}

export interface EstimateInput {
  card: RateCard;
  category: PricingCategory;
  sendDate: Date;
  recipients: Iterable<EstimateRecipient>;
  /** Recipients (keys) with an open customer service / free entry point window at the send date. */
  customerServiceWindows: ReadonlySet<string>;
  freeEntryPointWindows: ReadonlySet<string>;
  /** Billed deliveries of a tiered category in a market (card name) earlier this month. */
  monthVolume: (market: string, category: PricingCategory) => number;
  /** What the windows and the volume were read from, for the assumptions ("the store, 1,204 events"). */
  windowSource: string;
  volumeSource: string;
}

export interface EstimateLine {
  country: string | null;
  market: string | null;
  category: PricingCategory;
  messages: number;
  billed: number;
  freeCustomerService: number;
  freeEntryPoint: number;
  unpriced: number;
  cost: Micros;
}

export interface Estimate {
  currency: string | null;
  card: { path: string; effectiveDate: string; stale: boolean; lastQuarterBoundary: string };
  sendDate: string;
  regime: Regime;
  category: PricingCategory;
  lines: EstimateLine[];
  total: Omit<EstimateLine, 'country' | 'market' | 'category'>;
  /** CSV lines (or keys) of the first rows without a price, and how many there are. */
  unpricedRows: { examples: string[]; count: number };
  assumptions: string[];
}

const MAX_UNPRICED_EXAMPLES = 20;

/** The recipient's country (ISO alpha-2): a BSUID's prefix, else the phone number's. Cached by leading digits. */
export class CountryOf {
  private readonly byPrefix = new Map<string, string | null>();
  of(key: string): string | null {
    const bsuid = BSUID_COUNTRY.exec(key);
    if (bsuid) return bsuid[1] as string;
    const prefix = key.slice(0, 6);
    const cached = this.byPrefix.get(prefix);
    if (cached !== undefined) return cached;
    // a number outside every known range still has a calling code: its first country is the market's country
    const parsed = phoneLib().parsePhoneNumberFromString(`+${key}`);
    const country = parsed?.country ?? parsed?.getPossibleCountries()[0] ?? null;
    this.byPrefix.set(prefix, country);
    return country;
  }
}

export class UnsupportedDateError extends Error {}

export function estimateCost(input: EstimateInput, now: Date): Estimate {
  const regime = regimeOn(input.sendDate);
  if (!regime) throw new UnsupportedDateError('before 2025-07-01 Meta charged per conversation');
  const markets = new MarketResolver(input.card);
  const countries = new CountryOf();
  const lines = new Map<string, EstimateLine>();
  const volume = new Map<string, number>();
  const unpricedExamples: string[] = [];
  let unpricedCount = 0;
  const category = input.category;

  for (const r of input.recipients) {
    const country = countries.of(r.key);
    const match = markets.resolve(country);
    const marketName = match?.market.name ?? null;
    const lineKey = `${country ?? ''}\u0000${marketName ?? ''}`;
    let line = lines.get(lineKey);
    if (!line) {
      line = {
        country,
        market: marketName,
        category,
        messages: 0,
        billed: 0,
        freeCustomerService: 0,
        freeEntryPoint: 0,
        unpriced: 0,
        cost: 0,
      };
      lines.set(lineKey, line);
    }
    line.messages++;
    const charge: Charge = chargeFor(regime, category, {
      customerService: input.customerServiceWindows.has(r.key),
      freeEntryPoint: input.freeEntryPointWindows.has(r.key),
    });
    if (charge === 'free_entry_point') {
      line.freeEntryPoint++;
      continue;
    }
    if (charge === 'free_customer_service') {
      line.freeCustomerService++;
      continue;
    }
    let rate: Micros | null = null;
    if (match) {
      let nth = 1;
      if (TIERED.has(category)) {
        const vKey = match.market.name;
        const before = volume.get(vKey) ?? input.monthVolume(vKey, category);
        nth = before + 1;
        volume.set(vKey, nth);
      }
      rate = rateFor(match.market, category, nth);
    }
    if (rate === null) {
      line.unpriced++;
      unpricedCount++;
      if (unpricedExamples.length < MAX_UNPRICED_EXAMPLES) {
        unpricedExamples.push(r.line !== undefined ? `line ${r.line} (${r.key})` : r.key);
      }
      continue;
    }
    line.billed++;
    line.cost += rate;
  }

  const sorted = [...lines.values()].sort((a, b) => b.cost - a.cost || b.messages - a.messages);
  const total = { messages: 0, billed: 0, freeCustomerService: 0, freeEntryPoint: 0, unpriced: 0, cost: 0 };
  for (const l of sorted) {
    total.messages += l.messages;
    total.billed += l.billed;
    total.freeCustomerService += l.freeCustomerService;
    total.freeEntryPoint += l.freeEntryPoint;
    total.unpriced += l.unpriced;
    total.cost += l.cost;
  }

  const assumptions = [
    'every message is delivered (Meta bills on delivery): the total is the most this campaign costs',
    regime === 'per-message-2026-10'
      ? 'rules from 2026-10-01: utility templates inside a customer service window are billed; only free entry point windows are free'
      : 'rules of 2025-07-01 to 2026-09-30: utility templates inside a customer service window are free',
    `customer service and free entry point windows at the send date from ${input.windowSource}`,
    TIERED.has(category)
      ? `volume tiers from this month's billed deliveries per market in ${input.volumeSource}`
      : `${category} has no volume tiers`,
    'markets by the recipient country calling code (a BSUID by its country prefix)',
  ];
  if (category === 'authentication') {
    assumptions.push(
      'authentication rate, not authentication-international (which applies only to eligible businesses messaging users abroad)',
    );
  }
  return {
    currency: input.card.currency,
    card: {
      path: input.card.path,
      effectiveDate: input.card.effectiveDate,
      stale: isCardStale(input.card, now),
      lastQuarterBoundary: lastQuarterBoundary(now),
    },
    sendDate: input.sendDate.toISOString(),
    regime,
    category,
    lines: sorted,
    total,
    unpricedRows: { examples: unpricedExamples, count: unpricedCount },
    assumptions,
  };
}
