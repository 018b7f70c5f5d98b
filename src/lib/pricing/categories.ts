/**
 * The pricing categories of Meta's rate cards and of the `pricing.category` field of status webhooks. Webhooks
 * spell authentication-international both with a hyphen and with an underscore; both mean the same rate.
 */
export const PRICING_CATEGORIES = [
  'marketing',
  'utility',
  'authentication',
  'authentication_international',
  'service',
] as const;
export type PricingCategory = (typeof PRICING_CATEGORIES)[number];

/** A template category (MARKETING, UTILITY, AUTHENTICATION) or a webhook's pricing category, as a rate column. */
export function pricingCategory(value: string | null | undefined): PricingCategory | null {
  const key = (value ?? '')
    .trim()
    .toLowerCase()
    .replace(/[\s-]+/g, '_');
  if (key === 'marketing_lite') return 'marketing';
  return (PRICING_CATEGORIES as readonly string[]).includes(key) ? (key as PricingCategory) : null;
}

/** Categories whose rate falls with the month's delivered volume per market. */
export const TIERED: ReadonlySet<PricingCategory> = new Set(['utility', 'authentication']);
