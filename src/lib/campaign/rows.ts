import { basename } from 'node:path';
import type { CountryCode } from 'libphonenumber-js';
import type { Clock } from '../clock.js';
import { UsageError } from '../errors.js';
import { isBsuid } from '../identity/bsuid.js';
import { isBlankRecord, readCsv, readCsvBatches } from './csv.js';
import type { IngestRow, Ledger } from './ledger.js';
import { checkValue } from './mapping.js';
import { normalisePhone } from './phone.js';
import { type GivenIdentity, type LinkIndex, resolveRecipient } from './recipient.js';
import { type CampaignConsent, consentSkip, type SkipReason, type Slot } from './types.js';

/** The shape of a campaign's rows: where the recipient is and which columns fill which parameters. */
export interface RowShape {
  columns: readonly string[];
  /** The phone column (-1: none, the rows name BSUIDs only); a cell may also hold a BSUID. */
  phoneIndex: number;
  /** The BSUID column (`user_id`, `bsuid`), or -1. */
  bsuidIndex: number;
  slots: readonly Slot[];
  defaultCountry: CountryCode | null;
}

export type Checked =
  | { ok: true; identity: GivenIdentity; values: string[] }
  | { ok: false; reason: SkipReason; message: string; input: string | null };

/**
 * The identity a row names: a cell that looks like a BSUID is one (checked before any phone normalisation, which
 * would read `MY.2035…` as a phone number); anything else in the phone column is a phone number.
 */
function checkIdentity(
  fields: readonly string[],
  shape: RowShape,
): { ok: true; identity: GivenIdentity; input: string } | Extract<Checked, { ok: false }> {
  const phoneCell = shape.phoneIndex >= 0 ? (fields[shape.phoneIndex] ?? '') : '';
  const bsuidCell = shape.bsuidIndex >= 0 ? (fields[shape.bsuidIndex] ?? '') : '';
  const rawPhone = phoneCell.trim();
  const rawBsuid = bsuidCell.trim();
  // a skipped row keeps its cell as written (the report neutralises what a spreadsheet would evaluate)
  const input = rawPhone !== '' ? phoneCell : bsuidCell;
  if (rawBsuid !== '' && !isBsuid(rawBsuid)) {
    const column = shape.columns[shape.bsuidIndex];
    return {
      ok: false,
      reason: 'invalid_recipient',
      message: `"${rawBsuid}" (column "${column}") is not a BSUID (CC. and up to 128 letters or digits, e.g. US.13491208655302741918)`,
      input,
    };
  }
  let bsuid = rawBsuid === '' ? null : rawBsuid;
  let phone: string | null = null;
  if (rawPhone !== '' && isBsuid(rawPhone)) {
    if (bsuid !== null && bsuid !== rawPhone) {
      return {
        ok: false,
        reason: 'invalid_recipient',
        message: `two different BSUIDs (${rawPhone} and ${bsuid})`,
        input,
      };
    }
    bsuid = rawPhone;
  } else if (rawPhone !== '' || bsuid === null) {
    const r = normalisePhone(phoneCell, shape.defaultCountry);
    if (!r.ok) return { ok: false, reason: 'invalid_phone', message: r.reason, input: phoneCell };
    phone = r.e164;
  }
  return { ok: true, identity: { phone, bsuid }, input };
}

/** Validates one CSV record against the campaign's shape (pure). */
export function checkRecord(fields: readonly string[], shape: RowShape): Checked {
  const firstCell = fields[shape.phoneIndex >= 0 ? shape.phoneIndex : shape.bsuidIndex] ?? null;
  if (fields.length !== shape.columns.length) {
    return {
      ok: false,
      reason: 'column_count',
      message: `${fields.length} field${fields.length === 1 ? '' : 's'}, the header has ${shape.columns.length}`,
      input: firstCell,
    };
  }
  const id = checkIdentity(fields, shape);
  if (!id.ok) return id;
  const values: string[] = new Array(shape.slots.length);
  for (let i = 0; i < shape.slots.length; i++) {
    const slot = shape.slots[i]!;
    const value = (fields[slot.columnIndex] ?? '').trim();
    const problem = checkValue(slot, value);
    if (problem) return { ok: false, reason: problem.reason, message: problem.message, input: id.input };
    values[i] = value;
  }
  return { ok: true, identity: id.identity, values };
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
  'recipient',
];

const BSUID_COLUMNS = ['user_id', 'bsuid'];

const normColumn = (s: string) =>
  s
    .trim()
    .toLowerCase()
    .replace(/[\s-]+/g, '_');

/**
 * The recipient columns: the phone column (`--phone-column`, else the first column with a usual name) and the BSUID
 * column (`user_id` or `bsuid`). A CSV needs at least one of them.
 */
