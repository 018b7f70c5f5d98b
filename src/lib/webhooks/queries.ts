import { tableExists } from '../store/database.js';
import type { Db } from '../store/store.js';
import { SIGNATURE_FAILURES } from './rejections.js';

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
      `SELECT callback_data AS "callbackData", wamid, status, error_code AS "errorCode", timestamp
       FROM message_statuses WHERE callback_data >= ? AND callback_data < ? ORDER BY timestamp, id`,
    )
    .all(prefix, prefix + MAX_CHAR) as CallbackStatus[];
}

/**
 * Recipient keys whose person's latest opt action is an opt-out: an inbound STOP-like message (several languages)
 * or a `user_preferences` marketing stop, not followed by START / resume from any key of that person. A key is a
 * phone as E.164 digits without '+', or a BSUID / parent BSUID verbatim; for every opted-out person the set holds
 * all the keys the store links to them (see src/lib/identity/store.ts), so a campaign row keyed by any is skipped.
 */
export function optedOutRecipients(db: Db): Set<string> {
  if (!tableExists(db, 'identity_keys')) {
    // a store without the people tables (migrated by an older wacx): by recipient key alone
    const rows = db
      .prepare(
        `SELECT recipient, opted_out FROM opt_outs o
         WHERE id = (SELECT id FROM opt_outs p WHERE p.recipient = o.recipient ORDER BY at DESC, id DESC LIMIT 1)`,
      )
      .all() as { recipient: string; opted_out: number }[];
    return new Set(rows.filter((r) => r.opted_out === 1).map((r) => r.recipient));
  }
  const rows = db
    .prepare(
      `WITH acts AS (
         SELECT o.id, o.recipient, o.opted_out, o.at, k.identity_id AS person,
           ROW_NUMBER() OVER (PARTITION BY COALESCE('i' || k.identity_id, 'r' || o.recipient)
             ORDER BY o.at DESC, o.id DESC) AS n
         FROM opt_outs o LEFT JOIN identity_keys k ON k.key = o.recipient
       ), latest AS (SELECT recipient, person FROM acts WHERE n = 1 AND opted_out = 1)
       SELECT recipient AS key FROM latest
       UNION SELECT k.key FROM latest l JOIN identity_keys k ON k.identity_id = l.person`,
    )
    .all() as { key: string }[];
  return new Set(rows.map((r) => r.key));
}

export interface SyncHealth {
  eventCount: number;
  lastEventAt: number | null;
  /** The newest message echo, by the echo's own timestamp (when it was sent in the App), not by its arrival. */
  lastEchoAt: number | null;
  /** The newest contact-sync action, by its own timestamp (its arrival when it has none). */
  lastContactSyncAt: number | null;
  lastAccountUpdate: { event: string; reason: string | null; initiatedBy: string | null; at: number } | null;
  offboardedWithoutReconnect: boolean;
  /** Deliveries refused for a missing, malformed or wrong signature: all of them, and the last one (counts table). */
  signatureFailures: { count: number; lastAt: number | null };
  /** Events stored with parse problems (their raw payload kept): how many, and the last one received. */
  parseProblems: { count: number; lastAt: number | null };
  /** The last delivery whose signature verified, a redelivery included (it stores no event). */
  lastVerifiedDeliveryAt: number | null;
}

/** Whose events count for the account and activity readings: the profile's WABA and number. */
export interface HealthScope {
  /** Account updates and echoes of other WABAs are left out. */
  wabaId?: string | undefined;
  /**
   * The number's display digits (account_update names the number by it, not by id): account updates about
   * another number are left out; those that name no number count.
   */
  phoneNumber?: string | undefined;
}

/** Times a Date can show; anything else in a timestamp column is not a time. */
const TIME_RANGE = 'BETWEEN -8640000000000000 AND 8640000000000000';

