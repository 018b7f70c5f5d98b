import type { Option } from 'commander';
import { SETTING_FLAG, type SettingKey, validateSetting } from '../lib/config/settings.js';
import { parseCountryCode } from '../lib/country.js';
import { UsageError } from '../lib/errors.js';
import { formatExactDuration } from '../lib/io/format.js';
import { lazyModule } from '../lib/lazy.js';

/**
 * The one parser per flag type. Each returns a commander argParser for a named flag, so a bad value fails
 * while argv is parsed, before any command work, with the same wording everywhere:
 * `--rate: expected a positive number, got "fast".`
 */
export type FlagParser<T> = (raw: string) => T;

function bad(flag: string, expected: string, raw: string, hint?: string): UsageError {
  return new UsageError(`expected ${expected}, got "${raw}".`, { location: flag, ...(hint ? { hint } : {}) });
}

/** A number > 0 (`integer`: a whole one), at most `max`. */
export function positiveNumber(
  flag: string,
  options: { integer?: boolean; max?: number } = {},
): FlagParser<number> {
  const what = options.integer ? 'a positive whole number' : 'a positive number';
  return (raw) => {
    const n = Number(raw.trim());
    if (raw.trim() === '' || !Number.isFinite(n) || n <= 0 || (options.integer && !Number.isInteger(n)))
      throw bad(flag, what, raw);
    if (options.max !== undefined && n > options.max) throw bad(flag, `${what} up to ${options.max}`, raw);
    return n;
  };
}

/** A whole number within [min, max]. */
export function integer(flag: string, min: number, max: number): FlagParser<number> {
  return (raw) => {
    const n = Number(raw.trim());
    if (raw.trim() === '' || !Number.isInteger(n) || n < min || n > max)
      throw bad(flag, `a whole number from ${min} to ${max}`, raw);
    return n;
  };
}

/** A TCP port; 0 asks the system for a free one. */
export function port(flag: string): FlagParser<number> {
  return integer(flag, 0, 65_535);
}

const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|sec|m|min|h|d|w)?$/i;
const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  sec: 1000,
  m: 60_000,
  min: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/**
 * A duration in milliseconds, one grammar for every flag: `500ms`, `90s`, `90` (seconds), `10m` or `10min`,
 * `1.5h`, `180d`, `26w`; within [min, max] (default 0 to 24 h).
 */
export function duration(flag: string, options: { min?: number; max?: number } = {}): FlagParser<number> {
  const min = options.min ?? 0;
  const max = options.max ?? 24 * 3_600_000;
  return (raw) => {
    const m = DURATION.exec(raw.trim());
    if (!m)
      throw bad(flag, 'a duration', raw, 'Use e.g. 500ms, 90s, 10m, 1h or 180d (a bare number is seconds).');
    const ms = Math.round(Number(m[1]) * UNIT_MS[(m[2] ?? 's').toLowerCase()]!);
    if (ms < min || ms > max)
      throw bad(flag, `a duration from ${formatExactDuration(min)} to ${formatExactDuration(max)}`, raw);
    return ms;
  };
}

const SIZE = /^(\d+(?:\.\d+)?)\s*(b|kb|k|kib|mb|m|mib)?$/i;
const UNIT_BYTES: Record<string, number> = {
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
};

/** A size in bytes: `3mb`, `512kb`, `1.5m`, `4096` (bytes); kb and mb count 1024; within [min, max] bytes. */
export function byteSize(flag: string, min: number, max: number): FlagParser<number> {
  return (raw) => {
    const m = SIZE.exec(raw.trim());
    if (!m) throw bad(flag, 'a size', raw, 'Use e.g. 3mb, 512kb or 1048576 (a bare number is bytes).');
    const bytes = Math.floor(Number(m[1]) * UNIT_BYTES[(m[2] ?? 'b').toLowerCase()]!);
    if (bytes < min || bytes > max) throw bad(flag, `a size from ${min} to ${max} bytes`, raw);
    return bytes;
  };
}

/**
 * A flag that sets a profile setting (`--waba-id`, `--phone-number-id`…): checked by the same rule, with the same
 * message, as the value from the environment or the profile file.
 */
export function settingValue(key: SettingKey): FlagParser<string> {
  return (raw) => validateSetting(key, raw, SETTING_FLAG[key]);
}

/**
 * commander, loaded on first use (`wacx --version` does without it). It is CommonJS: required directly, it skips
 * its ESM wrapper and the scan Node makes of a CommonJS module's exports for an ESM import.
 */
export const commander = lazyModule<typeof import('commander')>('commander');

/** An ISO 3166-1 alpha-2 country code that phone numbers can be parsed for; returned upper-case. */
export function countryCode(flag: string): FlagParser<string> {
  return (raw) => parseCountryCode(raw, flag);
}

/** --waba-id, worded once: declared on the `templates` noun and by the verbs that take a WABA. */
export function wabaIdOption(
  description = "WhatsApp Business Account id (default: the profile's wabaId)",
): Option {
  return new (commander().Option)('--waba-id <id>', description).argParser(settingValue('wabaId'));
}

/** --phone-number-id, worded once: declared on the `history` noun and by the verbs that take a number. */
export function phoneNumberIdOption(
  description = "business phone number id (default: the profile's phoneNumberId)",
): Option {
  return new (commander().Option)('--phone-number-id <id>', description).argParser(
    settingValue('phoneNumberId'),
  );
}

/** Options every verb of a noun takes, declared once on the noun (as gh's -R/--repo). */
export type NounOptions = Record<string, (() => Option)[]>;

export const NOUN_OPTIONS: NounOptions = {
  templates: [() => wabaIdOption()],
  history: [() => phoneNumberIdOption()],
};
