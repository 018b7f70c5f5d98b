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
  /** Actual cost only: sent but never delivered (not billed), or delivered without a `pricing` object yet. */
  notDelivered: number;
  pricingUnknown: number;
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

type Counts = Omit<EstimateLine, 'country' | 'market' | 'category'>;
const COUNT_KEYS = [
  'messages',
  'billed',
  'freeCustomerService',
  'freeEntryPoint',
  'notDelivered',
  'pricingUnknown',
  'unpriced',
  'cost',
] as const satisfies readonly (keyof Counts)[];
const noCounts = (): Counts => Object.fromEntries(COUNT_KEYS.map((k) => [k, 0])) as Counts;

/** What happened to one message, as far as its price goes. */
export type Outcome = Charge | 'not_delivered' | 'pricing_unknown';

/**
 * Adds up messages by country and market: each billed one at its market's rate for its category, counting the
 * month's volume per market and category as it goes (tiers). Used for the estimate and for the actual cost.
 */
export class Tally {
  private readonly markets: MarketResolver;
  private readonly countries = new CountryOf();
  private readonly lines = new Map<string, EstimateLine>();
  private readonly volume = new Map<string, number>();
  private readonly unpricedExamples: string[] = [];
  private unpricedCount = 0;

  constructor(
    card: RateCard,
    private readonly monthVolume: (market: string, category: PricingCategory) => number,
  ) {
    this.markets = new MarketResolver(card);
  }

  add(r: EstimateRecipient, category: PricingCategory, outcome: Outcome): void {
    const country = this.countries.of(r.key);
    const match = this.markets.resolve(country);
    const marketName = match?.market.name ?? null;
    const lineKey = `${country ?? ''}\u0000${marketName ?? ''}\u0000${category}`;
    let line = this.lines.get(lineKey);
    if (!line) {
      line = { country, market: marketName, category, ...noCounts() };
      this.lines.set(lineKey, line);
    }
    line.messages++;
    switch (outcome) {
      case 'free_entry_point':
        line.freeEntryPoint++;
        return;
      case 'free_customer_service':
        line.freeCustomerService++;
        return;
      case 'not_delivered':
        line.notDelivered++;
        return;
      case 'pricing_unknown':
        line.pricingUnknown++;
        return;
      case 'billed':
        break;
    }
    let rate: Micros | null = null;
    if (match) {
      let nth = 1;
      if (TIERED.has(category)) {
        const vKey = `${match.market.name}\u0000${category}`;
        nth = (this.volume.get(vKey) ?? this.monthVolume(match.market.name, category)) + 1;
        this.volume.set(vKey, nth);
      }
      rate = rateFor(match.market, category, nth);
    }
    if (rate === null) {
      line.unpriced++;
      this.unpricedCount++;
      if (this.unpricedExamples.length < MAX_UNPRICED_EXAMPLES) {
        this.unpricedExamples.push(r.line !== undefined ? `line ${r.line} (${r.key})` : r.key);
      }
      return;
    }
    line.billed++;
    line.cost += rate;
  }

  result(): Pick<Estimate, 'lines' | 'total' | 'unpricedRows'> {
    const lines = [...this.lines.values()].sort((a, b) => b.cost - a.cost || b.messages - a.messages);
    const total = noCounts();
    for (const l of lines) for (const k of COUNT_KEYS) total[k] += l[k];
    return { lines, total, unpricedRows: { examples: this.unpricedExamples, count: this.unpricedCount } };
  }
}

export function estimateCost(input: EstimateInput, now: Date): Estimate {
  const regime = regimeOn(input.sendDate);
  if (!regime) throw new UnsupportedDateError('before 2025-07-01 Meta charged per conversation');
  const category = input.category;
  const tally = new Tally(input.card, input.monthVolume);
  for (const r of input.recipients) {
    tally.add(
      r,
      category,
      chargeFor(regime, category, {
        customerService: input.customerServiceWindows.has(r.key),
        freeEntryPoint: input.freeEntryPointWindows.has(r.key),
      }),
    );
  }
  const { lines, total, unpricedRows } = tally.result();

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
    lines,
    total,
    unpricedRows,
    assumptions,
  };
}
