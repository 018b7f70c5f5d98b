import type { CountryCode } from 'libphonenumber-js';
import { parseCountryCode } from '../country.js';
import { UsageError } from '../errors.js';
import { lazyModule } from '../lazy.js';

const phoneLib = lazyModule<typeof import('libphonenumber-js')>('libphonenumber-js');

export interface ParsedPhone {
  /** What the user typed. */
  input: string;
  /** E.164, e.g. "+442079460958". */
  e164: string;
  /** E.164 digits without "+", the form the Cloud API uses for wa_id. */
  digits: string;
  /** "+44 20 7946 0958" */
  international: string;
  callingCode: string;
  /** The region libphonenumber-js detected (ISO 3166-1 alpha-2), or null when the number fits none exactly. */
  country: string | null;
  /** Regions sharing the calling code: the possible countries when `country` is null. */
  regions: string[];
  /** Valid for its region per libphonenumber-js metadata (not only of a possible length). */
  valid: boolean;
}

const LENGTH_PROBLEMS: Record<string, string> = {
  TOO_SHORT: 'is too short',
  TOO_LONG: 'is too long',
  INVALID_LENGTH: 'has an invalid length',
  INVALID_COUNTRY: 'has an unknown country calling code',
  NOT_A_NUMBER: 'is not a phone number',
};

/** Checks a `--default-country` value: an ISO 3166-1 alpha-2 region libphonenumber-js knows (lib/country.ts). */
export const parseDefaultCountry = parseCountryCode;

/** True when the number carries its own country calling code ("+…" or "00…"). */
export function hasCallingCode(input: string): boolean {
  const s = input.trim();
  return s.startsWith('+') || /^00[1-9]/.test(s.replace(/[\s().-]/g, ''));
}

/**
 * Parses a phone number written in any human format ("+44 20 7946 0958", "0044 (20) 7946-0958",
 * "020 7946 0958" with a default country) to E.164, detecting its region.
 */
export function parsePhone(input: string, defaultCountry?: string, location = 'PHONE'): ParsedPhone {
  const raw = input.trim();
  if (!raw) throw new UsageError('The phone number is empty.', { location });
  if (!/^[+\d\s().\-/]+$/.test(raw)) {
    throw new UsageError(`"${input}" is not a phone number.`, {
      location,
      hint: 'Write it with its country code, e.g. +44 20 7946 0958.',
    });
  }
  let text = raw;
  let region: CountryCode | undefined;
  if (!hasCallingCode(raw)) {
    if (!defaultCountry) {
      throw new UsageError(`"${input}" has no country code: pass --default-country CC, or write it with +.`, {
        location,
        hint: 'E.g. --default-country GB, or +44 20 7946 0958.',
      });
    }
    region = parseDefaultCountry(defaultCountry);
  } else if (!raw.startsWith('+')) {
    text = `+${raw.replace(/[\s().-]/g, '').slice(2)}`;
  }
  const parsed = phoneLib().parsePhoneNumberFromString(text, region);
  const problem = phoneLib().validatePhoneNumberLength(text, region);
  if (!parsed || problem || !parsed.isPossible()) {
    const why = LENGTH_PROBLEMS[problem ?? ''] ?? 'is not a possible phone number';
    throw new UsageError(`"${input}" ${why}.`, { location, hint: 'Check the digits and the country code.' });
  }
  const callingCode = String(parsed.countryCallingCode);
  const regions = phoneLib()
    .getCountries()
    .filter((c) => phoneLib().getCountryCallingCode(c) === callingCode);
  return {
    input,
    e164: parsed.number,
    digits: parsed.number.replace(/^\+/, ''),
    international: parsed.formatInternational(),
    callingCode,
    country: parsed.country ?? (regions.length === 1 ? regions[0]! : null),
    regions,
    valid: parsed.isValid(),
  };
}

/** Digits of a display number ("+1 555-010-0001" → "15550100001"), for comparing with E.164. */
export function phoneDigits(display: string): string {
  return display.replace(/\D/g, '');
}
