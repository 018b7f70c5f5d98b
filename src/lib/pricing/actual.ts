/**
 * What a sent campaign cost, from the `pricing` objects Meta put in its status webhooks: each delivered row priced
 * at its market's rate for the category Meta reported, free where Meta said free, nothing where it was never
 * delivered, and the rows whose pricing never arrived listed (their cost is unknown, not zero). Next to it, the
 * estimate for the same rows at the campaign's start, and why the two differ.
 */
import type { RowDelivery as SentRow } from '../campaign/stored-campaigns.js';
import type { Db } from '../store/store.js';
import type { PricingCategory } from './categories.js';
import { pricingCategory } from './categories.js';
import { type Estimate, type EstimateLine, estimateCost, type Outcome, Tally } from './estimate.js';
import { formatMicros, type Micros } from './money.js';
import type { RateCard } from './rate-card.js';
import { monthVolumeAt, volumeKey, windowsAt } from './store-inputs.js';

export interface ActualCost {
  currency: string | null;
  lines: EstimateLine[];
  total: Estimate['total'];
  /** Rows delivered or pending without a pricing object (first 50), and how many. */
  pricingUnknown: { examples: { line: number; key: string; wamid: string; why: string }[]; count: number };
  /** Rows Meta billed under another category than the template's (recategorised). */
  otherCategory: number;
  estimate: Estimate;
  differences: string[];
}

const MAX_EXAMPLES = 50;

/** The price outcome of one sent row from its statuses. */
function outcomeOf(r: SentRow): { outcome: Outcome; why?: string } {
  if (!r.delivered) {
    if (r.failed) return { outcome: 'not_delivered' };
    return { outcome: 'pricing_unknown', why: 'no delivered or failed status yet' };
  }
  switch (r.pricingType) {
    case null:
      return { outcome: 'pricing_unknown', why: 'delivered, but no pricing object arrived' };
    case 'free_entry_point':
      return { outcome: 'free_entry_point' };
    case 'free_customer_service':
      return { outcome: 'free_customer_service' };
    default:
      return { outcome: 'billed' };
  }
}

export function actualCost(
  db: Db,
  input: {
    card: RateCard;
    rows: Iterable<SentRow>;
    /** The template's category when the campaign was sent. */
    category: PricingCategory;
    phoneNumberId: string | null;
    startedAt: number;
  },
  now: Date,
): ActualCost {
  const volume = monthVolumeAt(db, input.card, input.startedAt);
  const monthVolume = (market: string, c: PricingCategory) => volume.get(volumeKey(market, c)) ?? 0;
  const tally = new Tally(input.card, monthVolume);
  const sent: { key: string; line: number }[] = [];
  const unknown: ActualCost['pricingUnknown'] = { examples: [], count: 0 };
  let otherCategory = 0;
  for (const r of input.rows) {
    sent.push({ key: r.key, line: r.line });
    const { outcome, why } = outcomeOf(r);
    const category = pricingCategory(r.pricingCategory) ?? input.category;
    if (outcome === 'billed' && category !== input.category) otherCategory++;
    if (outcome === 'pricing_unknown') {
      unknown.count++;
      if (unknown.examples.length < MAX_EXAMPLES) {
        unknown.examples.push({ line: r.line, key: r.key, wamid: r.wamid, why: why ?? '' });
      }
    }
    tally.add({ key: r.key, line: r.line }, category, outcome);
  }
  const windows = windowsAt(db, input.phoneNumberId, input.startedAt);
  const estimate = estimateCost(
    {
      card: input.card,
      category: input.category,
      sendDate: new Date(input.startedAt),
      recipients: sent,
      customerServiceWindows: windows.customerService,
      freeEntryPointWindows: windows.freeEntryPoint,
      monthVolume,
      windowSource: `the store's inbound messages before the campaign started`,
      volumeSource: "the store's delivered statuses with pricing",
    },
    now,
  );
  const { lines, total } = tally.result();
  return {
    currency: input.card.currency,
    lines,
    total,
    pricingUnknown: unknown,
    otherCategory,
    estimate,
    differences: explain(estimate.total, total, otherCategory, input.card.currency),
  };
}

/** Why the actual cost differs from the estimate, one sentence per cause, largest effects first. */
function explain(
  estimated: Estimate['total'],
  actual: Estimate['total'],
  otherCategory: number,
  currency: string | null,
): string[] {
  const money = (m: Micros) => `${formatMicros(m)}${currency ? ` ${currency}` : ''}`;
  const out: string[] = [];
  if (actual.notDelivered > 0) {
    out.push(
      `${actual.notDelivered} message(s) were never delivered, so not billed (the estimate assumed delivery).`,
    );
  }
  if (actual.pricingUnknown > 0) {
    out.push(
      `${actual.pricingUnknown} message(s) have no pricing yet: their cost is unknown and not in the actual total ` +
        '(run `wacx webhooks serve` so that statuses arrive, then look again).',
    );
  }
  const freeDiff = actual.freeEntryPoint - estimated.freeEntryPoint;
  if (freeDiff !== 0) {
    out.push(
      `${Math.abs(freeDiff)} ${freeDiff > 0 ? 'more' : 'fewer'} message(s) were free in a free entry point window than estimated.`,
    );
  }
  const serviceDiff = actual.freeCustomerService - estimated.freeCustomerService;
  if (serviceDiff !== 0) {
    out.push(
      `${Math.abs(serviceDiff)} ${serviceDiff > 0 ? 'more' : 'fewer'} message(s) were free in a customer service window than estimated.`,
    );
  }
  if (otherCategory > 0) {
    out.push(
      `${otherCategory} message(s) were billed under another category than the template's (recategorised by Meta).`,
    );
  }
  if (out.length === 0 && actual.cost !== estimated.cost) {
    out.push(
      `The rates differ by ${money(actual.cost - estimated.cost)} (volume tiers moved during the send).`,
    );
  }
  if (out.length === 0) out.push('The actual cost equals the estimate: every assumption held.');
  return out;
}
