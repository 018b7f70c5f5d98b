import { describe, expect, it } from 'vitest';
import { countryCode } from '../../src/cli/flags.js';
import { parseCountryCode } from '../../src/lib/country.js';
import { parseDefaultCountry, parsePhone } from '../../src/lib/eligibility/phone.js';
import { UsageError } from '../../src/lib/errors.js';

function failure(f: () => unknown): UsageError {
  try {
    f();
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return error as UsageError;
  }
  throw new Error('expected a UsageError');
}

describe('one check of country codes (lib/country.ts)', () => {
  it('accepts a code libphonenumber has metadata for, in any case, trimmed', () => {
    expect(parseCountryCode(' gb ')).toBe('GB');
    expect(countryCode('--default-country')('de')).toBe('DE');
    expect(parseDefaultCountry('br')).toBe('BR');
  });

  it.each(['XX', 'DEU', 'd', '12', ''])('refuses %j with one wording, wherever it is checked', (raw) => {
    const wording = `--default-country: expected a two-letter country code (ISO 3166-1, e.g. DE, GB, BR), got "${raw}".`;
    expect(failure(() => parseCountryCode(raw)).message).toBe(wording);
    expect(failure(() => countryCode('--default-country')(raw)).message).toBe(wording);
    expect(failure(() => parseDefaultCountry(raw)).message).toBe(wording);
  });

  it('names the flag it was given', () => {
    expect(failure(() => countryCode('--country')('ZZ')).location).toBe('--country');
  });

  it('eligibility parses national numbers with the checked code, and refuses an unknown one', () => {
    expect(parsePhone('020 7946 0958', 'gb').e164).toBe('+442079460958');
    expect(failure(() => parsePhone('020 7946 0958', 'QQ')).location).toBe('--default-country');
  });
});
