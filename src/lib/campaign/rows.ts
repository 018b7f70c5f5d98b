import { basename } from 'node:path';
import type { CountryCode } from 'libphonenumber-js';
import type { Clock } from '../clock.js';
import { UsageError } from '../errors.js';
import { isBlankRecord, readCsv } from './csv.js';
import type { IngestRow, Ledger } from './ledger.js';
import { checkValue } from './mapping.js';
import { normalisePhone } from './phone.js';
import type { SkipReason, Slot } from './types.js';

/** The shape of a campaign's rows: where the phone is and which columns fill which parameters. */
export interface RowShape {
  columns: readonly string[];
  phoneIndex: number;
  slots: readonly Slot[];
  defaultCountry: CountryCode | null;
}

export type Checked =
  | { ok: true; recipient: string; values: string[] }
  | { ok: false; reason: SkipReason; message: string; input: string | null };

/** Validates one CSV record against the campaign's shape (pure). */
export function checkRecord(fields: readonly string[], shape: RowShape): Checked {
  if (fields.length !== shape.columns.length) {
    return {
      ok: false,
      reason: 'column_count',
      message: `${fields.length} field${fields.length === 1 ? '' : 's'}, the header has ${shape.columns.length}`,
      input: fields[shape.phoneIndex] ?? null,
    };
  }
  const rawPhone = fields[shape.phoneIndex] ?? '';
  const phone = normalisePhone(rawPhone, shape.defaultCountry);
  if (!phone.ok) return { ok: false, reason: 'invalid_phone', message: phone.reason, input: rawPhone };
  const values: string[] = new Array(shape.slots.length);
  for (let i = 0; i < shape.slots.length; i++) {
    const slot = shape.slots[i]!;
    const value = (fields[slot.columnIndex] ?? '').trim();
    const problem = checkValue(slot, value);
    if (problem) return { ok: false, reason: problem.reason, message: problem.message, input: rawPhone };
    values[i] = value;
  }
  return { ok: true, recipient: phone.e164, values };
}

const PHONE_COLUMNS = [
  'phone',
  'phone_number',
  'phonenumber',
  'to',
  'wa_id',
  'waid',
  'mobile',
  'msisdn',
  'whatsapp',
  'number',
  'tel',
  'telephone',
];

/** The phone column: `--phone-column`, else the first column with a usual name. */
export function findPhoneColumn(
  columns: readonly string[],
  requested: string | null,
  csvName: string,
): number {
  const norm = (s: string) =>
    s
      .trim()
      .toLowerCase()
      .replace(/[\s-]+/g, '_');
  if (requested) {
    const exact = columns.indexOf(requested);
    const i = exact >= 0 ? exact : columns.findIndex((c) => norm(c) === norm(requested));
    if (i < 0) {
      throw new UsageError(
        `There is no column "${requested}" in the CSV header (columns: ${columns.join(', ')}).`,
        {
          location: '--phone-column',
          hint: `Pass one of the columns of ${csvName}.`,
        },
      );
    }
    return i;
  }
  for (const name of PHONE_COLUMNS) {
    const i = columns.findIndex((c) => norm(c) === name);
    if (i >= 0) return i;
  }
  throw new UsageError(`No phone column found in the header (columns: ${columns.join(', ')}).`, {
    location: `${csvName}:1`,
    hint: 'Pass --phone-column COLUMN, or name the column "phone".',
  });
}

/** Reads the header (first record). */
export async function readHeader(
  path: string,
): Promise<{ columns: string[]; end: number; endLines: number }> {
  for await (const e of readCsv(path)) {
    if (e.type === 'error') {
      throw new UsageError(`The header line cannot be read: ${e.message}.`, {
        location: `${basename(path)}:${e.line}`,
      });
    }
    const columns = e.fields.map((f) => f.trim());
    if (columns.length === 0 || columns.every((c) => c === '')) {
      throw new UsageError('The header line is empty.', { location: `${basename(path)}:${e.line}` });
    }
    return { columns, end: e.end, endLines: e.endLines };
  }
  throw new UsageError('The CSV file is empty (no header line).', { location: `${basename(path)}:1` });
}

export interface Problem {
  row: number;
  line: number;
  reason: SkipReason;
  message: string;
}

