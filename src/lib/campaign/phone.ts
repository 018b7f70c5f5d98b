import type { CountryCode } from 'libphonenumber-js';
import { parseCountryCode } from '../country.js';
import { lazyModule } from '../lazy.js';

const phoneLib = lazyModule<typeof import('libphonenumber-js')>('libphonenumber-js');

export type PhoneResult = { ok: true; e164: string } | { ok: false; reason: string };

/** Validates `--default-country` (ISO 3166-1 alpha-2, e.g. DE, US). */
export function checkDefaultCountry(value: string | null | undefined): CountryCode | null {
  if (value === undefined || value === null || value === '') return null;
  return parseCountryCode(value, '--default-country');
}

const SEPARATORS = /[\s().\-/]/g;

/**
 * Normalises a phone cell to E.164 digits without '+' (the form of a WhatsApp id).
 * - `+49 151 …`, `0049 151 …`: international.
 * - digits only and no default country: taken as international (`4915112345678`, the wa_id form).
 * - otherwise a national number of `defaultCountry` (`0151 …` with DE).
 */
export function normalisePhone(raw: string, defaultCountry: CountryCode | null): PhoneResult {
  const value = raw.trim();
  if (value === '') return { ok: false, reason: 'empty phone number' };
  let input = value;
  const compact = value.replace(SEPARATORS, '');
  if (compact.startsWith('00')) input = `+${compact.slice(2)}`;
  else if (!compact.startsWith('+') && !defaultCountry && /^[1-9]\d+$/.test(compact)) input = `+${compact}`;
  if (!input.startsWith('+') && !defaultCountry) {
    return { ok: false, reason: `"${value}" has no country code (pass --default-country or write +CC…)` };
  }
  const parsed = phoneLib().parsePhoneNumberFromString(input, defaultCountry ?? undefined);
  if (!parsed?.isValid()) return { ok: false, reason: `"${value}" is not a valid phone number` };
  return { ok: true, e164: parsed.number.slice(1) };
}
