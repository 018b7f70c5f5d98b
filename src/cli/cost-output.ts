import type { Io } from '../lib/io/io.js';
import type { CampaignEstimate } from '../lib/pricing/campaign-estimate.js';
import { formatMicros } from '../lib/pricing/money.js';

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
    lines: e.lines.map((l) => ({
      country: l.country,
      market: l.market,
      category: l.category,
      messages: l.messages,
      billed: l.billed,
      free_customer_service: l.freeCustomerService,
      free_entry_point: l.freeEntryPoint,
      unpriced: l.unpriced,
      cost: formatMicros(l.cost),
    })),
    total: {
      messages: e.total.messages,
      billed: e.total.billed,
      free_customer_service: e.total.freeCustomerService,
      free_entry_point: e.total.freeEntryPoint,
      unpriced: e.total.unpriced,
      cost: formatMicros(e.total.cost),
    },
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
