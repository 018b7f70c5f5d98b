/**
 * Which market of a rate card prices a recipient. Meta prices by the recipient's country calling code, grouped
 * into markets: countries with their own row ("Germany"), regions ("Rest of Western Europe", "North America")
 * and "Other". A card row named after the recipient's country always wins, so the standalone markets Meta adds
 * (nine on 2026-10-01) need no change here; otherwise the region lists below decide, as Meta's pricing page
 * publishes them, and what no list names is "Other".
 */
import type { MarketRates, RateCard } from './rate-card.js';

const REGIONS: Record<string, string> = {
  'north america': 'CA US',
  'rest of africa':
    'DZ AO BJ BW BF BI CM TD CG ER ET GA GM GH GW CI KE LS LR LY MG MW ML MR MA MZ NA NE RW SN SL SO SS SD SZ TZ TG TN UG ZM',
  'rest of asia pacific': 'AF AU BD KH CN HK JP LA MN NP NZ PG PH SG LK TW TJ TH TM UZ VN',
  'rest of central & eastern europe': 'AL AM AZ BY BG HR CZ GE GR HU LV LT MD MK PL RO RS SK SI UA',
  'rest of latin america': 'BO CR DO EC SV GT HT HN JM NI PA PY PR UY VE',
  'rest of middle east': 'BH IQ JO KW LB OM QA YE',
  'rest of western europe': 'AT BE DK FI IE NO PT SE CH',
};

const REGION_OF = new Map<string, string>();
for (const [region, codes] of Object.entries(REGIONS))
  for (const c of codes.split(' ')) REGION_OF.set(c, region);

/** Other spellings of a country's English name that cards use. */
const ALIASES: Record<string, string[]> = {
  TR: ['turkey', 'turkiye'],
  AE: ['uae'],
  GB: ['uk', 'great britain'],
  RU: ['russian federation'],
  US: ['usa', 'united states of america'],
  CI: ['ivory coast', "cote d'ivoire"],
  CZ: ['czech republic'],
  MK: ['macedonia'],
  SZ: ['swaziland'],
};

const nameKey = (name: string) =>
  name
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/\band\b/g, '&')
    .replace(/[^a-z&]/g, '');

let displayNames: Intl.DisplayNames | undefined;
function englishName(country: string): string | undefined {
  displayNames ??= new Intl.DisplayNames(['en'], { type: 'region' });
  try {
    return displayNames.of(country);
  } catch {
    return undefined;
  }
}

export interface MarketMatch {
  market: MarketRates;
  /** How the market was chosen: the country's own row, its region, or "Other". */
  via: 'country' | 'region' | 'other';
}

/** Finds the card's market for an ISO 3166 alpha-2 country, caching per card. */
export class MarketResolver {
  private readonly byKey = new Map<string, MarketRates>();
  private readonly cache = new Map<string, MarketMatch | null>();

  constructor(card: RateCard) {
    for (const m of card.markets.values()) this.byKey.set(nameKey(m.name), m);
  }

  resolve(country: string | null): MarketMatch | null {
    const code = (country ?? '').toUpperCase();
    const cached = this.cache.get(code);
    if (cached !== undefined) return cached;
    const match = code === '' ? this.other() : this.lookup(code);
    this.cache.set(code, match);
    return match;
  }

  private lookup(code: string): MarketMatch | null {
    const names = [englishName(code), ...(ALIASES[code] ?? [])].filter((n): n is string => Boolean(n));
    for (const n of names) {
      const market = this.byKey.get(nameKey(n));
      if (market) return { market, via: 'country' };
    }
    const region = REGION_OF.get(code);
    const market = region ? this.byKey.get(nameKey(region)) : undefined;
    if (market) return { market, via: 'region' };
    return this.other();
  }

  private other(): MarketMatch | null {
    const market = this.byKey.get('other');
    return market ? { market, via: 'other' } : null;
  }
}
