import { rate } from './json.js';
import type { Report } from './report.js';
import { ACTIVITY_WORDS, duration, percent, SOURCE_NAMES } from './text.js';

/**
 * The report as one self-contained HTML file: inline CSS and SVG, no script, nothing fetched (the content security
 * policy forbids it). Every figure is also text, in tables whose cells carry `data-key`, so that what a browser
 * shows can be read back and checked.
 */

const esc = (v: string | number | null): string =>
  v === null ? '–' : String(v).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const COLORS = { inbound: '#4c78a8', api: '#f58518', app: '#54a24b', read: '#2a9d8f', failed: '#e45756' };
const SOURCES = ['inbound', 'api', 'app'] as const;

const CSS = `
body{font:14px/1.4 system-ui,sans-serif;margin:2rem auto;max-width:960px;color:#222;padding:0 1rem}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.5rem 0}th,td{padding:.2rem .6rem;text-align:right;border-bottom:1px solid #eee}
th:first-child,td:first-child{text-align:left}.legend span{display:inline-block;margin-right:1rem}
.legend i{display:inline-block;width:.8rem;height:.8rem;margin-right:.3rem;vertical-align:middle}
svg{display:block;margin:.5rem 0;max-width:100%}svg text{font:11px system-ui,sans-serif;fill:#555}
.status-ok{color:#2b7a2b}.status-warn{color:#b36b00}.status-fail{color:#c0392b}.status-unknown{color:#777}
`;

function legend(items: [string, string][]): string {
  return `<p class="legend">${items.map(([c, t]) => `<span><i style="background:${c}"></i>${esc(t)}</span>`).join('')}</p>`;
}

