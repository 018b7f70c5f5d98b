import type { CountryCode } from 'libphonenumber-js';
import { isBsuid } from '../identity/bsuid.js';
import { isMissingSchema } from '../store/database.js';
import type { Db } from '../store/store.js';
import { optedOutRecipients } from '../webhooks/queries.js';
import { isBlankRecord, readCsv } from './csv.js';
import { unreadable } from './files.js';
import { normalisePhone } from './phone.js';

export interface ExcludeList {
  /** Recipient keys: E.164 digits, and BSUIDs verbatim. */
  numbers: Set<string>;
  /** Lines that are neither phone numbers nor BSUIDs. */
  invalid: { line: number; value: string }[];
}

const EXCLUDE_COLUMNS = ['phone', 'phone_number', 'to', 'wa_id', 'number', 'mobile', 'msisdn', 'recipient'];
const EXCLUDE_BSUID_COLUMNS = ['user_id', 'bsuid'];

/**
 * Reads `--exclude FILE`: one phone number or BSUID per line, or a CSV whose phone column ("phone", …) and BSUID
 * column ("user_id", "bsuid") hold them (else its first column). A BSUID is kept verbatim (never read as a phone);
 * numbers are normalised like the campaign's (same default country) to E.164 digits.
 */
export async function readExcludeFile(
  path: string,
  defaultCountry: CountryCode | null,
): Promise<ExcludeList> {
  const numbers = new Set<string>();
  const invalid: { line: number; value: string }[] = [];
  let columns = [0];
  let first = true;
  try {
    for await (const e of readCsv(path)) {
      if (e.type === 'error') {
        invalid.push({ line: e.line, value: e.message });
        continue;
      }
      if (isBlankRecord(e.fields)) continue;
      if (first) {
        first = false;
        const names = e.fields.map((f) => f.trim().toLowerCase());
        const named = names.flatMap((n, i) =>
          EXCLUDE_COLUMNS.includes(n) || EXCLUDE_BSUID_COLUMNS.includes(n) ? [i] : [],
        );
        if (named.length > 0) {
          columns = named;
          continue;
        }
        const cell = (e.fields[0] ?? '').trim();
        if (!isBsuid(cell) && !normalisePhone(cell, defaultCountry).ok && !/\d/.test(cell)) continue; // a header
      }
      for (const column of columns) {
        const value = (e.fields[column] ?? '').trim();
        if (value === '' && columns.length > 1) continue;
        if (isBsuid(value)) {
          numbers.add(value);
          continue;
        }
        const r = normalisePhone(value, defaultCountry);
        if (r.ok) numbers.add(r.e164);
        else invalid.push({ line: e.line, value });
      }
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).syscall) throw unreadable(path, '--exclude', error);
    throw error;
  }
  return { numbers, invalid };
}

/**
 * Recipient keys who opted out by inbound message or marketing preference (webhook store): phones as E.164 digits,
 * BSUIDs verbatim, expanded over the identities the store links. A row is checked by its key and its aliases.
 */
export function storeOptOuts(db: Db): Set<string> {
  try {
    return optedOutRecipients(db);
  } catch (error) {
    // a store without the webhook tables has no opt-outs; any other failure must stop the run, not send to them
    if (isMissingSchema(error)) return new Set();
    throw error;
  }
}
