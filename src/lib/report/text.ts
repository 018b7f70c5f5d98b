import { formatDuration } from '../io/format.js';

/** How the terminal and the HTML file word a figure: one wording for both. */

/** A rate as a percentage with one decimal ("95.3 %"), "–" when there is nothing to divide by. */
export const percent = (r: number | null): string => (r === null ? '–' : `${(r * 100).toFixed(1)} %`);

/** A response time ("4 min 10 s"), "–" when there was none. */
export const duration = (ms: number | null): string => (ms === null ? '–' : formatDuration(ms));

export const SOURCE_NAMES = { inbound: 'Inbound', api: 'API', app: 'App (echoes)' } as const;

export const ACTIVITY_WORDS = {
  ok: 'ok',
  warn: 'open the App soon',
  fail: 'at risk of disconnection',
  unknown: 'no App activity seen',
} as const;

const EIGHTHS = ['', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];

/** A horizontal bar of `width` cells at most, in eighths of a cell: `value` of `max`. */
export function bar(value: number, max: number, width: number): string {
  if (max <= 0 || value <= 0) return '';
  const eighths = Math.max(1, Math.round((value / max) * width * 8));
  return '█'.repeat(Math.floor(eighths / 8)) + EIGHTHS[eighths % 8];
}
