import { isBsuid } from './bsuid.js';

/**
 * The keys a person is known by in the store: a phone as E.164 digits without '+', a BSUID or parent BSUID
 * verbatim. Meta sends a missing value as an absent key, `null` or `""`: all three read as null here.
 */

/** A BSUID field's value (`user_id`, `from_user_id`, `parent_user_id`…), verbatim; null when empty. */
export function bsuidKey(value: string | null | undefined): string | null {
  const v = value?.trim();
  return v ? v : null;
}

/**
 * A phone field's value (`wa_id`, `from`, `to`, `recipient_id`, `phone_number`) as E.164 digits; null when empty.
 * A BSUID found in a phone field is not a phone: it is classified before any digit is stripped (digit-stripping
 * turns `MY.2035200694071263` into a plausible number) and gives null.
 */
export function phoneKey(value: string | null | undefined): string | null {
  const v = value?.trim();
  if (!v || isBsuid(v)) return null;
  return v.replace(/\D/g, '') || null;
}

/** A value that may be either (an opt-out recipient, a thread id, a CSV cell): a BSUID verbatim, else a phone. */
export function personKey(value: string | null | undefined): string | null {
  const v = value?.trim();
  if (!v) return null;
  return isBsuid(v) ? v : phoneKey(v);
}
