import type { Command } from 'commander';
import { defineCommand } from '../../cli/define.js';
import type { Deps } from '../../cli/deps.js';

export default defineCommand({
  flags: (cmd: Command) => {
    cmd
      .description(
        'Show a campaign: counts, failures by error code, skipped rows by reason, and the unknown rows',
      )
      .argument('<id>', 'campaign id')
      .option('--all', 'list every unknown row (default: the first 50)')
      .addHelpText(
        'after',
        '\nExamples:\n  $ wacx campaigns show order_update-3f9a1c2b7e\n  $ wacx campaigns show order_update-3f9a1c2b7e --json',
      );
  },
  run: (deps, id: string, opts: { all?: boolean }) => run(id, opts, deps),
});

export async function run(id: string, opts: { all?: boolean }, deps: Deps): Promise<number> {
  const [{ showCampaign }, { formatDuration }, { recordedHint }] = await Promise.all([
    import('../../lib/campaign/stored-campaigns.js'),
    import('../../lib/io/format.js'),
    import('../../cli/hints.js'),
  ]);

  const d = showCampaign(await deps.store(), deps.clock, id, opts.all ? -1 : 50);
  const io = deps.io;
  if (deps.globals.json) {
    io.printJson({
      id: d.id,
      status: d.status,
      template: d.template,
      language: d.language,
      phone_number_id: d.phoneNumberId,
      csv: d.csv,
      csv_fully_read: d.ingestDone,
      rows: d.counts.total,
      sent: d.counts.sent,
      failed: d.counts.failed,
      skipped: d.counts.skipped,
      unknown: d.counts.unknown,
      pending: d.counts.pending,
      in_flight: d.counts.in_flight,
      failed_by_code: d.failedByCode,
      skipped_by_reason: d.skippedByReason,
      unknown_rows: d.unknownRows.map((u) => ({
        row: u.row,
        line: u.line,
        to: u.recipient,
        reason: u.reason,
      })),
      stop: d.stop,
      running: d.running
        ? { host: d.running.host, pid: d.running.pid, heartbeat_age_ms: d.running.heartbeatAgoMs }
        : null,
      runs: d.runs,
      active_ms: d.activeMs,
      created_at: new Date(d.createdAt).toISOString(),
      updated_at: new Date(d.updatedAt).toISOString(),
      started_at: d.startedAt === null ? null : new Date(d.startedAt).toISOString(),
      finished_at: d.finishedAt === null ? null : new Date(d.finishedAt).toISOString(),
    });
    return 0;
  }
  io.out(`Campaign ${d.id}: ${d.status}${d.running ? ` (pid ${d.running.pid} on ${d.running.host})` : ''}`);
  io.out(`  template   ${d.template} (${d.language}), number ${d.phoneNumberId}`);
  io.out(`  csv        ${d.csv}${d.ingestDone ? '' : ' (not fully read yet)'}`);
  io.out(`  runs       ${d.runs}, sending time ${formatDuration(d.activeMs)}`);
  const c = d.counts;
  io.out(
    `  rows       ${c.total}: sent ${c.sent}, failed ${c.failed}, skipped ${c.skipped}, unknown ${c.unknown}, pending ${c.pending + c.in_flight}`,
  );
  if (d.failedByCode.length > 0) {
    io.out('Failed by error code:');
    for (const f of d.failedByCode)
      io.out(
        `  ${String(f.code ?? '-').padEnd(8)} ${String(f.count).padStart(8)}  ${f.meaning ?? f.title ?? ''}`,
      );
  }
  if (d.skippedByReason.length > 0) {
    io.out('Skipped:');
    for (const k of d.skippedByReason) io.out(`  ${String(k.count).padStart(8)}  ${k.meaning ?? k.reason}`);
  }
  if (d.unknownRows.length > 0) {
    io.out('Unknown outcome (may or may not have been accepted):');
    for (const u of d.unknownRows)
      io.out(`  row ${u.row} (line ${u.line}) ${u.recipient ?? ''}  ${u.reason ?? ''}`);
    if (c.unknown > d.unknownRows.length) io.out(`  … ${c.unknown - d.unknownRows.length} more (--all)`);
    io.info(
      `  → \`wacx campaigns reconcile ${d.id}\` settles them from status webhooks; \`wacx campaigns resume ${d.id} --resend-unknown\` sends them again.`,
    );
  }
  if (d.stop) {
    io.out(`Stopped: ${d.stop.code !== null ? `${d.stop.code} ` : ''}${d.stop.title}. ${d.stop.message}`);
    const hint = recordedHint(d.stop);
    if (hint) io.info(`  → ${hint}`);
  }
  return 0;
}
