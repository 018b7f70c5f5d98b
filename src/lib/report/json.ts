import type { Report, ResponseTimes } from './report.js';

/** Rates as fractions with 4 decimals (0.9531 is 95.31 %). */
export const rate = (r: number | null): number | null =>
  r === null ? null : Math.round(r * 10_000) / 10_000;
const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

const times = (t: ResponseTimes) => ({ responses: t.responses, median_ms: t.medianMs, p90_ms: t.p90Ms });

/** The report as `--json` prints it: snake_case, every key present (null when it does not apply). */
export function reportJson(r: Report): Record<string, unknown> {
  const a = r.appActivity;
  return {
    period: { since: r.period.since, until: r.period.until, days: r.period.days, time_zone: 'UTC' },
    phone_number_id: r.phoneNumberId,
    generated_at: iso(r.generatedAt),
    messages: {
      days: r.messages.days.map((d) => ({
        day: d.day,
        inbound: d.inbound,
        api: d.api,
        app: d.app,
        total: d.total,
      })),
      totals: r.messages.totals,
    },
    first_response: {
      app: times(r.firstResponse.app),
      api: times(r.firstResponse.api),
      all: times(r.firstResponse.all),
      unanswered: r.firstResponse.unanswered,
    },
    campaigns: r.campaigns.map((c) => ({
      id: c.id,
      template: c.template,
      language: c.language,
      phone_number_id: c.phoneNumberId,
      started_at: iso(c.startedAt),
      messages: c.messages,
      accepted: c.accepted,
      delivered: c.delivered,
      read: c.read,
      failed: c.failed,
      opted_out: c.optedOut,
      delivery_rate: rate(c.deliveryRate),
      read_rate: rate(c.readRate),
      failure_rate: rate(c.failureRate),
      opt_out_rate: rate(c.optOutRate),
      failure_codes: c.failureCodes.map((f) => ({ code: f.code, title: f.title, count: f.count })),
    })),
    app_activity: {
      status: a.status,
      warn_days: a.warnDays,
      fail_days: a.failDays,
      active_days: a.activeDays,
      days: a.days,
      last_activity_at: iso(a.lastActivityAt),
      days_since_last_activity: a.daysSinceLastActivity,
      longest_gap: a.longestGap
        ? { from: iso(a.longestGap.from), to: iso(a.longestGap.to), days: a.longestGap.days }
        : null,
      gaps: a.gaps.map((g) => ({ from: iso(g.from), to: iso(g.to), days: g.days, open: g.open })),
    },
  };
}
