import { type PeopleCounts, peopleCounts } from '../identity/queries.js';
import type { Db } from '../store/store.js';
import { SYNC_WINDOW_MS, type SyncKind } from './sync-requests.js';

/**
 * The state of the history import and the contact sync, read from what the webhook receiver stored and from
 * the sync requests wacx made. All times are milliseconds since the epoch.
 */

export type SyncState = 'not_requested' | 'requested' | 'in_progress' | 'complete' | 'declined' | 'failed';

export interface MissingChunk {
  phase: number | null;
  chunkOrder: number;
}

export interface PhaseStatus {
  phase: number;
  /** What the phase covers (days before onboarding). */
  covers: string;
  chunks: number;
  chunkOrders: number[];
  threads: number;
  messages: number;
  /** Highest progress (0–100) seen in a chunk of this phase. */
  progress: number | null;
  lastAt: number | null;
}

export interface SyncRequestInfo {
  requestId: string | null;
  requestedAt: number | null;
  /** The last refusal or failure of the request call, when there was one and no accepted request. */
  error: { code: number | null; message: string | null; at: number } | null;
}

export interface HistorySyncStatus extends SyncRequestInfo {
  state: SyncState;
  /** Overall progress (0–100): the highest progress seen. */
  progress: number | null;
  done: boolean;
  phases: PhaseStatus[];
  chunks: number;
  /** Distinct conversations (threads) received: one per person, however many keys (phone, BSUID) name them. */
  threads: number;
  /** Distinct messages received. */
  messages: number;
  /**
   * Gaps in chunk_order (chunks not received yet, or lost). Meta does not say whether chunk_order counts per
   * phase or across phases: when two phases share a number it is per phase (`phase` set), otherwise the numbers
   * are taken as one sequence (`phase` null).
   */
  missingChunks: MissingChunk[];
  /** How many chunk numbers are missing in all (`missingChunks` lists at most MAX_LISTED_MISSING of them). */
  missingChunkCount: number;
  chunkNumbering: 'per_phase' | 'global';
  mediaFollowUps: number;
  declined: {
    code: number | null;
    title: string | null;
    details: string | null;
    at: number;
    meaning: string;
  } | null;
  lastEventAt: number | null;
}

export interface ContactSyncStatus extends SyncRequestInfo {
  state: SyncState;
  added: number;
  removed: number;
  /** Distinct people currently present (their latest action is an add), whichever key each action named. */
  contacts: number;
  lastEventAt: number | null;
}

export interface HistoryStatus {
  phoneNumberId: string | null;
  onboardedAt: number | null;
  /** onboardedAt + 24 h: the last moment a sync may be requested. */
  windowEndsAt: number | null;
  history: HistorySyncStatus;
  contacts: ContactSyncStatus;
  /** The people the store knows, over every number (a BSUID is the same for every number of the portfolio). */
  people: PeopleCounts;
}

export const PHASE_COVERS: Record<number, string> = {
  0: 'day 0–1 before onboarding',
  1: 'day 1–90',
  2: 'day 90–180',
};

export const DECLINED_MEANING =
  'The business turned off chat-history sharing in the WhatsApp Business App during onboarding: past messages will not be imported into wacx. New messages, echoes and contact changes still arrive. To import history, the business must offboard and onboard again, and accept sharing.';

function requestInfo(db: Db, phoneNumberId: string | undefined, type: SyncKind): SyncRequestInfo {
  const where = phoneNumberId ? 'phone_number_id = ? AND sync_type = ?' : 'sync_type = ?';
  const args = phoneNumberId ? [phoneNumberId, type] : [type];
  const accepted = db
    .prepare(
      `SELECT request_id, requested_at FROM sync_requests WHERE ${where} AND outcome = 'accepted'
       ORDER BY requested_at DESC, id DESC LIMIT 1`,
    )
    .get(...args) as { request_id: string | null; requested_at: number } | undefined;
  const failed = db
    .prepare(
      `SELECT error_code, error_message, requested_at FROM sync_requests WHERE ${where} AND outcome != 'accepted'
       ORDER BY requested_at DESC, id DESC LIMIT 1`,
    )
    .get(...args) as
    | { error_code: number | null; error_message: string | null; requested_at: number }
    | undefined;
  const error =
    failed && (!accepted || failed.requested_at > accepted.requested_at)
      ? { code: failed.error_code, message: failed.error_message, at: finite(failed.requested_at) ?? 0 }
      : null;
  return { requestId: accepted?.request_id ?? null, requestedAt: finite(accepted?.requested_at), error };
}

/** At most this many missing chunk numbers are listed; all of them are counted (`missingChunkCount`). */
export const MAX_LISTED_MISSING = 100;