function table(
  id: string,
  head: string[],
  rows: { key?: string; cells: [string, string | number | null][] }[],
): string {
  const th = head.map((h) => `<th>${esc(h)}</th>`).join('');
  const body = rows
    .map(
      (r) =>
        `<tr${r.key ? ` data-row="${esc(r.key)}"` : ''}>${r.cells.map(([k, v]) => `<td data-key="${k}">${esc(v)}</td>`).join('')}</tr>`,
    )
    .join('\n');
  return `<table id="${id}"><thead><tr>${th}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

/** Stacked bars of messages per day, one column per day. */
function messagesChart(r: Report): string {
  const days = r.messages.days;
  const W = 900;
  const H = 180;
  const top = 16;
  const max = Math.max(1, ...days.map((d) => d.total));
  const step = W / Math.max(1, days.length);
  const bw = Math.max(1, step * 0.8);
  const bars = days
    .map((d, i) => {
      let y = H;
      const parts = SOURCES.filter((s) => d[s] > 0).map((s) => {
        const h = (d[s] / max) * (H - top);
        y -= h;
        return `<rect class="bar bar-${s}" x="${(i * step).toFixed(2)}" y="${y.toFixed(2)}" width="${bw.toFixed(2)}" height="${h.toFixed(2)}" fill="${COLORS[s]}"/>`;
      });
      const label = `${d.day}: ${d.inbound} inbound, ${d.api} API, ${d.app} App`;
      return `<g class="day" data-day="${d.day}"><title>${esc(label)}</title>${parts.join('')}</g>`;
    })
    .join('\n');
  const first = days[0]?.day ?? '';
  const last = days[days.length - 1]?.day ?? '';
  return `<svg id="chart-messages" role="img" aria-label="Messages per day" viewBox="0 0 ${W} ${H + 16}" width="${W}" height="${H + 16}">
<text x="0" y="11">${max} messages</text><line x1="0" y1="${top}" x2="${W}" y2="${top}" stroke="#ddd"/>
${bars}
<line x1="0" y1="${H}" x2="${W}" y2="${H}" stroke="#999"/>
<text x="0" y="${H + 14}">${esc(first)}</text><text x="${W}" y="${H + 14}" text-anchor="end">${esc(last)}</text>
</svg>`;
}

/** Horizontal bars: one row per label, each with its segments (value 0..max). */
function hbars(
  id: string,
  label: string,
  rows: { label: string; segments: { cls: string; value: number; color: string; text: string }[] }[],
  max: number,
): string {
  const W = 900;
  const left = 220;
  const rowH = 22;
  const body = rows
    .map((row, i) => {
      let x = left;
      const y = i * rowH + 4;
      const segs = row.segments.map((s) => {
        const w = max > 0 ? (s.value / max) * (W - left - 60) : 0;
        const rect = `<rect class="bar ${s.cls}" x="${x.toFixed(2)}" y="${y}" width="${w.toFixed(2)}" height="${rowH - 8}" fill="${s.color}"><title>${esc(s.text)}</title></rect>`;
        x += w;
        return rect;
      });
      return `<g class="row"><text x="0" y="${y + 11}">${esc(row.label)}</text>${segs.join('')}</g>`;
    })
    .join('\n');
  return `<svg id="${id}" role="img" aria-label="${esc(label)}" viewBox="0 0 ${W} ${rows.length * rowH + 4}" width="${W}" height="${rows.length * rowH + 4}">
${body}
</svg>`;
}

function responseSection(r: Report): string {
  const f = r.firstResponse;
  const sources = [
    ['app', 'App (echoes)'],
    ['api', 'API'],
    ['all', 'All'],
  ] as const;
  const max = Math.max(0, ...sources.map(([s]) => f[s].p90Ms ?? 0));
  const chart = hbars(
    'chart-first-response',
    'First-response time by source',
    sources.map(([s, name]) => ({
      label: name,
      segments: [
        {
          cls: 'median',
          value: f[s].medianMs ?? 0,
          color: COLORS.api,
          text: `${name} median ${duration(f[s].medianMs)}`,
        },
        {
          cls: 'p90',
          value: Math.max(0, (f[s].p90Ms ?? 0) - (f[s].medianMs ?? 0)),
          color: '#fdd0a2',
          text: `${name} p90 ${duration(f[s].p90Ms)}`,
        },
      ],
    })),
    max,
  );
  return `<section id="first-response"><h2>First response</h2>
${table(
  'table-first-response',
  ['Source', 'Responses', 'Median', 'p90', 'Median (ms)', 'p90 (ms)'],
  sources.map(([s, name]) => ({
    key: s,
    cells: [
      ['source', name],
      ['responses', f[s].responses],
      ['median', duration(f[s].medianMs)],
      ['p90', duration(f[s].p90Ms)],
      ['median_ms', f[s].medianMs],
      ['p90_ms', f[s].p90Ms],
    ],
  })),
)}
<p>Unanswered: <span id="unanswered" data-key="unanswered">${f.unanswered}</span></p>
${legend([
  [COLORS.api, 'median'],
  ['#fdd0a2', 'up to p90'],
])}
${chart}
</section>`;
}

function campaignSection(r: Report): string {
  if (r.campaigns.length === 0)
    return '<section id="campaigns"><h2>Campaigns</h2><p>No campaign sent in this period.</p></section>';
  const rows = r.campaigns.map((c) => ({
    key: c.id,
    cells: [
      ['id', c.id],
      ['template', c.template],
      ['messages', c.messages],
      ['delivered', c.delivered],
      ['read', c.read],
      ['failed', c.failed],
      ['opted_out', c.optedOut],
      ['delivery_rate', percent(rate(c.deliveryRate))],
      ['read_rate', percent(rate(c.readRate))],
      ['failure_rate', percent(rate(c.failureRate))],
      ['opt_out_rate', percent(rate(c.optOutRate))],
    ] as [string, string | number | null][],
  }));
  const chart = hbars(
    'chart-campaigns',
    'Delivery, read and failure per campaign',
    r.campaigns.map((c) => ({
      label: c.id.length > 30 ? `${c.id.slice(0, 29)}…` : c.id,
      segments: [
        { cls: 'read', value: c.read, color: COLORS.read, text: `${c.id}: ${c.read} read` },
        {
          cls: 'delivered',
          value: c.delivered - c.read,
          color: COLORS.inbound,
          text: `${c.id}: ${c.delivered} delivered`,
        },
        { cls: 'failed', value: c.failed, color: COLORS.failed, text: `${c.id}: ${c.failed} failed` },
      ],
    })),
    Math.max(1, ...r.campaigns.map((c) => c.messages)),
  );
  const codes = r.campaigns.flatMap((c) =>
    c.failureCodes.map((f) => ({
      key: `${c.id}/${f.code ?? ''}`,
      cells: [
        ['campaign', c.id],
        ['code', f.code],
        ['title', f.title],
        ['count', f.count],
      ] as [string, string | number | null][],
    })),
  );
  return `<section id="campaigns"><h2>Campaigns</h2>
${table(
  'table-campaigns',
  [
    'Campaign',
    'Template',
    'Messages',
    'Delivered',
    'Read',
    'Failed',
    'Opted out',
    'Delivery',
    'Read',
    'Failure',
    'Opt-out',
  ],
  rows,
)}
${legend([
  [COLORS.read, 'read'],
  [COLORS.inbound, 'delivered, not read'],
  [COLORS.failed, 'failed'],
])}
${chart}
<h3>Failure codes</h3>
${codes.length ? table('table-failure-codes', ['Campaign', 'Code', 'Meaning', 'Messages'], codes) : '<p>No failures.</p>'}
</section>`;
}

function activitySection(r: Report): string {
  const a = r.appActivity;
  const days = r.messages.days.slice(0, a.days);
  const cell = 900 / Math.max(1, r.messages.days.length);
  const strip = days
    .map(
      (d, i) =>
        `<rect class="activity ${d.app > 0 ? 'active' : 'idle'}" x="${(i * cell).toFixed(2)}" y="0" width="${Math.max(1, cell - 1).toFixed(2)}" height="18" fill="${d.app > 0 ? COLORS.app : '#e5e5e5'}"><title>${esc(d.day)}: ${d.app} App message(s)</title></rect>`,
    )
    .join('');
  const gaps = a.gaps.map((g) => ({
    cells: [
      ['from', new Date(g.from).toISOString()],
      ['to', g.open ? 'still open' : new Date(g.to).toISOString()],
      ['days', g.days],
    ] as [string, string | number | null][],
  }));
  return `<section id="app-activity"><h2>Business App activity (the 14-day rule)</h2>
<p>Meta disconnects a number whose Business App is not opened for about 14 days; wacx doctor warns after ${a.warnDays} days and fails after ${a.failDays}.</p>
${table(
  'table-app-activity',
  ['Figure', 'Value'],
  [
    {
      key: 'status',
      cells: [
        ['figure', 'Status'],
        ['status', `${a.status} (${ACTIVITY_WORDS[a.status]})`],
      ],
    },
    {
      key: 'active_days',
      cells: [
        ['figure', 'Days with App messages or contact syncs'],
        ['active_days', a.activeDays],
      ],
    },
    {
      key: 'days',
      cells: [
        ['figure', 'Days in the period so far'],
        ['days', a.days],
      ],
    },
    {
      key: 'last_activity_at',
      cells: [
        ['figure', 'Last App activity'],
        ['last_activity_at', a.lastActivityAt === null ? null : new Date(a.lastActivityAt).toISOString()],
      ],
    },
    {
      key: 'days_since_last_activity',
      cells: [
        ['figure', 'Days since'],
        ['days_since_last_activity', a.daysSinceLastActivity],
      ],
    },
    {
      key: 'longest_gap',
      cells: [
        ['figure', 'Longest gap (days)'],
        ['longest_gap_days', a.longestGap?.days ?? null],
      ],
    },
  ],
)}
<p class="status-${a.status}">${esc(ACTIVITY_WORDS[a.status])}</p>
<svg id="chart-app-activity" role="img" aria-label="Days with App messages" viewBox="0 0 900 18" width="900" height="18">${strip}</svg>
${gaps.length ? `<h3>Gaps of ${a.warnDays} days or more</h3>${table('table-gaps', ['From', 'To', 'Days'], gaps)}` : ''}
</section>`;
}

export function reportHtml(r: Report): string {
  const title = `wacx report ${r.period.since} to ${r.period.until}`;
  const totals = r.messages.totals;
  const dayRows = r.messages.days.map((d) => ({
    key: d.day,
    cells: [
      ['day', d.day],
      ['inbound', d.inbound],
      ['api', d.api],
      ['app', d.app],
      ['total', d.total],
    ] as [string, string | number | null][],
  }));
  dayRows.push({
    key: 'total',
    cells: [
      ['day', 'Total'],
      ['inbound', totals.inbound],
      ['api', totals.api],
      ['app', totals.app],
      ['total', totals.total],
    ],
  });
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title><style>${CSS}</style></head>
<body>
<h1>${esc(title)}</h1>
<p>${r.period.days} day(s), UTC; ${r.phoneNumberId ? `number ${esc(r.phoneNumberId)}` : 'every number in the store'}; generated ${esc(new Date(r.generatedAt).toISOString())}.</p>
<section id="messages"><h2>Messages per day</h2>
${legend(SOURCES.map((s) => [COLORS[s], SOURCE_NAMES[s]]))}
${messagesChart(r)}
${table('table-messages', ['Day', SOURCE_NAMES.inbound, SOURCE_NAMES.api, SOURCE_NAMES.app, 'Total'], dayRows)}
</section>
${responseSection(r)}
${campaignSection(r)}
${activitySection(r)}
</body></html>
`;
}
