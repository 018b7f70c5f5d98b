import { parseIsoDate } from '../dates.js';
import { UsageError } from '../errors.js';

/** Meta's minimum WhatsApp Business app version for coexistence (meta-cloud-api.md §1.1, §9.2). */
export const MIN_APP_VERSION = '2.24.17';
/** Days of Business App use before onboarding (BSP guidance; not in Meta's docs: §9.2). */
export const DEFAULT_MIN_DAYS = 7;

const DAY_MS = 86_400_000;
const VERSION = /^v?(\d{1,6})(?:\.(\d{1,6})){1,3}$/i;

/** "2.24.17" → [2, 24, 17]; "2.25.1.78" → [2, 25, 1, 78]. Garbage → UsageError naming the flag. */
export function parseAppVersion(value: string, location = '--app-version'): number[] {
  const v = value.trim();
  if (!VERSION.test(v)) {
    throw new UsageError(`"${value}" is not a version number.`, {
      location,
      hint: 'Use the version shown in WhatsApp Business › Settings › Help › App info, e.g. 2.24.17 or 2.25.3.78.',
    });
  }
  return v
    .replace(/^v/i, '')
    .split('.')
    .map((n) => Number.parseInt(n, 10));
}

/** Compares versions part by part as numbers ("2.24.9" < "2.24.17"); missing parts count as 0. */
export function compareVersions(a: string | number[], b: string | number[]): -1 | 0 | 1 {
  const pa = typeof a === 'string' ? parseAppVersion(a) : a;
  const pb = typeof b === 'string' ? parseAppVersion(b) : b;
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? 0;
    const y = pb[i] ?? 0;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

/** Midnight UTC of a timestamp's day. */
function utcDay(ms: number): number {
  return Math.floor(ms / DAY_MS) * DAY_MS;
}

export interface ActivePeriod {
  /** YYYY-MM-DD when given with --active-since, else null. */
  activeSince: string | null;
  daysActive: number;
}

/** `--active-since YYYY-MM-DD`: a valid date, not in the future; days counted in whole UTC days up to today. */
export function activeSince(value: string, now: number, location = '--active-since'): ActivePeriod {
  const since = parseIsoDate(value, location);
  const today = utcDay(now);
  if (since > today) {
    throw new UsageError(`${value.trim()} is in the future.`, {
      location,
      hint: 'Give the day you started using this number in the WhatsApp Business app.',
    });
  }
  return { activeSince: value.trim(), daysActive: Math.round((today - since) / DAY_MS) };
}

/** `--days-active N`: a whole number of days, 0 or more. */
export function daysActive(value: string | number, location = '--days-active'): ActivePeriod {
  const s = String(value).trim();
  if (!/^\d{1,6}$/.test(s)) {
    throw new UsageError(`"${value}" is not a whole number of days.`, {
      location,
      hint: `Use e.g. ${location} ${location === '--min-days' ? 7 : 30}.`,
    });
  }
  return { activeSince: null, daysActive: Number.parseInt(s, 10) };
}

/** Prompt answer: either a date (YYYY-MM-DD) or a number of days. */
export function activePeriodFromAnswer(answer: string, now: number): ActivePeriod {
  const a = answer.trim();
  return /^\d{4}-/.test(a) ? activeSince(a, now) : daysActive(a);
}
