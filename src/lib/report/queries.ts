import type { Db } from '../store/sqlite.js';
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

/**
 * API messages in the scope, one row each (who, t): a `sent` status, the first one of its wamid; and campaign rows
 * accepted by the API whose `sent` status never arrived (at the time the ledger recorded the answer).
 */
function apiMessages(s: Scope): string {
  return `
    SELECT s.recipient_id AS who, s.timestamp AS t FROM message_statuses s
    WHERE s.status = 'sent' AND s.timestamp >= @since AND s.timestamp < @until${onNumber(s, 's.phone_number_id')}
      AND NOT EXISTS (SELECT 1 FROM message_statuses e WHERE e.wamid = s.wamid AND e.status = 'sent'
                      AND (e.timestamp < s.timestamp OR (e.timestamp = s.timestamp AND e.id < s.id)))
    UNION ALL
    SELECT r.recipient AS who, r.updated_at AS t FROM campaign_rows r JOIN campaigns c ON c.cid = r.cid
    WHERE r.state = 'sent' AND r.wamid IS NOT NULL AND r.updated_at >= @since AND r.updated_at < @until${onNumber(s, 'c.phone_number_id')}
      AND NOT EXISTS (SELECT 1 FROM message_statuses e WHERE e.wamid = r.wamid AND e.status = 'sent')`;
}

export interface DayCounts {
  day: number;
  inbound: number;
  api: number;
  app: number;
}

/** Messages per UTC day by source; days without any message are absent. */
export function messagesPerDay(db: Db, s: Scope): DayCounts[] {
  const rows = db
    .prepare(
      `SELECT t / ${DAY} AS day, SUM(src = 0) AS inbound, SUM(src = 1) AS api, SUM(src = 2) AS app FROM (
         SELECT timestamp AS t, 0 AS src FROM inbound_messages
         WHERE timestamp >= @since AND timestamp < @until AND ${NOT_A_MESSAGE}${onNumber(s, 'phone_number_id')}
         UNION ALL SELECT t, 1 FROM (${apiMessages(s)})
         UNION ALL SELECT timestamp, 2 FROM message_echoes
         WHERE timestamp >= @since AND timestamp < @until AND ${NOT_A_MESSAGE}${onNumber(s, 'phone_number_id')}
       ) GROUP BY 1 ORDER BY 1`,
    )
    .all(params(s)) as DayCounts[];
  return rows;
}

export interface ResponseFigures {
  /** 'app', 'api', 'all', or null for the questions nobody answered in the period. */
  source: 'app' | 'api' | 'all' | null;
  count: number;
  medianMs: number | null;
  p90Ms: number | null;
}

/**
 * First-response times. Per person (wa_id, else user id), the messages of the period in time order: a run of
 * inbound messages is one question, asked at its first message; the first App echo or API message after it is
 * the answer. Percentiles by nearest rank: the value at rank ceil(p × n).
 */
