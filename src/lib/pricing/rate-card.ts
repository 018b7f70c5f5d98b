/**
 * Meta's rate card, read from the CSV Meta publishes on its pricing page (one file per billing currency, plus the
 * volume-tier tables). Meta does not document the column layout, so columns are matched by their header name:
 *
 *   Market, [Currency], Marketing, Utility, Authentication, [Authentication-International], [Service], [Tier]
 *
 * Lines before the header may carry the card's date and currency ("Effective date,2026-10-01", "Currency,USD");
 * an "Effective date" column does as well. The date is required: rates change every quarter, and an estimate
 * from an old card must say so. Rows with a Tier ("1:100000", "100,001-1,000,000", "25000001+") give the
 * utility and authentication rates for that range of the month's delivered volume in the market.
 * wacx ships no rates: the card is the user's file.
 */
import { readFileSync } from 'node:fs';
import { UsageError } from '../errors.js';
import { fsReason } from '../files.js';
import { lazyModule } from '../lazy.js';
import { PRICING_CATEGORIES, type PricingCategory, TIERED } from './categories.js';
import { type Micros, parseMicros } from './money.js';

const csvSync = lazyModule<typeof import('csv-parse/sync')>('csv-parse/sync');

export type Rates = Partial<Record<PricingCategory, Micros>>;

export interface Tier {
  /** First and last monthly delivered message (1-based) the tier applies to; `to` null = no upper end. */
  from: number;
  to: number | null;
  rates: Rates;
}

export interface MarketRates {
  /** The market's name as written on the card ("Germany", "Rest of Western Europe"). */
  name: string;
  rates: Rates;
  tiers: Tier[];
}

export interface RateCard {
  path: string;
  /** YYYY-MM-DD. */
  effectiveDate: string;
  currency: string | null;
  /** Keyed by the market's name, lower-cased. */
  markets: Map<string, MarketRates>;
}

const CATEGORY_HEADERS: Record<string, PricingCategory> = {
  marketing: 'marketing',
  utility: 'utility',
  authentication: 'authentication',
  authenticationinternational: 'authentication_international',
  authinternational: 'authentication_international',
  service: 'service',
};
const MARKET_HEADERS = new Set(['market', 'marketname', 'country', 'countryorregion', 'region']);

const MONTHS = [
  'january',
  'february',
  'march',
  'april',
  'may',
  'june',
  'july',
  'august',
  'september',
  'october',
  'november',
  'december',
];

/** "Authentication - International (USD)" → "authenticationinternational". */
function headerKey(cell: string): string {
  return cell
    .replace(/\(.*?\)/g, '')
    .toLowerCase()
    .replace(/[^a-z]/g, '');
}

function currencyInHeader(cell: string): string | null {
  return /\(([A-Z]{3})\)/.exec(cell)?.[1] ?? null;
}

/** 2026-10-01, 2026/10/01, "October 1, 2026", "1 October 2026" → "2026-10-01"; null otherwise. */
export function parseCardDate(text: string): string | null {
  const iso = /(\d{4})[-/](\d{1,2})[-/](\d{1,2})/.exec(text);
  let y: number;
  let m: number;
  let d: number;
  if (iso) {
    [y, m, d] = [Number(iso[1]), Number(iso[2]), Number(iso[3])];
  } else {
    const words = text.toLowerCase();
    const a = /([a-z]+)\s+(\d{1,2}),?\s+(\d{4})/.exec(words);
    const b = /(\d{1,2})\s+([a-z]+),?\s+(\d{4})/.exec(words);
    const month = a ? a[1] : b ? b[2] : undefined;
    const idx = month ? MONTHS.indexOf(month) : -1;
    if (idx < 0 || !(a || b)) return null;
    m = idx + 1;
    d = Number(a ? a[2] : b?.[1]);
    y = Number(a ? a[3] : b?.[3]);
  }
  const date = new Date(Date.UTC(y, m - 1, d));
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== m - 1 || date.getUTCDate() !== d) return null;
  return date.toISOString().slice(0, 10);
}

