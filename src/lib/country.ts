import type { CountryCode } from 'libphonenumber-js';
import { UsageError } from './errors.js';
import { lazyModule } from './lazy.js';

const phoneLib = lazyModule<typeof import('libphonenumber-js')>('libphonenumber-js');

/**
 * The one check of a country code (`--default-country`, the eligibility prompt, a campaign's stored option):
 * an ISO 3166-1 alpha-2 code libphonenumber-js has metadata for, in any case ("de" → "DE"). One wording for
 * every caller, as the flag parsers have.
 */
export function parseCountryCode(value: string, location = '--default-country'): CountryCode {
  const cc = value.trim().toUpperCase();
  if (!/^[A-Z]{2}$/.test(cc) || !phoneLib().isSupportedCountry(cc)) {
    throw new UsageError(
      `expected a two-letter country code (ISO 3166-1, e.g. DE, GB, BR), got "${value}".`,
      {
        location,
      },
    );
  }
  return cc as CountryCode;
}