export function firstResponses(db: Db, s: Scope): ResponseFigures[] {
  const rows = db
    .prepare(
      `WITH ev AS (
         SELECT COALESCE(from_wa_id, from_user_id) AS who, timestamp AS t, 0 AS kind FROM inbound_messages
         WHERE timestamp >= @since AND timestamp < @until AND ${NOT_A_MESSAGE}${onNumber(s, 'phone_number_id')}
         UNION ALL
         SELECT COALESCE(to_wa_id, to_user_id), timestamp, 1 FROM message_echoes
         WHERE timestamp >= @since AND timestamp < @until AND ${NOT_A_MESSAGE}${onNumber(s, 'phone_number_id')}
         UNION ALL
         SELECT who, t, 2 FROM (${apiMessages(s)})
       ),
       -- every message gets the number of replies before it: a question and the reply that ends it share it
       numbered AS (
         SELECT who, t, kind, COALESCE(SUM(kind <> 0) OVER (PARTITION BY who ORDER BY t, kind
                                ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS replies
         FROM ev WHERE who IS NOT NULL
       ),
       questions AS MATERIALIZED (
         SELECT MIN(CASE WHEN kind = 0 THEN t END) AS asked, MAX(CASE WHEN kind <> 0 THEN t END) AS answered,
                MAX(kind) AS kind
         FROM numbered GROUP BY who, replies
       ),
       timed AS (
         SELECT CASE kind WHEN 1 THEN 'app' WHEN 2 THEN 'api' END AS source, answered - asked AS d
         FROM questions WHERE asked IS NOT NULL
         UNION ALL
         SELECT 'all', answered - asked FROM questions WHERE asked IS NOT NULL AND answered IS NOT NULL
       ),
       ranked AS (
         SELECT source, d, ROW_NUMBER() OVER (PARTITION BY source ORDER BY d) AS rank,
                COUNT(*) OVER (PARTITION BY source) AS n
         FROM timed
       )
       SELECT source, MAX(n) AS count,
              MAX(CASE WHEN source IS NOT NULL AND rank = (n + 1) / 2 THEN d END) AS medianMs,
              MAX(CASE WHEN source IS NOT NULL AND rank = (9 * n + 9) / 10 THEN d END) AS p90Ms
       FROM ranked GROUP BY source`,
    )
    .all(params(s)) as ResponseFigures[];
  return rows;
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
                COALESCE(MAX(s.status IN ('delivered', 'read', 'played')), 0) AS delivered,
                COALESCE(MAX(s.status IN ('read', 'played')), 0) AS read,
                MAX(CASE WHEN s.status = 'failed' THEN s.error_code END) AS statusCode,
                MAX(CASE WHEN s.status = 'failed' THEN s.error_title END) AS statusTitle,
                COALESCE(MAX(s.status = 'failed'), 0) AS statusFailed,
                r.state = 'sent' AND EXISTS (SELECT 1 FROM opt_outs o WHERE o.recipient = r.recipient
                  AND o.opted_out = 1 AND o.at >= @start AND o.at < @until) AS optedOut
         FROM campaign_rows r LEFT JOIN message_statuses s ON s.wamid = r.wamid
         WHERE r.cid = @cid AND r.state IN ('sent', 'failed', 'unknown')
         GROUP BY r.row
       ),
       judged AS (
         SELECT *, state = 'failed' OR (state = 'sent' AND statusFailed = 1 AND delivered = 0) AS failed FROM per
       )
       SELECT failed, CASE WHEN failed THEN COALESCE(apiCode, statusCode) END AS code,
              CASE WHEN failed THEN COALESCE(apiTitle, statusTitle) END AS title,
              COUNT(*) AS messages, SUM(state = 'sent') AS accepted, SUM(delivered) AS delivered, SUM(read) AS read,
              SUM(optedOut) AS optedOut
       FROM judged GROUP BY 1, 2 ORDER BY 1, messages DESC, 2`,
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
       FROM (${appActivity(s)}) WHERE t < @end`,
    )
    .get({ ...params(s), end }) as ActivityFacts;
}

/** Gaps between consecutive App activities that end within [from, end) and last at least `minMs`. */
export function activityGaps(
  db: Db,
  s: Scope,
  from: number,
  end: number,
  minMs: number,
): { from: number; to: number }[] {
  return db
    .prepare(
      `SELECT prev AS "from", t AS "to" FROM (
         SELECT t, LAG(t) OVER (ORDER BY t) AS prev FROM (${appActivity(s)}) WHERE t >= @from AND t < @end
       ) WHERE prev IS NOT NULL AND t - prev >= @min ORDER BY prev`,
    )
    .all({ ...params(s), from, end, min: minMs }) as { from: number; to: number }[];
}

/** The longest gap between consecutive App activities within [from, end). */
export function longestActivityGap(
  db: Db,
  s: Scope,
  from: number,
  end: number,
): { from: number; to: number } | null {
  const row = db
    .prepare(
      `SELECT prev AS "from", t AS "to" FROM (
         SELECT t, LAG(t) OVER (ORDER BY t) AS prev FROM (${appActivity(s)}) WHERE t >= @from AND t < @end
       ) WHERE prev IS NOT NULL ORDER BY t - prev DESC, prev LIMIT 1`,
    )
    .get({ ...params(s), from, end }) as { from: number; to: number } | undefined;
  return row ?? null;
}
