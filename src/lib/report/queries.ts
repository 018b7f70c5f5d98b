import type { Db } from '../store/store.js';
import { DAY_MS } from './period.js';

/**
 * The report's SQL. Every figure is aggregated inside SQLite (GROUP BY day, window functions), so that a store of
 * a million messages is read in one pass per section and nothing grows with it in JavaScript.
 * Times are ms since the epoch; a day is `timestamp / 86400000` (whole UTC days).
 */

export interface Scope {
  since: number;
  /** Exclusive. */
  until: number;
  phoneNumberId: string | null;
}

/** Edits and revokes change an earlier message: they are not messages of their own. */
const NOT_A_MESSAGE = `type NOT IN ('edit', 'revoke')`;

const params = (s: Scope) => ({ since: s.since, until: s.until, pn: s.phoneNumberId });
/** In the SQL text: bound numbers are REAL, and a day must be an integer division. */
const DAY = String(DAY_MS);
const onNumber = (s: Scope, column: string) => (s.phoneNumberId === null ? '' : ` AND ${column} = @pn`);

export const KIND = { inbound: 0, app: 1, api: 2 } as const;
export type Kind = (typeof KIND)[keyof typeof KIND];

export interface Message {
  /** The person: their wa_id, else their user id (BSUID); null when the message names neither. */
  who: string | null;
  t: number;
  kind: Kind;
}

/**
 * Every message of the scope, once, ordered by person, time, then kind (an inbound message before a reply of the
 * same millisecond): inbound messages, App echoes, and API messages. An API message is a `sent` status (webhook
 * redeliveries are deduplicated when stored), or a campaign row accepted by the API whose `sent` status never
 * arrived (at the time the ledger recorded the answer). Each part is read through an index already in that
 * order (migration 700); SQLite merges them, so nothing is sorted but the rows without a status.
 */
export function messageStream(db: Db, s: Scope): Iterable<Message> {
  const range = (column: string) => `${column} >= @since AND ${column} < @until`;
  return db
    .prepare(
      `SELECT COALESCE(from_wa_id, from_user_id) AS who, timestamp AS t, ${KIND.inbound} AS kind
       FROM inbound_messages INDEXED BY inbound_messages_person
       WHERE ${range('timestamp')} AND ${NOT_A_MESSAGE}${onNumber(s, 'phone_number_id')}
       UNION ALL
       SELECT COALESCE(to_wa_id, to_user_id), timestamp, ${KIND.app}
       FROM message_echoes INDEXED BY message_echoes_person
       WHERE ${range('timestamp')} AND ${NOT_A_MESSAGE}${onNumber(s, 'phone_number_id')}
       UNION ALL
       SELECT recipient_id, timestamp, ${KIND.api} FROM message_statuses INDEXED BY message_statuses_sent_person
       WHERE status = 'sent' AND ${range('timestamp')}${onNumber(s, 'phone_number_id')}
       UNION ALL
       SELECT r.recipient, r.updated_at, ${KIND.api} FROM campaign_rows r JOIN campaigns c ON c.cid = r.cid
       WHERE r.state = 'sent' AND r.wamid IS NOT NULL AND ${range('r.updated_at')}${onNumber(s, 'c.phone_number_id')}
         AND NOT EXISTS (SELECT 1 FROM message_statuses e WHERE e.wamid = r.wamid AND e.status = 'sent')
       ORDER BY 1 NULLS FIRST, 2, 3`,
    )
    .iterate(params(s)) as Iterable<Message>;
}

export interface CampaignRow {
  cid: number;
  id: string;
  template: string;
  language: string;
  phoneNumberId: string;
  startedAt: number;
}

/** Campaigns that sent during the period: started before its end, and last changed at or after its start. */
export function campaignsIn(db: Db, s: Scope): CampaignRow[] {
  return db
    .prepare(
      `SELECT cid, id, template, language, phone_number_id AS phoneNumberId,
              COALESCE(started_at, created_at) AS startedAt
       FROM campaigns
       WHERE COALESCE(started_at, created_at) < @until AND COALESCE(finished_at, updated_at) >= @since${onNumber(s, 'phone_number_id')}
       ORDER BY startedAt, id`,
    )
    .all(params(s)) as CampaignRow[];
}

