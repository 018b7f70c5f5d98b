import type { Clock } from '../clock.js';
import { WacxError } from '../errors.js';
import { GraphApiError } from '../graph/errors.js';
import type { Graph } from '../graph/graph.js';
import { parseGraphTime } from '../graph/time.js';
import { formatDuration } from '../io/format.js';
import type { Db } from '../store/store.js';

/**
 * The coexistence syncs, `POST /{phone-number-id}/smb_app_data` (meta-cloud-api.md §1.6): once per sync type,
 * within 24 h of onboarding, contacts first. Shared by `wacx onboard` and `wacx history sync`.
 * The guards run locally first, so wacx never spends the one call on a request Meta would refuse.
 */

export type SyncKind = 'smb_app_state_sync' | 'history';

export const SYNC_WINDOW_MS = 24 * 60 * 60 * 1000;

export const SYNC_LABEL: Record<SyncKind, string> = {
  smb_app_state_sync: 'contact sync',
  history: 'history sync',
};

export interface SyncRequestRecord {
  id: number;
  phoneNumberId: string;
  syncType: SyncKind;
  outcome: 'accepted' | 'refused' | 'failed';
  requestId: string | null;
  requestedAt: number;
  onboardedAt: number | null;
  errorCode: number | null;
  errorMessage: string | null;
}

/** Why a sync cannot (or could not) be requested; `code` is Meta's code when it applies (2593107 / 2593108). */
export class SyncRefusedError extends WacxError {
  readonly code: number | undefined;
  constructor(message: string, options: { hint?: string; code?: number; cause?: unknown } = {}) {
    super(message, options);
    this.code = options.code;
  }
}

export function recordOnboarding(
  db: Db,
  phoneNumberId: string,
  onboardedAt: number,
  source: string,
  now: number,
): void {
  db.prepare(
    `INSERT INTO sync_onboardings (phone_number_id, onboarded_at, source, recorded_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (phone_number_id) DO UPDATE SET onboarded_at = excluded.onboarded_at, source = excluded.source,
       recorded_at = excluded.recorded_at`,
  ).run(phoneNumberId, onboardedAt, source, now);
}

export function onboardedAt(db: Db, phoneNumberId: string): number | undefined {
  const row = db
    .prepare('SELECT onboarded_at FROM sync_onboardings WHERE phone_number_id = ?')
    .get(phoneNumberId) as { onboarded_at: number } | undefined;
  return row?.onboarded_at;
}

interface SyncRow {
  id: number;
  phone_number_id: string;
  sync_type: SyncKind;
  outcome: SyncRequestRecord['outcome'];
  request_id: string | null;
  requested_at: number;
  onboarded_at: number | null;
  error_code: number | null;
  error_message: string | null;
}

function toRecord(r: SyncRow): SyncRequestRecord {
  return {
    id: r.id,
    phoneNumberId: r.phone_number_id,
    syncType: r.sync_type,
    outcome: r.outcome,
    requestId: r.request_id,
    requestedAt: r.requested_at,
    onboardedAt: r.onboarded_at,
    errorCode: r.error_code,
    errorMessage: r.error_message,
  };
}

/** Every sync request recorded for a number, oldest first. */
export function listSyncRequests(db: Db, phoneNumberId: string): SyncRequestRecord[] {
  return (
    db
      .prepare('SELECT * FROM sync_requests WHERE phone_number_id = ? ORDER BY requested_at, id')
      .all(phoneNumberId) as SyncRow[]
  ).map(toRecord);
}

/** The accepted request of this type in the current onboarding (requested after onboardedAt), if any. */
export function acceptedSync(
  db: Db,
  phoneNumberId: string,
  type: SyncKind,
  since?: number,
): SyncRequestRecord | undefined {
  const row = db
    .prepare(
      `SELECT * FROM sync_requests WHERE phone_number_id = ? AND sync_type = ? AND outcome = 'accepted'
         AND requested_at >= ? ORDER BY requested_at DESC, id DESC LIMIT 1`,
    )
    .get(phoneNumberId, type, since ?? 0) as SyncRow | undefined;
  return row ? toRecord(row) : undefined;
}