/**
 * `--strict`: reads the whole file and returns every invalid row (nothing is written anywhere). Duplicates are not
 * problems (a recipient listed twice is sent once).
 */
export async function findProblems(
  path: string,
  shape: RowShape,
  from: { offset: number; lines: number; nextRow: number },
  limit = Number.POSITIVE_INFINITY,
): Promise<{ problems: Problem[]; count: number; rows: number }> {
  const problems: Problem[] = [];
  let count = 0;
  let row = from.nextRow;
  for await (const e of readCsv(path, { start: from.offset, linesBefore: from.lines })) {
    if (e.type === 'record' && isBlankRecord(e.fields)) continue;
    const r = row++;
    const problem: Omit<Problem, 'row' | 'line'> | null =
      e.type === 'error'
        ? { reason: 'malformed_csv', message: e.message }
        : (() => {
            const c = checkRecord(e.fields, shape);
            return c.ok ? null : { reason: c.reason, message: c.message };
          })();
    if (problem) {
      count++;
      if (problems.length < limit) problems.push({ row: r, line: e.line, ...problem });
    }
  }
  return { problems, count, rows: row - from.nextRow };
}

export interface IngestOptions {
  ledger: Ledger;
  cid: number;
  path: string;
  shape: RowShape;
  from: { offset: number; lines: number; nextRow: number };
  clock: Clock;
  excluded: ReadonlySet<string>;
  optedOut: ReadonlySet<string>;
  signal?: AbortSignal;
  /** Called after each committed batch with the rows as stored (skips included). */
  onBatch?: (rows: readonly IngestRow[]) => void;
  batchRows?: number;
  batchMs?: number;
}

/**
 * Reads the CSV from the stored position into the ledger, in batches of at most `batchRows` rows or `batchMs` ms
 * (one transaction each, with the reading position), yielding to the event loop between batches so that the
 * sender keeps its pace while a big file is read.
 */
export async function ingest(o: IngestOptions): Promise<{ rows: number; aborted: boolean }> {
  const batchRows = o.batchRows ?? 500;
  const batchMs = o.batchMs ?? 10;
  let batch: IngestRow[] = [];
  let row = o.from.nextRow;
  let position = { offset: o.from.offset, lines: o.from.lines };
  let batchStarted = performance.now();
  const flush = (done: boolean) => {
    const stored = o.ledger.ingestBatch(
      o.cid,
      batch,
      { offset: position.offset, line: position.lines, nextRow: row, done },
      o.clock.now(),
    );
    batch = [];
    if (stored.length > 0) o.onBatch?.(stored);
  };
  for await (const e of readCsv(o.path, { start: o.from.offset, linesBefore: o.from.lines })) {
    position = { offset: e.end, lines: e.endLines };
    if (e.type === 'record' && isBlankRecord(e.fields)) continue;
    const r = row++;
    if (e.type === 'error') {
      batch.push({
        row: r,
        line: e.line,
        recipient: null,
        input: null,
        params: null,
        state: 'skipped',
        reason: `malformed_csv: ${e.message}`,
      });
    } else {
      const c = checkRecord(e.fields, o.shape);
      if (!c.ok) {
        batch.push({
          row: r,
          line: e.line,
          recipient: null,
          input: c.input,
          params: null,
          state: 'skipped',
          reason: `${c.reason}: ${c.message}`,
        });
      } else {
        const skip = o.excluded.has(c.recipient)
          ? 'excluded: listed in --exclude'
          : o.optedOut.has(c.recipient)
            ? 'opted_out: the recipient opted out (inbound STOP or marketing preference)'
            : null;
        batch.push({
          row: r,
          line: e.line,
          recipient: c.recipient,
          input: null,
          params: skip ? null : JSON.stringify(c.values),
          state: skip ? 'skipped' : 'pending',
          reason: skip,
        });
      }
    }
    if (batch.length >= batchRows || performance.now() - batchStarted >= batchMs) {
      flush(false);
      await new Promise<void>((resolve) => setImmediate(resolve));
      batchStarted = performance.now();
      if (o.signal?.aborted) return { rows: row - o.from.nextRow, aborted: true };
    }
  }
  flush(true);
  return { rows: row - o.from.nextRow, aborted: false };
}