function parseTier(text: string): { from: number; to: number | null } | null {
  const compact = text.replace(/[\s,]/g, '');
  const open = /^(\d+)\+$/.exec(compact);
  if (open) return { from: Number(open[1]), to: null };
  const range = /^(\d+)[:\-–](\d+)$/.exec(compact);
  if (!range) return null;
  const from = Number(range[1]);
  const to = Number(range[2]);
  return from <= to ? { from: Math.max(1, from), to } : null;
}

type Cells = string[];
interface Located {
  cells: Cells;
  line: number;
}

function parseRecords(text: string, path: string): Located[] {
  const { parse } = csvSync();
  try {
    const records = parse(text, {
      relax_column_count: true,
      skip_empty_lines: true,
      comment: '#',
      comment_no_infix: true,
      bom: true,
      info: true,
      trim: true,
    }) as unknown as { record: Cells; info: { lines: number } }[];
    return records.map((r) => ({ cells: r.record, line: r.info.lines }));
  } catch (error) {
    const line = (error as { lines?: number }).lines;
    throw new UsageError(`not a readable CSV: ${(error as Error).message}`, {
      location: line ? `${path}:${line}` : path,
      hint: "Download the rate card again from Meta's pricing page (CSV).",
    });
  }
}

/** Reads and checks a rate card; every problem is a UsageError naming file:line:column. */
export function readRateCard(path: string, flag = '--rate-card'): RateCard {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`Cannot read ${path}: ${fsReason(error)}.`, { location: flag, cause: error });
  }
  return parseRateCard(text, path);
}

