import { isBsuid } from '../identity/bsuid.js';
import type { Db } from '../store/sqlite.js';
import type { IdentityLinks } from './recipient.js';

/**
 * The phone ↔ BSUID links the webhook store has seen, read defensively from its tables (nothing when a table or
 * column is missing): an inbound message or a synced contact that carried both a phone and a BSUID links them.
 * A phone is "BSUID-only" when the newest event of its BSUID came without a phone (the user hides the number).
 */
export function storeIdentityLinks(db: Db): IdentityLinks {
  // per BSUID: its phone (the newest seen with it) and whether its newest event carried none
  const byBsuid = new Map<
    string,
    { phone: string | null; phoneAt: number; lastAt: number; lastHadPhone: boolean }
  >();
  const sources = [
    `SELECT from_user_id AS user_id, from_wa_id AS phone, timestamp AS at FROM inbound_messages
     WHERE from_user_id IS NOT NULL AND from_user_id <> ''`,
    `SELECT user_id, phone_number AS phone, COALESCE(timestamp, 0) AS at FROM contact_syncs
     WHERE user_id IS NOT NULL AND user_id <> ''`,
  ];
  for (const sql of sources) {
    let rows: Iterable<{ user_id: string; phone: string | null; at: number }>;
    try {
      rows = db.prepare(sql).iterate() as Iterable<{ user_id: string; phone: string | null; at: number }>;
      for (const r of rows) {
        if (!isBsuid(r.user_id)) continue;
        const phone = r.phone ? r.phone.replace(/\D/g, '') : '';
        const e = byBsuid.get(r.user_id) ?? { phone: null, phoneAt: -1, lastAt: -1, lastHadPhone: false };
        if (phone !== '' && r.at >= e.phoneAt) {
          e.phone = phone;
          e.phoneAt = r.at;
        }
        if (r.at >= e.lastAt) {
          e.lastAt = r.at;
          e.lastHadPhone = phone !== '';
        }
        byBsuid.set(r.user_id, e);
      }
    } catch {
      // a store without this table (or column): nothing to link from it
    }
  }
  const pairs: [string, string][] = [];
  const bsuidOnlyPhones: string[] = [];
  for (const [bsuid, e] of byBsuid) {
    if (e.phone === null) continue;
    pairs.push([e.phone, bsuid]);
    if (!e.lastHadPhone) bsuidOnlyPhones.push(e.phone);
  }
  return { pairs, bsuidOnlyPhones };
}
