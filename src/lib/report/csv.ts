import { reportJson } from './json.js';
import type { Report } from './report.js';

/**
 * The report as one long-format CSV: `section,day,campaign,source,code,metric,value`, one figure per line, the
 * columns that do not apply left empty (as a null is). The values are those of `--json`.
 */
export const CSV_HEADER = ['section', 'day', 'campaign', 'source', 'code', 'metric', 'value'] as const;

type Cell = string | number | boolean | null | undefined;

function cell(v: Cell): string {
  if (v === null || v === undefined) return '';
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

export function* reportCsvLines(r: Report): Generator<string> {
  const j = reportJson(r);
  const line = (section: string, f: Partial<Record<(typeof CSV_HEADER)[number], Cell>>) =>
    [section, f.day, f.campaign, f.source, f.code, f.metric, f.value].map(cell).join(',');
  yield CSV_HEADER.join(',');
  for (const d of r.messages.days)
    for (const source of ['inbound', 'api', 'app', 'total'] as const)
      yield line('messages', { day: d.day, source, metric: 'messages', value: d[source] });
  for (const source of ['app', 'api', 'all'] as const) {
    const t = r.firstResponse[source];
    yield line('first_response', { source, metric: 'responses', value: t.responses });
    yield line('first_response', { source, metric: 'median_ms', value: t.medianMs });
    yield line('first_response', { source, metric: 'p90_ms', value: t.p90Ms });
  }
  yield line('first_response', { metric: 'unanswered', value: r.firstResponse.unanswered });
  const campaigns = j.campaigns as Record<string, Cell | unknown[]>[];
  for (const c of campaigns) {
    for (const [metric, value] of Object.entries(c)) {
      if (metric === 'id' || Array.isArray(value)) continue;
      yield line('campaign', { campaign: c.id as string, metric, value: value as Cell });
    }
    for (const f of c.failure_codes as { code: number | null; count: number }[])
      yield line('failure_code', { campaign: c.id as string, code: f.code, metric: 'count', value: f.count });
  }
  const a = j.app_activity as Record<string, unknown>;
  for (const [metric, value] of Object.entries(a)) {
    if (metric === 'gaps' || metric === 'longest_gap') continue;
    yield line('app_activity', { metric, value: value as Cell });
  }
  const longest = a.longest_gap as { from: string; to: string; days: number } | null;
  yield line('app_activity', { metric: 'longest_gap_days', value: longest?.days ?? null });
}
