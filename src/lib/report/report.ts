import { DEFAULT_DOCTOR_OPTIONS } from '../doctor/types.js';
import { errorCodeInfo } from '../graph/error-codes.js';
import type { Db } from '../store/sqlite.js';
import { DAY_MS, dayOf, type Period } from './period.js';
import {
  activityFacts,
  activityGaps,
  campaignOutcomes,
  campaignsIn,
  firstResponses,
  longestActivityGap,
  messagesPerDay,
  type ResponseFigures,
  type Scope,
} from './queries.js';

export interface DayLine {
  /** YYYY-MM-DD (UTC). */
  day: string;
  inbound: number;
  api: number;
  app: number;
  total: number;
}

export interface ResponseTimes {
  responses: number;
  medianMs: number | null;
  p90Ms: number | null;
}

export interface FailureCode {
  code: number | null;
  title: string | null;
  count: number;
}

export interface CampaignFigures {
  id: string;
  template: string;
  language: string;
  phoneNumberId: string;
  startedAt: number;
  /** Rows wacx sent or tried to send (sent, failed or unknown). */
  messages: number;
  /** Accepted by the API (a wamid). */
  accepted: number;
  delivered: number;
  read: number;
  failed: number;
  optedOut: number;
  /** delivered / messages. */
  deliveryRate: number | null;
  /** read / delivered. */
  readRate: number | null;
  /** failed / messages. */
  failureRate: number | null;
  /** optedOut / accepted. */
  optOutRate: number | null;
  failureCodes: FailureCode[];
}

export type ActivityStatus = 'ok' | 'warn' | 'fail' | 'unknown';

export interface AppActivity {
  /** The doctor's thresholds (days without the App): warn, then fail; Meta disconnects after about 14. */
  warnDays: number;
  failDays: number;
  /** Days of the period (up to now) with at least one echo or contact-sync action. */
  activeDays: number;
  /** Days of the period up to now (or its end). */
  days: number;
  lastActivityAt: number | null;
  /** At the period's end (or now, when the period reaches today). */
  daysSinceLastActivity: number | null;
  longestGap: { from: number; to: number; days: number } | null;
  /** Every stretch without App activity of at least warnDays that overlaps the period (the last may be open). */
  gaps: { from: number; to: number; days: number; open: boolean }[];
  status: ActivityStatus;
}

export interface Report {
  period: { since: string; until: string; days: number };
  phoneNumberId: string | null;
  generatedAt: number;
  messages: { days: DayLine[]; totals: Omit<DayLine, 'day'> };
  firstResponse: { app: ResponseTimes; api: ResponseTimes; all: ResponseTimes; unanswered: number };
  campaigns: CampaignFigures[];
  appActivity: AppActivity;
}

const ratio = (part: number, whole: number): number | null => (whole > 0 ? part / whole : null);
const days = (ms: number) => Math.floor((ms / DAY_MS) * 10) / 10;

function dayLines(db: Db, scope: Scope, period: Period): DayLine[] {
  const counts = new Map(messagesPerDay(db, scope).map((d) => [d.day, d]));
  const lines: DayLine[] = [];
  for (let day = period.since / DAY_MS; day < period.until / DAY_MS; day++) {
    const c = counts.get(day);
    const [inbound, api, app] = c ? [c.inbound, c.api, c.app] : [0, 0, 0];
    lines.push({ day: dayOf(day * DAY_MS), inbound, api, app, total: inbound + api + app });
  }
  return lines;
}

function responseTimes(rows: ResponseFigures[], source: 'app' | 'api' | 'all'): ResponseTimes {
  const r = rows.find((x) => x.source === source);
  return { responses: r?.count ?? 0, medianMs: r?.medianMs ?? null, p90Ms: r?.p90Ms ?? null };
}

