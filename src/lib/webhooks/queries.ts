import type { Db } from '../store/sqlite.js';
import { SIGNATURE_FAILURES } from './storage.js';

/**
 * Readers of the webhook store, for send (statuses, opt-outs) and doctor (sync health); the history import's
 * status is read in lib/history/queries.ts.
 * All times are milliseconds since the epoch. Safe to call from another process while the receiver writes
 * (WAL: readers never block the writer).
 */

export interface CallbackStatus {
  callbackData: string;
  wamid: string;
  status: string;
  errorCode: number | null;
  /** ms (the status webhook's timestamp). */
  timestamp: number;
}

/** Highest code point: an upper bound for every string starting with a prefix (BINARY collation, UTF-8). */
const MAX_CHAR = String.fromCodePoint(0x10ffff);

/**
 * Every status webhook whose biz_opaque_callback_data starts with `prefix` (statuses that came without it
 * inherit it from an earlier status of the same wamid), oldest first.
 */
export function statusesByCallbackPrefix(db: Db, prefix: string): CallbackStatus[] {
  return db
    .prepare(
      `SELECT callback_data AS callbackData, wamid, status, error_code AS errorCode, timestamp
       FROM message_statuses WHERE callback_data >= ? AND callback_data < ? ORDER BY timestamp, id`,
    )
    .all(prefix, prefix + MAX_CHAR) as CallbackStatus[];
}

/**
 * Recipients (E.164 digits, no '+') whose latest opt action is an opt-out: an inbound STOP-like message
 * (several languages) or a `user_preferences` marketing stop, not followed by START / resume.
 */
export function optedOutRecipients(db: Db): Set<string> {
  const rows = db
    .prepare(
      `SELECT recipient, opted_out FROM opt_outs o
       WHERE id = (SELECT id FROM opt_outs p WHERE p.recipient = o.recipient ORDER BY at DESC, id DESC LIMIT 1)`,
    )
    .all() as { recipient: string; opted_out: number }[];
  return new Set(rows.filter((r) => r.opted_out === 1).map((r) => r.recipient));
}

export interface SyncHealth {
  eventCount: number;
  lastEventAt: number | null;
  lastEchoAt: number | null;
  lastContactSyncAt: number | null;
  lastAccountUpdate: { event: string; reason: string | null; initiatedBy: string | null; at: number } | null;
  offboardedWithoutReconnect: boolean;
  signatureFailures: { count: number; lastAt: number | null };
}

/** What the doctor needs about the webhook stream. With a phone number id, number-level events are filtered. */
export function syncHealth(db: Db, phoneNumberId?: string): SyncHealth {
  const pnFilter = phoneNumberId ? ' AND (phone_number_id = ? OR phone_number_id IS NULL)' : '';
  const pnArgs = phoneNumberId ? [phoneNumberId] : [];
  const ev = db
    .prepare(`SELECT COUNT(*) AS n, MAX(received_at) AS last FROM webhook_events WHERE 1 = 1${pnFilter}`)
    .get(...pnArgs) as { n: number; last: number | null };
  const echo = db
    .prepare(
      `SELECT MAX(w.received_at) AS last FROM message_echoes m JOIN webhook_events w ON w.id = m.event_id${
        phoneNumberId ? ' WHERE m.phone_number_id = ?' : ''
      }`,
    )
    .get(...pnArgs) as { last: number | null };
  const contact = db
    .prepare(
      `SELECT MAX(w.received_at) AS last FROM contact_syncs c JOIN webhook_events w ON w.id = c.event_id${
        phoneNumberId ? ' WHERE c.phone_number_id = ?' : ''
      }`,
    )
    .get(...pnArgs) as { last: number | null };
  const last = db
    .prepare(
      'SELECT event, reason, initiated_by AS initiatedBy, at FROM account_updates ORDER BY at DESC, id DESC LIMIT 1',
    )
    .get() as SyncHealth['lastAccountUpdate'] | undefined;
  const offRow = db
    .prepare(
      `SELECT event FROM account_updates WHERE event IN ('ACCOUNT_OFFBOARDED', 'ACCOUNT_RECONNECTED')
       ORDER BY at DESC, id DESC LIMIT 1`,
    )
    .get() as { event: string } | undefined;
  const placeholders = SIGNATURE_FAILURES.map(() => '?').join(', ');
  const sig = db
    .prepare(
      `SELECT COUNT(*) AS n, MAX(at) AS last FROM webhook_rejections WHERE reason IN (${placeholders})`,
    )
    .get(...SIGNATURE_FAILURES) as { n: number; last: number | null };
  return {
    eventCount: ev.n,
    lastEventAt: ev.last ?? null,
    lastEchoAt: echo.last ?? null,
    lastContactSyncAt: contact.last ?? null,
    lastAccountUpdate: last ?? null,
    offboardedWithoutReconnect: offRow?.event === 'ACCOUNT_OFFBOARDED',
    signatureFailures: { count: sig.n, lastAt: sig.last ?? null },
  };
}
