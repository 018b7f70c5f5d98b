import { errorCodeInfo } from '../graph/error-codes.js';
import type { Db } from '../store/store.js';
import { statusesByCallbackPrefix } from '../webhooks/queries.js';
import type { Ledger } from './ledger.js';

/** biz_opaque_callback_data of a campaign row: `<campaign>:<row>`. */
export function callbackData(campaignId: string, row: number): string {
  return `${campaignId}:${row}`;
}

const DELIVERED = new Set(['sent', 'delivered', 'read', 'played']);

export interface ReconcileResult {
  checked: number;
  sent: number;
  failed: number;
  stillUnknown: number;
  /** Rows the API accepted that a `failed` status webhook later reported (e.g. 131047): now failed. */
  failedAfterAccept: number;
}

const titleOf = (code: number | null) => (code !== null ? (errorCodeInfo(code)?.title ?? null) : null);

/**
 * Settles rows from the status webhooks in the store, joined by callback data. An unknown row with a
 * `sent`/`delivered`/`read` status was accepted (→ sent); one with a `failed` status was accepted and then failed
 * (→ failed, never re-sent). Rows without any status stay unknown. A row the API accepted (sent) whose message
 * then failed (a `failed` status, e.g. 131047 outside the 24-hour window) is failed with that error.
 */
export function reconcileUnknown(
  db: Db,
  ledger: Ledger,
  cid: number,
  campaignId: string,
  now: number,
): ReconcileResult {
  const failedAfterAccept = failAcceptedRows(db, ledger, cid, campaignId, now);
  const unknown = ledger.rowsInState(cid, 'unknown');
  if (unknown.length === 0) return { checked: 0, sent: 0, failed: 0, stillUnknown: 0, failedAfterAccept };
  const wanted = new Map(unknown.map((u) => [callbackData(campaignId, u.row), u.row]));
  const statuses =
    unknown.length <= 200
      ? unknown.flatMap((u) => statusesByCallbackPrefix(db, callbackData(campaignId, u.row)))
      : statusesByCallbackPrefix(db, `${campaignId}:`);
  const best = new Map<number, { wamid: string; status: string; errorCode: number | null }>();
  for (const s of statuses) {
    const row = wanted.get(s.callbackData);
    if (row === undefined) continue;
    const prev = best.get(row);
    // a failure is final; otherwise the latest delivery status wins
    if (prev?.status === 'failed') continue;
    if (s.status === 'failed' || DELIVERED.has(s.status)) {
      best.set(row, { wamid: s.wamid, status: s.status, errorCode: s.errorCode });
    }
  }
  const settled = [...best.entries()].map(([row, s]) => ({
    row,
    state: s.status === 'failed' ? ('failed' as const) : ('sent' as const),
    wamid: s.wamid,
    status: s.status,
    errorCode: s.status === 'failed' ? s.errorCode : null,
    errorTitle: s.status === 'failed' ? titleOf(s.errorCode) : null,
  }));
  ledger.settle(cid, settled, now);
  const failed = settled.filter((s) => s.state === 'failed').length;
  return {
    checked: unknown.length,
    sent: settled.length - failed,
    failed,
    stillUnknown: unknown.length - settled.length,
    failedAfterAccept,
  };
}

/** `sent` rows with a `failed` status webhook → failed (the first failure of each row). */
function failAcceptedRows(db: Db, ledger: Ledger, cid: number, campaignId: string, now: number): number {
  const failures = new Map<
    number,
    { row: number; wamid: string; errorCode: number | null; errorTitle: string | null }
  >();
  const prefix = `${campaignId}:`;
  for (const s of statusesByCallbackPrefix(db, prefix)) {
    if (s.status !== 'failed') continue;
    const row = Number(s.callbackData.slice(prefix.length));
    if (!Number.isInteger(row) || failures.has(row)) continue;
    failures.set(row, { row, wamid: s.wamid, errorCode: s.errorCode, errorTitle: titleOf(s.errorCode) });
  }
  return failures.size === 0 ? 0 : ledger.failAccepted(cid, [...failures.values()], now);
}