export function findRecipientColumns(
  columns: readonly string[],
  requested: string | null,
  csvName: string,
): { phoneIndex: number; bsuidIndex: number } {
  const bsuidIndex = columns.findIndex((c) => BSUID_COLUMNS.includes(normColumn(c)));
  if (requested) {
    const exact = columns.indexOf(requested);
    const i = exact >= 0 ? exact : columns.findIndex((c) => normColumn(c) === normColumn(requested));
    if (i < 0) {
      throw new UsageError(
        `There is no column "${requested}" in the CSV header (columns: ${columns.join(', ')}).`,
        {
          location: '--phone-column',
          hint: `Pass one of the columns of ${csvName}.`,
        },
      );
    }
    return { phoneIndex: i, bsuidIndex: bsuidIndex === i ? -1 : bsuidIndex };
  }
  for (const name of PHONE_COLUMNS) {
    const i = columns.findIndex((c) => normColumn(c) === name);
    if (i >= 0) return { phoneIndex: i, bsuidIndex };
  }
  if (bsuidIndex >= 0) return { phoneIndex: -1, bsuidIndex };
  throw new UsageError(`No phone or BSUID column found in the header (columns: ${columns.join(', ')}).`, {
    location: `${csvName}:1`,
    hint: 'Pass --phone-column COLUMN, or name the column "phone" (or "user_id" for BSUIDs).',
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
  reason: SkipReason | 'bsuid_recipient';
  message: string;
}

type Judge = (checked: Checked) => Omit<Problem, 'row' | 'line'> | null;

/** A row that would be skipped as invalid. */
const invalidRow: Judge = (c) => (c.ok ? null : { reason: c.reason, message: c.message });

/** A valid row that would be sent to a BSUID (in `recipient`): no phone in the row nor linked to it in the store. */
export function bsuidRecipientRow(links: LinkIndex): Judge {
  return (c) => {
    if (!c.ok) return null;
    const key = resolveRecipient(c.identity, links).key;
    return isBsuid(key) ? { reason: 'bsuid_recipient', message: `only a BSUID (${key})` } : null;
  };
}

/**
 * Reads the whole file (from `from`) and returns the rows `judge` finds a problem with (nothing is written
 * anywhere): by default every invalid row (`--strict`). Duplicates are not problems (a recipient listed twice is
 * sent once).
 */
export async function findProblems(
  path: string,
  shape: RowShape,
  from: { offset: number; lines: number; nextRow: number },
  limit = Number.POSITIVE_INFINITY,
  judge: Judge = invalidRow,
): Promise<{ problems: Problem[]; count: number; rows: number }> {
  const problems: Problem[] = [];
  let count = 0;
  let row = from.nextRow;
  for await (const events of readCsvBatches(path, { start: from.offset, linesBefore: from.lines })) {
    for (const e of events) {
      if (e.type === 'record' && isBlankRecord(e.fields)) continue;
      const r = row++;
      const problem =
        e.type === 'error'
          ? judge === invalidRow
            ? { reason: 'malformed_csv' as const, message: e.message }
            : null
          : judge(checkRecord(e.fields, shape));
      if (problem) {
        count++;
        if (problems.length < limit) problems.push({ row: r, line: e.line, ...problem });
      }
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
  /** Absent: the register is not consulted. */
  consent?: CampaignConsent;
  /** The webhook store's phone ↔ BSUID links. */
  links: LinkIndex;
  signal?: AbortSignal;
  /**
   * Called after each committed batch with the rows as stored (skips included), and the lines of the rows whose
   * phone the store has lately seen only as a BSUID-only user.
   */
  onBatch?: (rows: readonly IngestRow[], bsuidOnlyLines: readonly number[]) => void;
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
  let bsuidOnlyLines: number[] = [];
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
    if (stored.length > 0 || bsuidOnlyLines.length > 0) o.onBatch?.(stored, bsuidOnlyLines);
    bsuidOnlyLines = [];
  };
  for await (const events of readCsvBatches(o.path, { start: o.from.offset, linesBefore: o.from.lines })) {
    for (const e of events) {
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
          const who = resolveRecipient(c.identity, o.links);
          if (who.bsuidOnly) bsuidOnlyLines.push(e.line);
          const skip = who.aliases.some((a) => o.excluded.has(a))
            ? 'excluded: listed in --exclude'
            : who.aliases.some((a) => o.optedOut.has(a))
              ? 'opted_out: the recipient opted out (inbound STOP or marketing preference)'
              : o.consent
                ? consentSkip(who.aliases, o.consent)
                : null;
          batch.push({
            row: r,
            line: e.line,
            recipient: who.key,
            input: who.resolvedFrom,
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
  }
  flush(true);
  return { rows: row - o.from.nextRow, aborted: false };
}
