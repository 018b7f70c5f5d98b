import type { Io } from '../lib/io/io.js';
import type { ActualCost } from '../lib/pricing/actual.js';
import type { CampaignEstimate } from '../lib/pricing/campaign-estimate.js';
import type { Estimate, EstimateLine } from '../lib/pricing/estimate.js';
import { formatMicros } from '../lib/pricing/money.js';
import type { RateCard } from '../lib/pricing/rate-card.js';

/** The estimate as `--json` prints it: snake_case, every key present, money as decimal strings of the card's currency. */
export function estimateJson(
  e: CampaignEstimate,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    ...extra,
    template: e.template,
    category: e.category,
    send_date: e.sendDate,
    rules: e.regime,
    currency: e.currency,
    rate_card: {
      path: e.card.path,
      effective_date: e.card.effectiveDate,
      stale: e.card.stale,
      last_quarter_boundary: e.card.lastQuarterBoundary,
    },
    lines: linesJson(e.lines),
    total: totalJson(e.total),
    unpriced_rows: e.unpricedRows,
    assumptions: e.assumptions,
  };
}

/** The estimate for people: a table by country and market, the total, then warnings and assumptions on stderr. */
export function printEstimate(io: Io, e: CampaignEstimate, heading: string): void {
  const currency = e.currency ?? '(currency not stated on the card)';
  io.out(heading);
  io.out(
    `Template ${e.template.name} (${e.template.language}), category ${e.template.category}; send date ${e.sendDate.slice(0, 10)}; prices in ${currency} from the card of ${e.card.effectiveDate}.`,
  );
  io.out();
  io.table(
    ['COUNTRY', 'MARKET', 'MESSAGES', 'BILLED', 'FREE (WINDOW)', 'NO PRICE', 'COST'],
    e.lines.map((l) => [
      l.country ?? '?',
      l.market ?? '(none on the card)',
      l.messages,
      l.billed,
      l.freeCustomerService + l.freeEntryPoint,
      l.unpriced,
      formatMicros(l.cost),
    ]),
  );
  io.out();
  io.out(
    `Total: ${e.total.messages} message(s), ${e.total.billed} billed, ${e.total.freeCustomerService + e.total.freeEntryPoint} free, ${e.total.unpriced} without a price: ${formatMicros(e.total.cost)} ${e.currency ?? ''}`.trimEnd(),
  );
  if (e.card.stale) {
    io.warn(
      `The rate card is dated ${e.card.effectiveDate}, before the last quarter boundary (${e.card.lastQuarterBoundary}): Meta may have changed its rates since. Download the current card from Meta's pricing page.`,
    );
  }
  if (e.unpricedRows.count > 0) {
    io.warn(
      `${e.unpricedRows.count} row(s) have no price on the card and are not in the total, e.g. ${e.unpricedRows.examples.slice(0, 5).join(', ')}.`,
    );
  }
  io.info('Assumed:');
  for (const a of e.assumptions) io.info(`  - ${a}`);
}

const linesJson = (lines: EstimateLine[]) =>
  lines.map((l) => ({
    country: l.country,
    market: l.market,
    category: l.category,
    messages: l.messages,
    billed: l.billed,
    free_customer_service: l.freeCustomerService,
    free_entry_point: l.freeEntryPoint,
    not_delivered: l.notDelivered,
    pricing_unknown: l.pricingUnknown,
    unpriced: l.unpriced,
    cost: formatMicros(l.cost),
  }));

const totalJson = (t: Estimate['total']) => ({
  messages: t.messages,
  billed: t.billed,
  free_customer_service: t.freeCustomerService,
  free_entry_point: t.freeEntryPoint,
  not_delivered: t.notDelivered,
  pricing_unknown: t.pricingUnknown,
  unpriced: t.unpriced,
  cost: formatMicros(t.cost),
});

export function actualCostJson(id: string, a: ActualCost, card: RateCard): Record<string, unknown> {
  return {
    campaign: id,
    currency: a.currency,
    rate_card: { path: card.path, effective_date: card.effectiveDate },
    actual: { lines: linesJson(a.lines), total: totalJson(a.total) },
    estimate: { lines: linesJson(a.estimate.lines), total: totalJson(a.estimate.total) },
    difference: formatMicros(a.total.cost - a.estimate.total.cost),
    differences: a.differences,
    billed_under_other_category: a.otherCategory,
    pricing_unknown_rows: {
      count: a.pricingUnknown.count,
      rows: a.pricingUnknown.examples.map((r) => ({ line: r.line, to: r.key, wamid: r.wamid, why: r.why })),
    },
  };
}

export function printActualCost(io: Io, id: string, a: ActualCost, card: RateCard): void {
  const currency = a.currency ?? '';
  io.out(
    `Cost of campaign ${id}, from the pricing in its status webhooks; prices from the card of ${card.effectiveDate}.`,
  );
  io.out();
  io.table(
    ['COUNTRY', 'MARKET', 'CATEGORY', 'SENT', 'BILLED', 'FREE', 'NOT DELIVERED', 'NO PRICING YET', 'COST'],
    a.lines.map((l) => [
      l.country ?? '?',
      l.market ?? '(none on the card)',
      l.category,
      l.messages,
      l.billed,
      l.freeCustomerService + l.freeEntryPoint,
      l.notDelivered,
      l.pricingUnknown,
      formatMicros(l.cost),
    ]),
  );
  io.out();
  io.out(
    `Actual:   ${formatMicros(a.total.cost)} ${currency} for ${a.total.billed} billed message(s)`.trimEnd(),
  );
  io.out(
    `Estimate: ${formatMicros(a.estimate.total.cost)} ${currency} for ${a.estimate.total.billed}`.trimEnd(),
  );
  for (const d of a.differences) io.out(`  - ${d}`);
  if (a.pricingUnknown.count > 0) {
    io.warn(`${a.pricingUnknown.count} row(s) without pricing (cost unknown):`);
    for (const r of a.pricingUnknown.examples.slice(0, 10))
      io.info(`  line ${r.line} ${r.key} ${r.wamid}: ${r.why}`);
  }
}
