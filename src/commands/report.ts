import type { Command } from 'commander';
import { defineCommand } from '../cli/define.js';
import type { Deps } from '../cli/deps.js';
import { phoneNumberIdOption } from '../cli/flags.js';
import { ExitCode, UsageError } from '../lib/errors.js';
import type { Io } from '../lib/io/io.js';
import type { Report } from '../lib/report/report.js';

interface Options {
  since?: string;
  until?: string;
  csv?: boolean;
  html?: string;
  phoneNumberId?: string;
}

export default defineCommand({
  flags: (cmd: Command) => {
    cmd
      .description(
        'Messages per day by source (inbound, API, App), first-response times, delivery, read, failure and opt-out ' +
          'rates per campaign, and Business App activity against the 14-day rule, from the local store.',
      )
      .option('--since <date>', 'first day, YYYY-MM-DD (UTC; default: 29 days before --until)')
      .option('--until <date>', 'last day, YYYY-MM-DD, included (UTC; default: today)')
      .option('--csv', 'print one long-format CSV (section,day,campaign,source,code,metric,value)')
      .option('--html <file>', 'write one self-contained HTML file (inline SVG charts, nothing fetched)')
      .addOption(phoneNumberIdOption('only this business phone number (default: every number in the store)'))
      .addHelpText(
        'after',
        `
Reads the store filled by \`wacx webhooks serve\` / \`wacx webhooks ingest\` and the campaign ledger; works
offline. The README's "Report" section defines every figure.

Examples:
  $ wacx report
  $ wacx report --since 2026-11-01 --until 2026-11-30 --html november.html
  $ wacx report --json | jq '.campaigns[] | {id, delivery_rate}'
  $ wacx report --csv > report.csv`,
      );
  },
  run: (deps, opts: Options) => run(opts, deps),
});

export async function run(opts: Options, deps: Deps): Promise<number> {
  const formats = [deps.globals.json && '--json', opts.csv && '--csv', opts.html !== undefined && '--html'];
  const chosen = formats.filter(Boolean);
  if (chosen.length > 1)
    throw new UsageError(`cannot be combined with ${chosen[0]}: choose one output.`, {
      location: String(chosen[1]),
    });
  const [{ reportPeriod }, { checkOutputFile, writeFileAtomically }, { buildReport }] = await Promise.all([
    import('../lib/report/period.js'),
    import('../lib/report/file.js'),
    import('../lib/report/report.js'),
  ]);
  const now = deps.clock.now();
  const period = reportPeriod(opts, now);
  const htmlPath = opts.html === undefined ? undefined : checkOutputFile(opts.html, '--html');

  const store = await deps.store();
  const report = buildReport(store.db, period, { phoneNumberId: opts.phoneNumberId ?? null, now });
  const io = deps.io;
  if (htmlPath !== undefined) {
    const { reportHtml } = await import('../lib/report/html.js');
    writeFileAtomically(htmlPath, reportHtml(report));
    io.success(`Report for ${report.period.since} to ${report.period.until} written to ${htmlPath}`);
  } else if (opts.csv) {
    const { reportCsvLines } = await import('../lib/report/csv.js');
    for (const line of reportCsvLines(report)) io.out(line);
  } else if (deps.globals.json) {
    const { reportJson } = await import('../lib/report/json.js');
    io.printJson(reportJson(report));
  } else {
    printReport(io, report, await import('../lib/report/text.js'));
  }
  return ExitCode.OK;
}

type Text = typeof import('../lib/report/text.js');

/** Tables on stdout; on a terminal each gets a small bar chart column, piped they stay plain data. */
function printReport(io: Io, r: Report, t: Text): void {
  const bars = io.stdoutIsTTY;
  const chart = (value: number, max: number) => (bars ? [t.bar(value, max, 20)] : []);
  const head = (...names: string[]) => (bars ? [...names, ''] : names);
  io.out(
    `Report ${r.period.since} to ${r.period.until} (${r.period.days} days, UTC), ${r.phoneNumberId ? `number ${r.phoneNumberId}` : 'every number in the store'}`,
  );

  io.out();
  io.out(io.style.bold('Messages per day'));
  const max = Math.max(0, ...r.messages.days.map((d) => d.total));
  const m = r.messages.totals;
  io.table(head('DAY', 'INBOUND', 'API', 'APP', 'TOTAL'), [
    ...r.messages.days.map((d) => [d.day, d.inbound, d.api, d.app, d.total, ...chart(d.total, max)]),
    ['TOTAL', m.inbound, m.api, m.app, m.total],
  ]);

  io.out();
  io.out(io.style.bold('First response'));
  const f = r.firstResponse;
  const slowest = Math.max(0, f.app.p90Ms ?? 0, f.api.p90Ms ?? 0);
  io.table(
    head('SOURCE', 'RESPONSES', 'MEDIAN', 'P90'),
    (
      [
        ['App', f.app],
        ['API', f.api],
        ['All', f.all],
      ] as const
    ).map(([name, x]) => [
      name,
      x.responses,
      t.duration(x.medianMs),
      t.duration(x.p90Ms),
      ...chart(x.medianMs ?? 0, slowest),
    ]),
  );
  io.out(`Unanswered: ${f.unanswered}`);

  io.out();
  io.out(io.style.bold('Campaigns'));
  if (r.campaigns.length === 0) io.out('No campaign sent in this period.');
  else {
    io.table(
      head(
        'CAMPAIGN',
        'MESSAGES',
        'DELIVERED',
        'READ',
        'FAILED',
        'OPTED OUT',
        'DELIVERY',
        'READ RATE',
        'FAILURE',
        'OPT-OUT',
      ),
      r.campaigns.map((c) => [
        c.id,
        c.messages,
        c.delivered,
        c.read,
        c.failed,
        c.optedOut,
        t.percent(c.deliveryRate),
        t.percent(c.readRate),
        t.percent(c.failureRate),
        t.percent(c.optOutRate),
        ...chart(c.deliveryRate ?? 0, 1),
      ]),
    );
    const codes = r.campaigns.flatMap((c) =>
      c.failureCodes.map((x) => [c.id, x.code ?? '?', x.count, x.title ?? '']),
    );
    if (codes.length > 0) {
      io.out();
      io.table(['CAMPAIGN', 'CODE', 'FAILED', 'MEANING'], codes);
    }
  }

  io.out();
  io.out(io.style.bold('Business App activity (Meta disconnects after about 14 days without the App)'));
  const a = r.appActivity;
  const last =
    a.lastActivityAt === null
      ? 'no message echo or contact sync seen'
      : `last ${new Date(a.lastActivityAt).toISOString()}, ${a.daysSinceLastActivity} day(s) before the end of the period`;
  io.out(
    `Status: ${a.status} (${t.ACTIVITY_WORDS[a.status]}; doctor warns after ${a.warnDays} days, fails after ${a.failDays})`,
  );
  io.out(`Active on ${a.activeDays} of ${a.days} day(s); ${last}`);
  if (a.longestGap) io.out(`Longest gap: ${a.longestGap.days} day(s)`);
  for (const g of a.gaps)
    io.out(
      `  ${g.days} day(s) without the App: ${new Date(g.from).toISOString()} to ${g.open ? 'now (still open)' : new Date(g.to).toISOString()}`,
    );
}
