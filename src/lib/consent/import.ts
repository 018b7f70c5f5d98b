/**
 * `wacx consent import FILE`: a CSV of consents, columns matched by name:
 *   phone (or bsuid / user_id / recipient), opted_in_at (or consented_at / at / date), source, proof, scope, [action]
 * scope is marketing, utility or all (default all); action is grant (default) or revoke. Every bad cell is named
 * by line and column.
 */
import type { CountryCode } from 'libphonenumber-js';
import { isBlankRecord, readCsv } from '../campaign/csv.js';
import { normalisePhone } from '../campaign/phone.js';
import { UsageError } from '../errors.js';
import { CONSENT_SCOPES, type ConsentChange, type ConsentScope } from './register.js';

export const BSUID = /^[A-Z]{2}\.(ENT\.)?[A-Za-z0-9]{1,128}$/;

const SUBJECT = ['phone', 'phone_number', 'wa_id', 'to', 'recipient', 'msisdn', 'user_id', 'bsuid'];
const TIME = ['opted_in_at', 'consented_at', 'consent_at', 'at', 'date', 'time', 'timestamp'];
const ISO_TIME = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

export type ImportEvent =
  | { type: 'change'; line: number; change: ConsentChange }
  | { type: 'bad'; line: number; column: number | null; message: string };

/** The recipient key of a cell: a BSUID verbatim, else the phone as E.164 digits. */
export function subjectKey(
  raw: string,
  defaultCountry: CountryCode | null,
): { ok: true; key: string } | { ok: false; reason: string } {
  const value = raw.trim();
  if (BSUID.test(value)) return { ok: true, key: value };
  const phone = normalisePhone(value, defaultCountry);
  return phone.ok ? { ok: true, key: phone.e164 } : { ok: false, reason: phone.reason };
}

/** A consent time: an ISO date or date-time, not in the future. */
export function parseConsentTime(raw: string, now: number): number | string {
  const value = raw.trim();
  if (!ISO_TIME.test(value))
    return `"${value}" is not a date or time (use ISO 8601, e.g. 2026-03-01 or 2026-03-01T09:30:00Z)`;
  const ms = Date.parse(value.length === 10 ? `${value}T00:00:00Z` : value);
  if (!Number.isFinite(ms)) return `"${value}" is not a valid date`;
  if (ms > now + 60_000) return `"${value}" is in the future`;
  return ms;
}

export async function* readConsentCsv(
  path: string,
  options: { defaultCountry: CountryCode | null; now: number; source?: string },
): AsyncGenerator<ImportEvent> {
  let columns: Record<'subject' | 'time' | 'source' | 'proof' | 'scope' | 'action', number> | null = null;
  for await (const e of readCsv(path)) {
    if (e.type === 'error') {
      yield { type: 'bad', line: e.line, column: null, message: e.message };
      continue;
    }
    if (isBlankRecord(e.fields)) continue;
    if (!columns) {
      const names = e.fields.map((f) => f.trim().toLowerCase());
      const find = (candidates: string[]) => names.findIndex((n) => candidates.includes(n));
      columns = {
        subject: find(SUBJECT),
        time: find(TIME),
        source: find(['source', 'channel']),
        proof: find(['proof', 'proof_url', 'evidence']),
        scope: find(['scope', 'category']),
        action: find(['action']),
      };
      const missing = [
        columns.subject < 0 ? 'phone (or bsuid)' : null,
        columns.time < 0 ? 'opted_in_at' : null,
        columns.source < 0 && !options.source ? 'source' : null,
      ].filter(Boolean);
      if (missing.length > 0) {
        throw new UsageError(`the header has no ${missing.join(', ')} column.`, {
          location: `${path}:${e.line}`,
          hint: 'Columns: phone (or bsuid), opted_in_at, source, proof, scope (marketing, utility or all), action.',
        });
      }
      continue;
    }
    const cell = (i: number) => (i >= 0 ? (e.fields[i] ?? '').trim() : '');
    const bad = (column: number, message: string): ImportEvent => ({
      type: 'bad',
      line: e.line,
      column: column + 1,
      message,
    });
    const subject = subjectKey(cell(columns.subject), options.defaultCountry);
    if (!subject.ok) {
      yield bad(columns.subject, subject.reason);
      continue;
    }
    const at = parseConsentTime(cell(columns.time), options.now);
    if (typeof at === 'string') {
      yield bad(columns.time, at);
      continue;
    }
    const source = cell(columns.source) || options.source || '';
    if (source === '') {
      yield bad(columns.source, 'the source is empty (where or how the person agreed)');
      continue;
    }
    const scope = (cell(columns.scope) || 'all').toLowerCase();
    if (!(CONSENT_SCOPES as readonly string[]).includes(scope)) {
      yield bad(columns.scope, `scope "${scope}" is not marketing, utility or all`);
      continue;
    }
    const actionText = (cell(columns.action) || 'grant').toLowerCase();
    const action = ['grant', 'opt_in', 'opt-in', 'in'].includes(actionText)
      ? 'grant'
      : ['revoke', 'opt_out', 'opt-out', 'out'].includes(actionText)
        ? 'revoke'
        : null;
    if (!action) {
      yield bad(columns.action, `action "${actionText}" is not grant or revoke`);
      continue;
    }
    yield {
      type: 'change',
      line: e.line,
      change: {
        subject: subject.key,
        scope: scope as ConsentScope,
        action,
        at,
        source,
        proof: cell(columns.proof) || null,
      },
    };
  }
}