/** A stored value as a finite number, or null. */
function finite(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/**
 * What the doctor needs about the webhook stream. With a phone number id, number-level events are filtered; with
 * a scope, account updates and echoes of another WABA or number are left out.
 */
export function syncHealth(db: Db, phoneNumberId?: string, scope: HealthScope = {}): SyncHealth {
  const pnFilter = phoneNumberId ? ' AND (phone_number_id = ? OR phone_number_id IS NULL)' : '';
  const pnArgs = phoneNumberId ? [phoneNumberId] : [];
  const ev = db
    .prepare(`SELECT COUNT(*) AS n, MAX(received_at) AS last FROM webhook_events WHERE 1 = 1${pnFilter}`)
    .get(...pnArgs) as { n: number; last: unknown };
  const activityWhere = (alias: string) => {
    const parts: string[] = [];
    const args: string[] = [];
    if (phoneNumberId) {
      parts.push(`${alias}.phone_number_id = ?`);
      args.push(phoneNumberId);
    }
    if (scope.wabaId) {
      parts.push('(w.waba_id = ? OR w.waba_id IS NULL)');
      args.push(scope.wabaId);
    }
    return { sql: parts.map((p) => ` AND ${p}`).join(''), args };
  };
  const e = activityWhere('m');
  const echo = db
    .prepare(
      `SELECT MAX(m.timestamp) AS last FROM message_echoes m JOIN webhook_events w ON w.id = m.event_id
       WHERE m.timestamp ${TIME_RANGE}${e.sql}`,
    )
    .get(...e.args) as { last: unknown };
  const c = activityWhere('c');
  const contact = db
    .prepare(
      `SELECT MAX(COALESCE(c.timestamp, w.received_at)) AS last FROM contact_syncs c
       JOIN webhook_events w ON w.id = c.event_id
       WHERE COALESCE(c.timestamp, w.received_at) ${TIME_RANGE}${c.sql}`,
    )
    .get(...c.args) as { last: unknown };
  const auParts: string[] = [];
  const auArgs: string[] = [];
  if (scope.wabaId) {
    auParts.push('waba_id = ?');
    auArgs.push(scope.wabaId);
  }
  if (scope.phoneNumber) {
    auParts.push('(phone_number = ? OR phone_number IS NULL)');
    auArgs.push(scope.phoneNumber);
  }
  const auWhere = auParts.map((p) => ` AND ${p}`).join('');
  const lastRow = db
    .prepare(
      `SELECT event, reason, initiated_by AS initiatedBy, at FROM account_updates WHERE 1 = 1${auWhere}
       ORDER BY at DESC, id DESC LIMIT 1`,
    )
    .get(...auArgs) as { event: unknown; reason: unknown; initiatedBy: unknown; at: unknown } | undefined;
  const offRow = db
    .prepare(
      `SELECT event FROM account_updates WHERE event IN ('ACCOUNT_OFFBOARDED', 'ACCOUNT_RECONNECTED')${auWhere}
       ORDER BY at DESC, id DESC LIMIT 1`,
    )
    .get(...auArgs) as { event: string } | undefined;
  const unread = db
    .prepare('SELECT COUNT(*) AS n, MAX(received_at) AS last FROM webhook_events WHERE problems IS NOT NULL')
    .get() as { n: number; last: unknown };
  // Totals from the counts per reason: webhook_rejections keeps only the most recent rows (REJECTION_LOG_ROWS),
  // so counting its rows would stop at that many.
  const placeholders = SIGNATURE_FAILURES.map(() => '?').join(', ');
  const sig = db
    .prepare(
      `SELECT COALESCE(SUM(count), 0) AS n, MAX(last_at) AS last FROM webhook_rejection_counts
       WHERE reason IN (${placeholders})`,
    )
    .get(...SIGNATURE_FAILURES) as { n: number; last: unknown };
  const text = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
  return {
    eventCount: ev.n,
    lastEventAt: finite(ev.last),
    lastEchoAt: finite(echo.last),
    lastContactSyncAt: finite(contact.last),
    lastAccountUpdate: lastRow
      ? {
          event: String(lastRow.event),
          reason: text(lastRow.reason),
          initiatedBy: text(lastRow.initiatedBy),
          at: finite(lastRow.at) ?? Number.NaN,
        }
      : null,
    offboardedWithoutReconnect: offRow?.event === 'ACCOUNT_OFFBOARDED',
    signatureFailures: { count: sig.n, lastAt: finite(sig.last) },
    parseProblems: { count: unread.n, lastAt: finite(unread.last) },
    lastVerifiedDeliveryAt: finite(
      (db.prepare('SELECT MAX(last_at) AS last FROM webhook_verified_deliveries').get() as { last: unknown })
        .last,
    ),
  };
}
