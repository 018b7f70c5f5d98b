import { UsageError } from './errors.js';

/** Parses a strict YYYY-MM-DD calendar date (UTC midnight); rejects 2025-02-30 and friends. */
export function parseIsoDate(value: string, location: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value.trim());
  const bad = () =>
    new UsageError(`"${value}" is not a valid date.`, { location, hint: 'Use YYYY-MM-DD, e.g. 2025-11-03.' });
  if (!m) throw bad();
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const ms = Date.UTC(y, mo - 1, d);
  const back = new Date(ms);
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d) throw bad();
  return ms;
}