export interface OutcomeGroup {
  /** 1: the message failed (rejected by the API, or a `failed` status and never delivered). */
  failed: number;
  code: number | null;
  title: string | null;
  messages: number;
  accepted: number;
  delivered: number;
  read: number;
  optedOut: number;
}

/**
 * A campaign's rows in one pass, grouped by outcome and failure code. Each row's status webhooks are joined by
 * wamid; an opt-out counts when the recipient of an accepted message opted out after the campaign started and
 * before the period's end.
 */
export function campaignOutcomes(db: Db, c: CampaignRow, s: Scope): OutcomeGroup[] {
  return db
    .prepare(
      `WITH per AS (
         SELECT r.state, r.error_code AS apiCode, r.error_title AS apiTitle,
                MAX(CASE WHEN s.status IN ('delivered', 'read', 'played') THEN 1 ELSE 0 END) AS delivered,
                MAX(CASE WHEN s.status IN ('read', 'played') THEN 1 ELSE 0 END) AS read,
                MAX(CASE WHEN s.status = 'failed' THEN s.error_code END) AS statusCode,
                MAX(CASE WHEN s.status = 'failed' THEN 1 ELSE 0 END) AS statusFailed,
                CASE WHEN r.state = 'sent' AND EXISTS (SELECT 1 FROM opt_outs o WHERE o.recipient = r.recipient
                  AND o.opted_out = 1 AND o.at >= @start AND o.at < @until) THEN 1 ELSE 0 END AS optedOut
         FROM campaign_rows r LEFT JOIN message_statuses s ON s.wamid = r.wamid
         WHERE r.cid = @cid AND r.state IN ('sent', 'failed', 'unknown')
         GROUP BY r.cid, r.row
       ),
       judged AS (
         SELECT *, CASE WHEN state = 'failed' OR (state = 'sent' AND statusFailed = 1 AND delivered = 0)
           THEN 1 ELSE 0 END AS failed FROM per
       )
       SELECT failed, CASE WHEN failed = 1 THEN COALESCE(apiCode, statusCode) END AS code,
              MAX(CASE WHEN failed = 1 AND apiCode IS NOT NULL THEN apiTitle END) AS title,
              COUNT(*) AS messages, SUM(CASE WHEN state = 'sent' THEN 1 ELSE 0 END) AS accepted,
              SUM(delivered) AS delivered, SUM(read) AS read, SUM(optedOut) AS optedOut
       FROM judged GROUP BY 1, 2 ORDER BY 1, messages DESC, 2 NULLS FIRST`,
    )
    .all({ ...params(s), cid: c.cid, start: c.startedAt }) as OutcomeGroup[];
}

/** Times of Business App activity: message echoes (edits and revokes included) and contact-sync actions. */
function appActivity(s: Scope): string {
  return `
    SELECT timestamp AS t FROM message_echoes WHERE 1 = 1${onNumber(s, 'phone_number_id')}
    UNION ALL
    SELECT COALESCE(c.timestamp, w.received_at) FROM contact_syncs c JOIN webhook_events w ON w.id = c.event_id
    WHERE 1 = 1${onNumber(s, 'c.phone_number_id')}`;
}

export interface ActivityFacts {
  activeDays: number;
  /** The last activity before `since` (what the first gap of the period starts from). */
  lastBefore: number | null;
  /** The last activity before `end`. */
  last: number | null;
}

/** App activity in [since, end): the days with some, and the last times before and within the period. */
export function activityFacts(db: Db, s: Scope, end: number): ActivityFacts {
  return db
    .prepare(
      `SELECT COUNT(DISTINCT CASE WHEN t >= @since THEN t / ${DAY} END) AS activeDays,
              MAX(CASE WHEN t < @since THEN t END) AS lastBefore, MAX(t) AS last
       FROM (${appActivity(s)}) AS activity WHERE t < @end`,
    )
    .get({ ...params(s), end }) as ActivityFacts;
}

/** Times of App activity in [from, end), oldest first. */
export function activityTimes(db: Db, s: Scope, from: number, end: number): Iterable<number> {
  return db
    .prepare(`SELECT t FROM (${appActivity(s)}) AS activity WHERE t >= @from AND t < @end ORDER BY t`)
    .pluck()
    .iterate({ ...params(s), from, end }) as Iterable<number>;
}