export function parseRateCard(text: string, path: string): RateCard {
  const records = parseRecords(text, path);
  const at = (line: number, column?: number) => (column ? `${path}:${line}:${column}` : `${path}:${line}`);

  let effectiveDate: string | null = null;
  let currency: string | null = null;
  let headerIndex = -1;
  for (let i = 0; i < records.length; i++) {
    const { cells, line } = records[i] as Located;
    const keys = cells.map(headerKey);
    if (keys.some((k) => MARKET_HEADERS.has(k)) && keys.some((k) => k in CATEGORY_HEADERS)) {
      headerIndex = i;
      break;
    }
    const label = keys[0] ?? '';
    const value = cells.slice(1).join(' ').trim() || cells[0] || '';
    if (label.startsWith('effective') || /effective/i.test(cells.join(' '))) {
      effectiveDate = parseCardDate(value) ?? parseCardDate(cells.join(' '));
      if (!effectiveDate)
        throw new UsageError(`"${cells.join(',')}" has no date I can read.`, { location: at(line) });
    } else if (label === 'currency') {
      currency = (cells[1] ?? '').toUpperCase() || null;
    }
  }
  if (headerIndex < 0) {
    throw new UsageError(
      'no header row with a Market column and rate columns (Marketing, Utility, Authentication, …).',
      {
        location: path,
        hint: "Use the CSV rate card from Meta's pricing page, or the layout of examples/rate-card.example.csv.",
      },
    );
  }

  const header = records[headerIndex] as Located;
  const keys = header.cells.map(headerKey);
  const marketCol = keys.findIndex((k) => MARKET_HEADERS.has(k));
  const currencyCol = keys.indexOf('currency');
  const tierCol = keys.findIndex((k) => k === 'tier' || k === 'volumetier' || k === 'monthlyvolume');
  const dateCol = keys.findIndex((k) => k.startsWith('effective'));
  const rateCols: [number, PricingCategory][] = [];
  keys.forEach((k, col) => {
    const category = CATEGORY_HEADERS[k];
    if (category) rateCols.push([col, category]);
    const c = currencyInHeader(header.cells[col] ?? '');
    if (category && c) currency ??= c;
  });

  const markets = new Map<string, MarketRates>();
  for (const { cells, line } of records.slice(headerIndex + 1)) {
    const name = (cells[marketCol] ?? '').trim();
    if (name === '') {
      if (cells.every((c) => c === '')) continue;
      throw new UsageError('the Market cell is empty.', { location: at(line, marketCol + 1) });
    }
    if (currencyCol >= 0 && cells[currencyCol]) {
      const rowCurrency = (cells[currencyCol] as string).toUpperCase();
      if (currency && rowCurrency !== currency) {
        throw new UsageError(
          `currency ${rowCurrency}, but the card is in ${currency}; use one card per currency.`,
          {
            location: at(line, currencyCol + 1),
          },
        );
      }
      currency = rowCurrency;
    }
    if (dateCol >= 0 && cells[dateCol]) {
      const date = parseCardDate(cells[dateCol] as string);
      if (!date)
        throw new UsageError(`"${cells[dateCol]}" is not a date.`, { location: at(line, dateCol + 1) });
      if (effectiveDate && date !== effectiveDate) {
        throw new UsageError(`effective date ${date}, but the card says ${effectiveDate}.`, {
          location: at(line, dateCol + 1),
        });
      }
      effectiveDate = date;
    }
    const rates: Rates = {};
    for (const [col, category] of rateCols) {
      const cell = (cells[col] ?? '').replace(/^[$€£]/, '').trim();
      if (cell === '' || cell === '-' || /^n\/?a$/i.test(cell)) continue;
      const micros = parseMicros(cell);
      if (micros === null) {
        throw new UsageError(
          `${header.cells[col]} "${cells[col]}" is not a price (a decimal such as 0.0456).`,
          {
            location: at(line, col + 1),
          },
        );
      }
      rates[category] = micros;
    }
    const key = name.toLowerCase();
    const market = markets.get(key) ?? { name, rates: {}, tiers: [] };
    const tierText = tierCol >= 0 ? (cells[tierCol] ?? '').trim() : '';
    if (tierText === '') {
      if (markets.has(key) && Object.keys(market.rates).length > 0) {
        throw new UsageError(`${name} appears twice.`, { location: at(line, marketCol + 1) });
      }
      market.rates = rates;
    } else {
      const range = parseTier(tierText);
      if (!range) {
        throw new UsageError(
          `tier "${tierText}" is not a range such as 1:100000, 100,001-1,000,000 or 25000001+.`,
          {
            location: at(line, tierCol + 1),
          },
        );
      }
      const tiered: Rates = {};
      for (const c of PRICING_CATEGORIES) if (TIERED.has(c) && rates[c] !== undefined) tiered[c] = rates[c];
      market.tiers.push({ ...range, rates: tiered });
    }
    markets.set(key, market);
  }
  if (markets.size === 0)
    throw new UsageError('the card has a header but no market rows.', { location: path });
  if (!effectiveDate) {
    throw new UsageError('the card has no effective date.', {
      location: path,
      hint: 'Add a line "Effective date,YYYY-MM-DD" before the header (the date on Meta\'s pricing page).',
    });
  }
  for (const market of markets.values()) market.tiers.sort((a, b) => a.from - b.from);
  return { path, effectiveDate, currency, markets };
}

/**
 * The rate of one message in `market`, the `volume`-th delivered message of its category this month (1-based):
 * the tier whose range holds the volume, else the market's list rate. null: the card has no price for it.
 */
export function rateFor(market: MarketRates, category: PricingCategory, volume: number): Micros | null {
  if (TIERED.has(category)) {
    for (const tier of market.tiers) {
      if (volume >= tier.from && (tier.to === null || volume <= tier.to)) {
        const r = tier.rates[category];
        if (r !== undefined) return r;
      }
    }
  }
  return market.rates[category] ?? null;
}

/** The last quarter boundary (Jan 1, Apr 1, Jul 1, Oct 1) on or before `date`, as YYYY-MM-DD. */
export function lastQuarterBoundary(date: Date): string {
  const month = Math.floor(date.getUTCMonth() / 3) * 3;
  return new Date(Date.UTC(date.getUTCFullYear(), month, 1)).toISOString().slice(0, 10);
}

/** Meta changes rates only at quarter boundaries: a card dated before the last one may be out of date. */
export function isCardStale(card: RateCard, now: Date): boolean {
  return card.effectiveDate < lastQuarterBoundary(now);
}
