import { formatDuration as formatHumanDuration } from '../io/format.js';

/** Small text helpers for check details. */

const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

/** "3 min", "5 h", "12 days": the doctor's details say a duration in one unit, rounded down. */
export function formatDuration(ms: number): string {
  return formatHumanDuration(ms, 1);
}

/** "5 h ago" */
export function ago(now: number, at: number): string {
  const d = now - at;
  if (!Number.isFinite(d)) return 'at an unreadable time';
  if (d < 0) return `in ${formatDuration(-d)} (in the future: check the clock)`;
  if (d < MINUTE) return 'just now';
  return `${formatDuration(d)} ago`;
}

/** ISO date-time without milliseconds, UTC. */
export function isoTime(ms: number): string {
  if (!validTime(ms)) return 'an unreadable time';
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function isoDate(ms: number): string {
  if (!validTime(ms)) return 'an unreadable date';
  return new Date(ms).toISOString().slice(0, 10);
}

/** A number a Date can show (±8.64e15 ms). */
function validTime(ms: unknown): ms is number {
  return typeof ms === 'number' && Number.isFinite(ms) && Math.abs(ms) <= 8.64e15;
}

export function days(ms: number): number {
  return ms / DAY;
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

export const TIME = { MINUTE, HOUR, DAY } as const;