function campaignFigures(db: Db, scope: Scope): CampaignFigures[] {
  return campaignsIn(db, scope).map((c) => {
    const t = { messages: 0, accepted: 0, delivered: 0, read: 0, failed: 0, optedOut: 0 };
    const failureCodes: FailureCode[] = [];
    for (const g of campaignOutcomes(db, c, scope)) {
      t.messages += g.messages;
      t.accepted += g.accepted;
      t.delivered += g.delivered;
      t.read += g.read;
      t.optedOut += g.optedOut;
      if (g.failed) {
        t.failed += g.messages;
        const title = (g.code === null ? undefined : errorCodeInfo(g.code)?.title) ?? g.title;
        failureCodes.push({ code: g.code, title, count: g.messages });
      }
    }
    return {
      id: c.id,
      template: c.template,
      language: c.language,
      phoneNumberId: c.phoneNumberId,
      startedAt: c.startedAt,
      ...t,
      deliveryRate: ratio(t.delivered, t.messages),
      readRate: ratio(t.read, t.delivered),
      failureRate: ratio(t.failed, t.messages),
      optOutRate: ratio(t.optedOut, t.accepted),
      failureCodes: failureCodes.sort((a, b) => b.count - a.count || (a.code ?? 0) - (b.code ?? 0)),
    };
  });
}

/** The App against the 14-day rule, with the doctor's own thresholds, up to the period's end or now. */
function appActivity(db: Db, scope: Scope, now: number): AppActivity {
  const { activityWarnDays: warnDays, activityFailDays: failDays } = DEFAULT_DOCTOR_OPTIONS;
  const end = Math.max(scope.since, Math.min(scope.until, now));
  const facts = activityFacts(db, scope, end);
  const from = facts.lastBefore ?? scope.since;
  const gaps = activityGaps(db, scope, from, end, warnDays * DAY_MS).map((g) => ({
    ...g,
    days: days(g.to - g.from),
    open: false,
  }));
  let longest = longestActivityGap(db, scope, from, end);
  if (facts.last !== null) {
    // the stretch from the last activity to the end of the period has not ended yet
    const open = { from: facts.last, to: end };
    if (end - facts.last >= warnDays * DAY_MS)
      gaps.push({ ...open, days: days(end - facts.last), open: true });
    if (!longest || end - facts.last > longest.to - longest.from) longest = open;
  }
  const since = facts.last === null ? null : (end - facts.last) / DAY_MS;
  const status: ActivityStatus =
    since === null ? 'unknown' : since >= failDays ? 'fail' : since >= warnDays ? 'warn' : 'ok';
  return {
    warnDays,
    failDays,
    activeDays: facts.activeDays,
    days: Math.ceil((end - scope.since) / DAY_MS),
    lastActivityAt: facts.last,
    daysSinceLastActivity: since === null ? null : days(end - facts.last!),
    longestGap: longest ? { ...longest, days: days(longest.to - longest.from) } : null,
    gaps,
    status,
  };
}

/** Everything `wacx report` shows, computed from the store for the period (and one number, if given). */
export function buildReport(
  db: Db,
  period: Period,
  opts: { phoneNumberId: string | null; now: number },
): Report {
  const scope: Scope = { since: period.since, until: period.until, phoneNumberId: opts.phoneNumberId };
  const lines = dayLines(db, scope, period);
  const totals = { inbound: 0, api: 0, app: 0, total: 0 };
  for (const l of lines) {
    totals.inbound += l.inbound;
    totals.api += l.api;
    totals.app += l.app;
    totals.total += l.total;
  }
  const responses = firstResponses(db, scope);
  return {
    period: { since: dayOf(period.since), until: dayOf(period.until - DAY_MS), days: period.days },
    phoneNumberId: opts.phoneNumberId,
    generatedAt: opts.now,
    messages: { days: lines, totals },
    firstResponse: {
      app: responseTimes(responses, 'app'),
      api: responseTimes(responses, 'api'),
      all: responseTimes(responses, 'all'),
      unanswered: responses.find((r) => r.source === null)?.count ?? 0,
    },
    campaigns: campaignFigures(db, scope),
    appActivity: appActivity(db, scope, opts.now),
  };
}
