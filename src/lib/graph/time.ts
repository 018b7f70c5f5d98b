/** Times as Graph answers and webhooks carry them, turned into milliseconds since the epoch. */

/** Graph's ISO 8601 times with a colon-less offset, e.g. `last_onboarded_time` "2023-08-22T19:05:53+0000". */
export function parseGraphTime(value: string | null | undefined): number | undefined {
  if (!value) return undefined;
  const fixed = value.replace(/([+-]\d{2})(\d{2})$/, '$1:$2');
  const t = Date.parse(fixed);
  return Number.isNaN(t) ? undefined : t;
}

/** A webhook `timestamp` / `time`: Unix seconds as a number or a string of digits (or, leniently, a date). */
export function parseUnixSeconds(value: unknown): number | null {
  if (typeof value === 'number' && Number.isFinite(value)) return Math.trunc(value) * 1000;
  if (typeof value !== 'string') return null;
  if (/^-?\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const t = Date.parse(value);
  return Number.isNaN(t) ? null : t;
}
