import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';

/** A valid, distinct German mobile number per index (E.164 digits). */
export function phone(i: number): string {
  return `49151${String(10_000_000 + i).padStart(8, '0')}`;
}

/** Writes a CSV of `n` rows for order_update (name → {{1}}, order → {{2}}). */
export function writeOrdersCsv(dir: string, n: number, name = 'orders.csv', extra = ''): string {
  const lines = ['phone,name,order'];
  for (let i = 0; i < n; i++) lines.push(`+${phone(i)},Name ${i},A-${i}`);
  const path = join(dir, name);
  writeFileSync(path, `${lines.join('\n')}\n${extra}`);
  return path;
}

export interface LedgerRow {
  row: number;
  line: number;
  recipient: string | null;
  state: string;
  reason: string | null;
  error_code: number | null;
  wamid: string | null;
  attempts: number;
}

/** Reads a campaign's rows straight from the SQLite file. */
export function ledgerRows(dbPath: string, campaign?: string): LedgerRow[] {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    const cid = campaign
      ? (db.prepare('SELECT cid FROM campaigns WHERE id = ?').pluck().get(campaign) as number)
      : (db.prepare('SELECT cid FROM campaigns ORDER BY cid DESC LIMIT 1').pluck().get() as number);
    return db
      .prepare('SELECT row, line, recipient, state, reason, error_code, wamid, attempts FROM campaign_rows WHERE cid = ? ORDER BY row')
      .all(cid) as LedgerRow[];
  } finally {
    db.close();
  }
}

export function countBy<T>(items: readonly T[], key: (t: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const i of items) out[key(i)] = (out[key(i)] ?? 0) + 1;
  return out;
}
