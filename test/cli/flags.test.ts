import { describe, expect, it } from 'vitest';
import { countryCode, duration, integer, port, positiveNumber, settingValue } from '../../src/cli/flags.js';
import type { UsageError } from '../../src/lib/errors.js';

/** The error a parser throws for `raw`, or undefined. */
function failure(parse: (raw: string) => unknown, raw: string): UsageError | undefined {
  try {
    parse(raw);
    return undefined;
  } catch (error) {
    return error as UsageError;
  }
}

describe('one parser per flag type, one wording', () => {
  it('positive numbers and whole numbers', () => {
    expect(positiveNumber('--rate')('12.5')).toBe(12.5);
    expect(positiveNumber('--max-in-flight', { integer: true })('32')).toBe(32);
    for (const raw of ['0', '-1', 'fast', '', 'Infinity'])
      expect(failure(positiveNumber('--rate'), raw)?.message).toBe(
        `--rate: expected a positive number, got "${raw}".`,
      );
    expect(failure(positiveNumber('--max-in-flight', { integer: true }), '1.5')?.message).toBe(
      '--max-in-flight: expected a positive whole number, got "1.5".',
    );
    expect(failure(positiveNumber('--rate', { max: 1000 }), '1001')?.message).toContain('up to 1000');
  });

  it('integers in a range and ports', () => {
    expect(integer('--review-delay', 0, 86_400_000)('0')).toBe(0);
    expect(failure(integer('--review-delay', 0, 10), '-1')?.location).toBe('--review-delay');
    expect(port('--port')('0')).toBe(0);
    expect(port('--port')('8787')).toBe(8787);
    for (const raw of ['65536', 'abc', '80.5'])
      expect(failure(port('--port'), raw)?.message).toBe(
        `--port: expected a whole number from 0 to 65535, got "${raw}".`,
      );
  });

  it.each([
    ['250ms', 250],
    ['90', 90_000],
    ['90s', 90_000],
    ['1.5s', 1500],
    ['10m', 600_000],
    ['10min', 600_000],
    ['5MIN', 300_000],
    ['1h', 3_600_000],
    ['0s', 0],
  ])('duration %s → %i ms (one grammar for every flag)', (raw, ms) => {
    expect(duration('--timeout')(raw)).toBe(ms);
  });

  it('durations out of range or malformed name the flag', () => {
    for (const raw of ['soon', '-1s', '1y', ''])
      expect(failure(duration('--timeout'), raw)?.message).toBe(
        `--timeout: expected a duration, got "${raw}".`,
      );
    expect(failure(duration('--timeout'), '25h')?.message).toBe(
      '--timeout: expected a duration from 0 s to 24 h, got "25h".',
    );
    expect(failure(duration('--timeout'), '2d')?.message).toBe(
      '--timeout: expected a duration from 0 s to 24 h, got "2d".',
    );
    expect(duration('--older-than', { max: 1e12 })('180d')).toBe(180 * 86_400_000);
    expect(duration('--older-than', { max: 1e12 })('26w')).toBe(26 * 7 * 86_400_000);
    expect(failure(duration('--timeout', { min: 1 }), '0')?.message).toBe(
      '--timeout: expected a duration from 1 ms to 24 h, got "0".',
    );
  });

  it('settings given by flags, and country codes', () => {
    expect(settingValue('wabaId')(' 106540352242922 ')).toBe('106540352242922');
    // the same message as for the value from the environment or the profile file
    expect(failure(settingValue('wabaId'), 'abc')?.message).toBe(
      '--waba-id: Invalid wabaId "abc": Meta ids are numbers, e.g. 106540352242922.',
    );
    expect(settingValue('apiVersion')('25')).toBe('v25.0');
    expect(countryCode('--default-country')('de')).toBe('DE');
    for (const raw of ['Germany', 'XX', 'D'])
      expect(failure(countryCode('--default-country'), raw)?.location).toBe('--default-country');
  });
});
