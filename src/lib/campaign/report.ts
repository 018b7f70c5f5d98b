import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { reportTempPath } from './files.js';
import { outcomeIdentity } from './recipient.js';
import type { RowOutcome } from './types.js';

/**
 * One CSV cell. Cells starting with = + - @ tab or CR are prefixed with a single quote, so that a spreadsheet
 * never evaluates them as formulas (CSV/formula injection, OWASP); then RFC 4180 quoting.
 */
export function csvCell(value: string | number | null | undefined): string {
  let s = value === null || value === undefined ? '' : String(value);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  if (/[",\r\n]/.test(s)) s = `"${s.replace(/"/g, '""')}"`;
  return s;
}

export const REPORT_COLUMNS = [
  'row',
  'line',
  'recipient',
  'status',
  'error_code',
  'error_title',
  'reason',
  'wamid',
  'attempts',
  'identity',
  'resolved_from',
] as const;

export function reportLine(o: RowOutcome): string {
  return [
    o.row,
    o.line,
    o.recipient,
    o.state,
    o.errorCode,
    o.errorTitle,
    o.reason,
    o.wamid,
    o.attempts,
    outcomeIdentity(o),
    o.resolvedFrom,
  ]
    .map(csvCell)
    .join(',');
}

/**
 * Writes every row's outcome (streamed from the ledger) to `path`, atomically (temp file, then rename), readable by
 * the owner only (it holds customers' numbers).
 */
export async function writeReport(path: string, rows: Iterable<RowOutcome>): Promise<number> {
  const tmp = reportTempPath(path);
  // a leftover temporary file would keep its mode: start from a new one
  await rm(tmp, { force: true });
  const out = createWriteStream(tmp, { encoding: 'utf8', mode: 0o600, flags: 'wx' });
  let n = 0;
  try {
    if (!out.write(`${REPORT_COLUMNS.join(',')}\n`)) await once(out, 'drain');
    for (const o of rows) {
      n++;
      if (!out.write(`${reportLine(o)}\n`)) await once(out, 'drain');
    }
    out.end();
    await once(out, 'finish');
    await rename(tmp, path);
  } catch (error) {
    out.destroy();
    await rm(tmp, { force: true });
    throw error;
  }
  return n;
}
