import { errorCodeInfo } from '../graph/error-codes.js';
import type { Db } from '../store/sqlite.js';
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
}

/**
 * Settles rows whose outcome is unknown from the status webhooks in the store, joined by callback data: a row
 * with a `sent`/`delivered`/`read` status was accepted (→ sent); one with a `failed` status was accepted and then
 * failed (→ failed, never re-sent). Rows without any status stay unknown.
 */
export function reconcileUnknown(
  db: Db,
  ledger: Ledger,
  cid: number,
  campaignId: string,
  now: number,
): ReconcileResult {
  const unknown = ledger.rowsInState(cid, 'unknown');
  if (unknown.length === 0) return { checked: 0, sent: 0, failed: 0, stillUnknown: 0 };
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
    errorTitle:
      s.status === 'failed' && s.errorCode !== null ? (errorCodeInfo(s.errorCode)?.title ?? null) : null,
  }));
  ledger.settle(cid, settled, now);
  const failed = settled.filter((s) => s.state === 'failed').length;
  return {
    checked: unknown.length,
    sent: settled.length - failed,
    failed,
    stillUnknown: unknown.length - settled.length,
  };
}
