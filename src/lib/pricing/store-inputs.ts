/**
 * What the estimate reads from the webhook store: the windows open at the send date and this month's billed
 * volume per market. A store without the webhook tables (nothing received yet) gives no windows and no volume,
 * and the estimate says where its windows came from.
 */
import { tableExists } from '../store/database.js';
import type { Db } from '../store/store.js';
import type { PricingCategory } from './categories.js';
import { pricingCategory, TIERED } from './categories.js';
import { CountryOf } from './estimate.js';
import { MarketResolver } from './markets.js';
import type { RateCard } from './rate-card.js';

const HOUR = 3_600_000;
const CUSTOMER_SERVICE_WINDOW = 24 * HOUR;
const FREE_ENTRY_POINT_WINDOW = 72 * HOUR;

export interface StoreWindows {
  customerService: Set<string>;
  freeEntryPoint: Set<string>;
  /** Inbound messages looked at, for the assumptions line. */
  inbound: number;
}

/**
 * Recipients (phone digits and BSUIDs) who wrote to `phoneNumberId` in the 24 hours before `at` (a customer
 * service window), and those with a free entry point window: a message that came from a click-to-WhatsApp ad or
 * Page button (it carries a `referral`) less than 72 h before `at`, answered within 24 h, where the campaign
 * itself is that answer when the referral is less than 24 h old.
 */
export function windowsAt(db: Db, phoneNumberId: string | null, at: number): StoreWindows {
  const result: StoreWindows = { customerService: new Set(), freeEntryPoint: new Set(), inbound: 0 };
  if (!tableExists(db, 'inbound_messages')) return result;
  const rows = db
    .prepare(
      `SELECT m.from_wa_id AS phone, m.from_user_id AS userId, m.timestamp AS ts,
              instr(e.data, '"referral"') > 0 AS referral
       FROM inbound_messages m JOIN webhook_events e ON e.id = m.event_id
       WHERE m.timestamp > ? AND m.timestamp <= ? AND (CAST(? AS TEXT) IS NULL OR m.phone_number_id = ?)`,
    )
    .all(at - FREE_ENTRY_POINT_WINDOW, at, phoneNumberId, phoneNumberId) as {
    phone: string | null;
    userId: string | null;
    ts: number;
    referral: number;
  }[];
  const answered = tableExists(db, 'message_statuses')
    ? db.prepare(
        `SELECT 1 FROM message_statuses WHERE recipient_id = ? AND status = 'sent' AND timestamp >= ? AND timestamp <= ?
         LIMIT 1`,
      )
    : null;
  for (const r of rows) {
    result.inbound++;
    const keys = [r.phone, r.userId].filter((k): k is string => Boolean(k));
    if (at - r.ts < CUSTOMER_SERVICE_WINDOW) for (const k of keys) result.customerService.add(k);
    if (!r.referral) continue;
    const open =
      at - r.ts < CUSTOMER_SERVICE_WINDOW ||
      (r.phone !== null && answered?.get(r.phone, r.ts, r.ts + CUSTOMER_SERVICE_WINDOW) !== undefined);
    if (open) for (const k of keys) result.freeEntryPoint.add(k);
  }
  return result;
}

/**
 * Billed deliveries this calendar month (UTC) before `at`, per market of the card and tiered category, from the
 * `pricing` of status webhooks. Counted over every number in the store: whether Meta counts tiers per WABA or
 * per portfolio is not documented.
 */
export function monthVolumeAt(db: Db, card: RateCard, at: number): Map<string, number> {
  const volume = new Map<string, number>();
  if (!tableExists(db, 'message_statuses')) return volume;
  const d = new Date(at);
  const monthStart = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
  const rows = db
    .prepare(
      `SELECT substr(recipient_id, 1, 6) AS prefix, MIN(recipient_id) AS sample, pricing_category AS category,
              count(DISTINCT wamid) AS n
       FROM message_statuses
       WHERE status IN ('delivered', 'read') AND timestamp >= ? AND timestamp < ?
         AND (pricing_type IS NULL OR pricing_type = 'regular') AND recipient_id IS NOT NULL
       GROUP BY prefix, category`,
    )
    .all(monthStart, at) as { prefix: string; sample: string; category: string | null; n: number }[];
  const countries = new CountryOf();
  const markets = new MarketResolver(card);
  for (const r of rows) {
    const category = pricingCategory(r.category);
    if (!category || !TIERED.has(category)) continue;
    const market = markets.resolve(countries.of(r.sample))?.market.name;
    if (!market) continue;
    const key = volumeKey(market, category);
    volume.set(key, (volume.get(key) ?? 0) + r.n);
  }
  return volume;
}

export function volumeKey(market: string, category: PricingCategory): string {
  return `${market}\u0000${category}`;
}
