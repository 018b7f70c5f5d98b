import type { CountryCode } from 'libphonenumber-js';
import type { Db } from '../store/sqlite.js';
import { optedOutRecipients } from '../webhooks/queries.js';
import { isBlankRecord, readCsv } from './csv.js';
import { unreadable } from './files.js';
import { normalisePhone } from './phone.js';

export interface ExcludeList {
  numbers: Set<string>;
  /** Lines that are not phone numbers. */
  invalid: { line: number; value: string }[];
}

/**
 * Reads `--exclude FILE`: one phone number per line, or a CSV whose column "phone" (or first column) holds them.
 * Numbers are normalised like the campaign's (same default country). Returns E.164 digits.
 */
export async function readExcludeFile(
  path: string,
  defaultCountry: CountryCode | null,
): Promise<ExcludeList> {
  const numbers = new Set<string>();
  const invalid: { line: number; value: string }[] = [];
  let column = 0;
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
        const phone = names.findIndex((n) =>
          ['phone', 'phone_number', 'to', 'wa_id', 'number', 'mobile', 'msisdn'].includes(n),
        );
        if (phone >= 0) {
          column = phone;
          continue;
        }
        if (!normalisePhone(e.fields[0] ?? '', defaultCountry).ok && !/\d/.test(e.fields[0] ?? '')) continue; // a header
      }
      const value = e.fields[column] ?? '';
      const r = normalisePhone(value, defaultCountry);
      if (r.ok) numbers.add(r.e164);
      else invalid.push({ line: e.line, value });
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).syscall) throw unreadable(path, '--exclude', error);
    throw error;
  }
  return { numbers, invalid };
}

/** Recipients who opted out by inbound message or marketing preference (webhook store). */
export function storeOptOuts(db: Db): Set<string> {
  try {
    return optedOutRecipients(db);
  } catch {
    return new Set();
  }
}
