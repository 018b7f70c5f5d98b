import { DEFAULT_DOCTOR_OPTIONS } from '../doctor/types.js';
import { errorCodeInfo } from '../graph/error-codes.js';
import type { Db } from '../store/store.js';
import { DAY_MS, dayOf, type Period } from './period.js';
import {
  activityFacts,
  activityTimes,
  campaignOutcomes,
  campaignsIn,
  KIND,
  messageStream,
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
/** Days with one decimal, rounded down (13.96 days is 13.9: not yet 14). */
const days = (ms: number) => Math.floor((ms / DAY_MS) * 10) / 10;
const withDays = (g: { from: number; to: number }) => ({ ...g, days: days(g.to - g.from) });

/** Response times of one source, kept as 8-byte numbers for exact percentiles (the only part that grows). */
class Durations {
  private values = new Float64Array(1024);
  length = 0;
  push(ms: number): void {
    if (this.length === this.values.length) {
      const bigger = new Float64Array(this.values.length * 2);
      bigger.set(this.values);
      this.values = bigger;
    }
    this.values[this.length++] = ms;
  }
  /** Nearest rank: the value at rank ceil(p × n). */
  times(): ResponseTimes {
    const n = this.length;
    if (n === 0) return { responses: 0, medianMs: null, p90Ms: null };
    const sorted = this.values.subarray(0, n).sort();
    const at = (p: number) => sorted[Math.max(0, Math.ceil(p * n) - 1)]!;
    return { responses: n, medianMs: at(0.5), p90Ms: at(0.9) };
  }
}

/**
 * One pass over the period's messages in (person, time) order: counts per day and source, and first responses.
 * For each person, a run of inbound messages is one question, asked at its first message; the first App echo or
 * API message after it answers it; a question still open at the person's last message is unanswered.
 */
function walkMessages(db: Db, scope: Scope, period: Period): Pick<Report, 'messages' | 'firstResponse'> {
  const first = period.since / DAY_MS;
  const counts = new Float64Array(period.days * 3);
  const app = new Durations();
  const api = new Durations();
  const all = new Durations();
  let unanswered = 0;
  let who: string | null = null;
  let asked: number | null = null;
  for (const m of messageStream(db, scope)) {
    counts[(Math.floor(m.t / DAY_MS) - first) * 3 + m.kind]!++;
    if (m.who !== who || m.who === null) {
      if (asked !== null) unanswered++;
      who = m.who;
      asked = null;
    }
    if (m.who === null) continue;
    if (m.kind === KIND.inbound) asked ??= m.t;
    else if (asked !== null) {
      (m.kind === KIND.app ? app : api).push(m.t - asked);
      all.push(m.t - asked);
      asked = null;
    }
  }
  if (asked !== null) unanswered++;
  const days: DayLine[] = [];
  const totals = { inbound: 0, api: 0, app: 0, total: 0 };
  for (let i = 0; i < period.days; i++) {
    const [inbound, app, api] = [counts[i * 3]!, counts[i * 3 + 1]!, counts[i * 3 + 2]!];
    days.push({ day: dayOf((first + i) * DAY_MS), inbound, api, app, total: inbound + api + app });
    totals.inbound += inbound;
    totals.api += api;
    totals.app += app;
    totals.total += inbound + api + app;
  }
  return {
    messages: { days, totals },
    firstResponse: { app: app.times(), api: api.times(), all: all.times(), unanswered },
  };
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
  const warnMs = warnDays * DAY_MS;
  const gaps: AppActivity['gaps'] = [];
  let longest: { from: number; to: number } | null = null;
  const gap = (from: number, to: number, open: boolean) => {
    if (to - from >= warnMs) gaps.push({ from, to, days: days(to - from), open });
    if (!longest || to - from > longest.to - longest.from) longest = { from, to };
  };
  let previous = facts.lastBefore;
  for (const t of activityTimes(db, scope, scope.since, end)) {
    if (previous !== null) gap(previous, t, false);
    previous = t;
  }
  // the stretch from the last activity to the end of the period has not ended yet
  if (previous !== null) gap(previous, end, true);
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
    longestGap: longest === null ? null : withDays(longest),
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
  return {
    period: { since: dayOf(period.since), until: dayOf(period.until - DAY_MS), days: period.days },
    phoneNumberId: opts.phoneNumberId,
    generatedAt: opts.now,
    ...walkMessages(db, scope, period),
    campaigns: campaignFigures(db, scope),
    appActivity: appActivity(db, scope, opts.now),
  };
}
