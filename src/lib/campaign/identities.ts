import { isMissingSchema } from '../store/database.js';
import type { Db } from '../store/store.js';
import type { IdentityLinks } from './recipient.js';

/**
 * The phone ↔ BSUID links of the people in the store (lib/identity keeps them: every event that showed a phone and
 * a BSUID together linked them; identity changes retire old keys). A phone is "BSUID-only" when its person has been
 * named without a phone: the user hides the number, and Meta may stop sending it.
 */
export function storeIdentityLinks(db: Db): IdentityLinks {
  let rows: { phone: string; bsuid: string; phoneless: number }[];
  try {
    rows = db
      .prepare(
        `SELECT p.key AS phone, u.key AS bsuid, i.phoneless_at IS NOT NULL AS phoneless
         FROM identity_keys p
         JOIN identity_keys u ON u.identity_id = p.identity_id
         JOIN identities i ON i.id = p.identity_id
         WHERE p.kind = 'phone' AND p.retired = 0 AND u.kind IN ('user_id', 'parent_user_id') AND u.retired = 0`,
      )
      .all() as typeof rows;
  } catch (error) {
    // a store an older wacx migrated has no people tables yet: nothing to link
    if (isMissingSchema(error)) return { pairs: [], bsuidOnlyPhones: [] };
    throw error;
  }
  const pairs: [string, string][] = [];
  const bsuidOnly = new Set<string>();
  for (const r of rows) {
    pairs.push([r.phone, r.bsuid]);
    if (r.phoneless) bsuidOnly.add(r.phone);
  }
  return { pairs, bsuidOnlyPhones: [...bsuidOnly] };
}