function insertRequest(db: Db, r: Omit<SyncRequestRecord, 'id'>): void {
  db.prepare(
    `INSERT INTO sync_requests (phone_number_id, sync_type, outcome, request_id, requested_at, onboarded_at, error_code,
       error_message) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(
    r.phoneNumberId,
    r.syncType,
    r.outcome,
    r.requestId,
    r.requestedAt,
    r.onboardedAt,
    r.errorCode,
    r.errorMessage,
  );
}

const REONBOARD_HINT =
  'The business must disconnect in the Business App (Settings › Account › Business Platform) and complete the onboarding again (`wacx onboard`); the syncs can then be requested once more.';

export function alreadyRequestedError(type: SyncKind, prev: SyncRequestRecord): SyncRefusedError {
  return new SyncRefusedError(
    `The ${SYNC_LABEL[type]} was already requested for this number on ${new Date(prev.requestedAt).toISOString()}${
      prev.requestId ? ` (request id ${prev.requestId})` : ''
    }; Meta allows it only once per onboarding (it would answer 2593107).`,
    { code: 2593107, hint: `Follow it with \`wacx history status\`. To sync again: ${REONBOARD_HINT}` },
  );
}

export function windowClosedError(type: SyncKind, onboarded: number, now: number): SyncRefusedError {
  return new SyncRefusedError(
    `The 24-hour sync window closed ${formatDuration(now - onboarded - SYNC_WINDOW_MS)} ago (onboarded ${new Date(
      onboarded,
    ).toISOString()}): Meta refuses a ${SYNC_LABEL[type]} requested more than 24 h after onboarding (2593108).`,
    { code: 2593108, hint: REONBOARD_HINT },
  );
}

/**
 * Requests one sync. Refuses locally (SyncRefusedError, exit 1, with a hint) a second request of the same
 * type in the same onboarding (the API would answer 2593107) and a request after the 24 h window (2593108);
 * explains the same codes when the API answers them. Records every attempt (request id and time).
 * `opts.onboardedAt` (ms) is when onboarding completed; without it wacx uses the recorded time, else the
 * phone number's `last_onboarded_time`.
 */
export async function requestSync(
  ctx: { graph: Graph; db: Db; clock: Clock },
  phoneNumberId: string,
  type: SyncKind,
  opts: { onboardedAt?: number; signal?: AbortSignal } = {},
): Promise<{ requestId: string; requestedAt: number }> {
  const { graph, db, clock } = ctx;
  let onboarded = opts.onboardedAt;
  if (onboarded !== undefined) {
    recordOnboarding(db, phoneNumberId, onboarded, 'onboard', clock.now());
  } else {
    let fromGraph: number | undefined;
    try {
      const node = await graph.phoneNumbers.get(
        phoneNumberId,
        ['id', 'last_onboarded_time', 'is_on_biz_app'],
        opts.signal,
      );
      fromGraph = parseGraphTime(node.last_onboarded_time);
    } catch (error) {
      if (!(error instanceof GraphApiError)) throw error;
      // fall back on what was recorded; the API call itself will tell
    }
    if (fromGraph !== undefined) {
      recordOnboarding(db, phoneNumberId, fromGraph, 'last_onboarded_time', clock.now());
      onboarded = fromGraph;
    } else {
      onboarded = onboardedAt(db, phoneNumberId);
    }
  }

  const prev = acceptedSync(db, phoneNumberId, type, onboarded);
  if (prev) throw alreadyRequestedError(type, prev);
  const now = clock.now();
  if (onboarded !== undefined && now - onboarded > SYNC_WINDOW_MS)
    throw windowClosedError(type, onboarded, now);

  const requestedAt = clock.now();
  try {
    const res = await graph.smbAppData.requestSync(phoneNumberId, type);
    insertRequest(db, {
      phoneNumberId,
      syncType: type,
      outcome: 'accepted',
      requestId: res.request_id ?? null,
      requestedAt,
      onboardedAt: onboarded ?? null,
      errorCode: null,
      errorMessage: null,
    });
    return { requestId: res.request_id, requestedAt };
  } catch (error) {
    const code = error instanceof GraphApiError ? error.code : null;
    insertRequest(db, {
      phoneNumberId,
      syncType: type,
      outcome: code === 2593107 || code === 2593108 ? 'refused' : 'failed',
      requestId: null,
      requestedAt,
      onboardedAt: onboarded ?? null,
      errorCode: code,
      errorMessage: error instanceof Error ? error.message : String(error),
    });
    if (code === 2593107) {
      throw new SyncRefusedError(
        `Meta refused the ${SYNC_LABEL[type]}: it was already requested for this number (2593107, synchronization request limit exceeded). Each sync can be requested once per onboarding.`,
        { code, hint: REONBOARD_HINT, cause: error },
      );
    }
    if (code === 2593108) {
      throw new SyncRefusedError(
        `Meta refused the ${SYNC_LABEL[type]}: it is outside the 24-hour window after onboarding (2593108).`,
        { code, hint: REONBOARD_HINT, cause: error },
      );
    }
    throw error;
  }
}
