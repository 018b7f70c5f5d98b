import { parseIsoDate } from '../dates.js';
import { UsageError } from '../errors.js';

export const DAY_MS = 86_400_000;
/** Without --since: this many days, today (UTC) included. */
export const DEFAULT_DAYS = 30;

/** The days a report covers, whole UTC days: [since, until) in ms, both at midnight. */
export interface Period {
  since: number;
  /** Exclusive: midnight after the last day. */
  until: number;
  days: number;
}

/** YYYY-MM-DD of a UTC day number (ms / DAY_MS) or of a time in ms. */
export const dayOf = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

/**
 * --since / --until (YYYY-MM-DD, both days included); the default ends today (by `now`, UTC) and starts
 * DEFAULT_DAYS - 1 days before the end.
 */
export function reportPeriod(
  opts: { since?: string | undefined; until?: string | undefined },
  now: number,
): Period {
  const last =
    opts.until === undefined ? Math.floor(now / DAY_MS) * DAY_MS : parseIsoDate(opts.until, '--until');
  const since =
    opts.since === undefined ? last - (DEFAULT_DAYS - 1) * DAY_MS : parseIsoDate(opts.since, '--since');
  if (since > last) {
    throw new UsageError(`--since ${dayOf(since)} is after --until ${dayOf(last)}.`, {
      location: '--since',
      hint: 'Give the first day with --since and the last day with --until.',
    });
  }
  return { since, until: last + DAY_MS, days: (last + DAY_MS - since) / DAY_MS };
}
