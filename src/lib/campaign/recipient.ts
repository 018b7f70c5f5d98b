import { isBsuid, isParentBsuid } from '../identity/bsuid.js';
import { INVALID_REASONS, type RowOutcome, type SkipReason } from './types.js';

/**
 * Recipient keys. A campaign row names its recipient by phone, by BSUID (business-scoped user id), or both; the
 * row is keyed by its resolved identity: E.164 digits (no '+') when a phone is known, from the row or linked to
 * the row's BSUID in the webhook store, else the BSUID verbatim. De-duplication, the pair limiter, opt-outs and
 * the ledger all use that key, so a phone and the BSUID the store links it to are one person. A key that is a
 * BSUID is sent with the top-level `recipient` field, a phone with `to` (meta-cloud-api.md §15.1).
 */

export type IdentityKind = 'phone' | 'bsuid' | 'parent_bsuid';

/** What the webhook store knows of phone ↔ BSUID links, in a form that crosses to the reader thread. */
export interface IdentityLinks {
  /** [phone (E.164 digits), BSUID] pairs seen together. */
  pairs: [string, string][];
  /** Phones whose identity the store has lately seen only without a phone (users who hide their number). */
  bsuidOnlyPhones: string[];
}

export const NO_LINKS: IdentityLinks = Object.freeze({ pairs: [], bsuidOnlyPhones: [] }) as IdentityLinks;

/** The links as lookups (built once per read). */
export interface LinkIndex {
  phoneOf: ReadonlyMap<string, string>;
  bsuidOf: ReadonlyMap<string, string>;
  bsuidOnly: ReadonlySet<string>;
}

export function linkIndex(links: IdentityLinks): LinkIndex {
  const phoneOf = new Map<string, string>();
  const bsuidOf = new Map<string, string>();
  for (const [phone, bsuid] of links.pairs) {
    phoneOf.set(bsuid, phone);
    bsuidOf.set(phone, bsuid);
  }
  return { phoneOf, bsuidOf, bsuidOnly: new Set(links.bsuidOnlyPhones) };
}

/** The identity a valid row gives: a phone (E.164 digits), a BSUID, or both. */
export interface GivenIdentity {
  phone: string | null;
  bsuid: string | null;
}

export interface Resolved {
  /** The recipient key (what the row is sent to). */
  key: string;
  /** Every identity of the person (key included), for --exclude and opt-outs. */
  aliases: string[];
  /** The BSUID the row named when the store resolved it to a phone (else null). */
  resolvedFrom: string | null;
  /** The row's phone is one the store has lately seen only as a BSUID-only user. */
  bsuidOnly: boolean;
}

/** The key of a row's identity, with the store's links applied. */
export function resolveRecipient(given: GivenIdentity, links: LinkIndex): Resolved {
  const linkedPhone =
    given.phone === null && given.bsuid !== null ? links.phoneOf.get(given.bsuid) : undefined;
  const phone = given.phone ?? linkedPhone ?? null;
  const bsuid = given.bsuid ?? (phone !== null ? links.bsuidOf.get(phone) : undefined) ?? null;
  const key = phone ?? bsuid!;
  return {
    key,
    aliases: phone !== null && bsuid !== null ? [phone, bsuid] : [key],
    resolvedFrom: linkedPhone !== undefined ? given.bsuid : null,
    bsuidOnly: given.phone !== null && links.bsuidOnly.has(given.phone),
  };
}

/** What a recipient key is. */
export function recipientKind(key: string): IdentityKind {
  return isParentBsuid(key) ? 'parent_bsuid' : isBsuid(key) ? 'bsuid' : 'phone';
}

/** Where a key goes on the wire: a phone in `to` (with '+'), a BSUID in `recipient`. */
export function sendAddress(key: string): { to: string } | { recipient: string } {
  return isBsuid(key) ? { recipient: key } : { to: `+${key}` };
}

/** Which identity a row's outcome used; null when it has none (a row skipped as invalid: its cell as written). */
export function outcomeIdentity(o: Pick<RowOutcome, 'recipient' | 'state' | 'reason'>): IdentityKind | null {
  if (o.recipient === null) return null;
  if (o.state === 'skipped' && o.reason && INVALID_REASONS.has(o.reason.split(':')[0] as SkipReason))
    return null;
  return recipientKind(o.recipient);
}