export interface ChunkGaps {
  /** The first missing numbers, in order, at most MAX_LISTED_MISSING. */
  listed: number[];
  /** How many numbers are missing in all. */
  count: number;
}

/**
 * Gaps in the chunk numbers received (1..max over all phases, or from the lowest number seen). Work and memory
 * follow the number of chunks received, never the numbers themselves: a stored chunk_order of 2000000000 (or
 * -2000000000) lists MAX_LISTED_MISSING gaps and counts the rest. Numbers that are not safe integers
 * (fractions, absurdly large values) say nothing about gaps and are left out.
 */
export function missingChunkOrders(orders: readonly number[]): ChunkGaps {
  const sorted = [...new Set(orders.filter((o) => Number.isSafeInteger(o)))].sort((a, b) => a - b);
  const listed: number[] = [];
  let count = 0;
  if (sorted.length === 0) return { listed, count };
  let expected = Math.min(1, sorted[0]!);
  for (const o of sorted) {
    if (o > expected) {
      count += o - expected;
      for (let i = expected; i < o && listed.length < MAX_LISTED_MISSING; i++) listed.push(i);
    }
    expected = o + 1;
  }
  return { listed, count };
}

/** A stored value as a finite number, or null (NULL, text, NaN, ±Infinity). */
function finite(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/**
 * The state of the history import and the contact sync for a number (or for every number in the store).
 * History is done when a chunk reached progress 100 and no chunk_order is missing; declined on 2593109.
 */
export function historyStatus(db: Db, phoneNumberId?: string): HistoryStatus {
  const pnWhere = phoneNumberId ? ' WHERE phone_number_id = ?' : '';
  const pnAnd = phoneNumberId ? ' AND phone_number_id = ?' : '';
  const args = phoneNumberId ? [phoneNumberId] : [];

  const onb = db.prepare(`SELECT MAX(onboarded_at) AS at FROM sync_onboardings${pnWhere}`).get(...args) as {
    at: number | null;
  };
  const onboardedAt = finite(onb.at);

  // history
  const chunkRows = db
    .prepare(
      `SELECT phase, chunk_order, progress, threads, messages, received_at FROM history_chunks${pnWhere} ORDER BY id`,
    )
    .all(...args) as {
    phase: number | null;
    chunk_order: number | null;
    progress: number | null;
    threads: number;
    messages: number;
    received_at: number;
  }[];
  const phases = new Map<number, PhaseStatus>();
  const emptyPhase = (phase: number, covers: string): PhaseStatus => ({
    phase,
    covers,
    chunks: 0,
    chunkOrders: [],
    threads: 0,
    messages: 0,
    progress: null,
    lastAt: null,
  });
  for (const p of [0, 1, 2]) phases.set(p, emptyPhase(p, PHASE_COVERS[p]!));
  let progress: number | null = null;
  const orders: number[] = [];
  for (const raw of chunkRows) {
    // Whatever the store holds: numbers that are not finite count as missing values.
    const c = {
      phase: finite(raw.phase),
      chunk_order: finite(raw.chunk_order),
      progress: finite(raw.progress),
      threads: finite(raw.threads) ?? 0,
      messages: finite(raw.messages) ?? 0,
      received_at: finite(raw.received_at),
    };
    const p = c.phase ?? 0;
    let ph = phases.get(p);
    if (!ph) {
      ph = emptyPhase(p, 'unknown phase');
      phases.set(p, ph);
    }
    ph.chunks++;
    if (c.chunk_order !== null) {
      ph.chunkOrders.push(c.chunk_order);
      orders.push(c.chunk_order);
    }
    ph.threads += c.threads;
    ph.messages += c.messages;
    if (c.progress !== null) {
      ph.progress = Math.max(ph.progress ?? 0, c.progress);
      progress = Math.max(progress ?? 0, c.progress);
    }
    if (c.received_at !== null) ph.lastAt = Math.max(ph.lastAt ?? c.received_at, c.received_at);
  }
  for (const ph of phases.values()) ph.chunkOrders.sort((a, b) => a - b);
  // a thread is a person: threads keyed by a phone and by a BSUID of one person count once
  const counts = db
    .prepare(
      `SELECT COUNT(*) AS messages, COUNT(DISTINCT COALESCE('i' || k.identity_id, 't' || h.thread_id)) AS threads,
         SUM(CASE WHEN h.media_id IS NOT NULL THEN 1 ELSE 0 END) AS media
       FROM history_messages h LEFT JOIN identity_keys k ON k.key = h.thread_id${pnWhere.replace('phone_number_id', 'h.phone_number_id')}`,
    )
    .get(...args) as { messages: number; threads: number; media: number | null };
  const declinedRow = db
    .prepare(
      `SELECT code, title, details, received_at FROM history_errors WHERE 1 = 1${pnAnd} ORDER BY id DESC LIMIT 1`,
    )
    .get(...args) as
    | { code: number | null; title: string | null; details: string | null; received_at: number }
    | undefined;
  const lastHistory = db
    .prepare(`SELECT MAX(received_at) AS at FROM webhook_events WHERE field = 'history'${pnAnd}`)
    .get(...args) as { at: number | null };
  const hReq = requestInfo(db, phoneNumberId, 'history');
  // per-phase numbering shows as the same chunk_order in two phases
  const perPhase = new Set(orders).size < orders.length;
  const missing: MissingChunk[] = [];
  let missingCount = 0;
  for (const [phase, list] of perPhase
    ? [...phases.values()].map((p) => [p.phase, p.chunkOrders] as const)
    : [[null, orders] as const]) {
    const gaps = missingChunkOrders(list);
    missingCount += gaps.count;
    for (const chunkOrder of gaps.listed)
      if (missing.length < MAX_LISTED_MISSING) missing.push({ phase, chunkOrder });
  }
  const done = progress === 100 && missingCount === 0;
  const declined = declinedRow
    ? {
        code: declinedRow.code,
        title: declinedRow.title,
        details: declinedRow.details,
        at: finite(declinedRow.received_at) ?? 0,
        meaning:
          declinedRow.code === 2593109
            ? DECLINED_MEANING
            : 'Meta reported an error for the history import; past messages may not be imported.',
      }
    : null;
  let hState: SyncState;
  if (declined && declined.code === 2593109) hState = 'declined';
  else if (done) hState = 'complete';
  else if (declined) hState = 'failed';
  else if (chunkRows.length > 0) hState = 'in_progress';
  else if (hReq.requestedAt !== null) hState = 'requested';
  else if (hReq.error) hState = 'failed';
  else hState = 'not_requested';

  // contacts
  const cReq = requestInfo(db, phoneNumberId, 'smb_app_state_sync');
  const c = db
    .prepare(
      `SELECT SUM(CASE WHEN action = 'add' THEN 1 ELSE 0 END) AS added,
         SUM(CASE WHEN action = 'remove' THEN 1 ELSE 0 END) AS removed, COUNT(*) AS n
       FROM contact_syncs${pnWhere}`,
    )
    .get(...args) as { added: number | null; removed: number | null; n: number };
  // the latest action per person and number: an add by phone then a remove by BSUID of the same person removes
  const present = db
    .prepare(
      `SELECT COUNT(*) AS n FROM (
         SELECT c.action, ROW_NUMBER() OVER (
           PARTITION BY c.phone_number_id,
             COALESCE('i' || k.identity_id, 'k' || COALESCE(c.phone_number, c.user_id, c.parent_user_id))
           ORDER BY c.id DESC) AS latest
         FROM contact_syncs c
         LEFT JOIN identity_keys k ON k.key = COALESCE(c.user_id, c.phone_number, c.parent_user_id)
         WHERE 1 = 1${pnAnd.replace('phone_number_id', 'c.phone_number_id')}
       ) AS latest_actions WHERE latest = 1 AND action = 'add'`,
    )
    .get(...args) as { n: number };
  const lastContact = db
    .prepare(`SELECT MAX(received_at) AS at FROM webhook_events WHERE field = 'smb_app_state_sync'${pnAnd}`)
    .get(...args) as { at: number | null };
  let cState: SyncState;
  if (c.n > 0) cState = 'complete';
  else if (cReq.requestedAt !== null) cState = 'requested';
  else if (cReq.error) cState = 'failed';
  else cState = 'not_requested';

  return {
    phoneNumberId: phoneNumberId ?? null,
    onboardedAt,
    windowEndsAt: onboardedAt === null ? null : onboardedAt + SYNC_WINDOW_MS,
    history: {
      ...hReq,
      state: hState,
      progress,
      done,
      phases: [...phases.values()].sort((a, b) => a.phase - b.phase),
      chunks: chunkRows.length,
      threads: counts.threads,
      messages: counts.messages,
      missingChunks: missing,
      missingChunkCount: missingCount,
      chunkNumbering: perPhase ? 'per_phase' : 'global',
      mediaFollowUps: counts.media ?? 0,
      declined,
      lastEventAt: finite(lastHistory.at),
    },
    contacts: {
      ...cReq,
      state: cState,
      added: c.added ?? 0,
      removed: c.removed ?? 0,
      contacts: present.n,
      lastEventAt: finite(lastContact.at),
    },
    people: peopleCounts(db),
  };
}
