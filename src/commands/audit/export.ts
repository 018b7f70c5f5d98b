import type { Command } from 'commander';
import { defineCommand } from '../../cli/define.js';
import type { Deps } from '../../cli/deps.js';
import { ExitCode, UsageError } from '../../lib/errors.js';

interface Options {
  since?: string;
  until?: string;
  format: string;
  output: string;
  force?: boolean;
}

export default defineCommand({
  flags: (cmd: Command) => {
    cmd
      .description(
        'Write the audit records of a time range, with a manifest (range, count, first and last hash, SHA-256) ' +
          'beside it, for write-once storage',
      )
      .requiredOption('-o, --output <file>', 'the export file; FILE.manifest.json is written beside it')
      .option('--since <date>', 'first day, YYYY-MM-DD (UTC; default: the first record)')
      .option('--until <date>', 'last day included, YYYY-MM-DD (UTC; default: the last record)')
      .option('--format <format>', 'jsonl or csv', 'jsonl')
      .option('--force', 'replace an existing export')
      .addHelpText(
        'after',
        '\nExamples:\n  $ wacx audit export --since 2026-11-01 --until 2026-11-30 -o audit-2026-11.jsonl\n' +
          '  $ wacx audit verify --file audit-2026-11.jsonl',
      );
  },
  run: (deps, opts: Options) => run(opts, deps),
});

export async function run(opts: Options, deps: Deps): Promise<number> {
  const [{ parseIsoDate }, { checkExportTarget, exportRecords, EXPORT_FORMATS }, { AuditJournal }] =
    await Promise.all([
      import('../../lib/dates.js'),
      import('../../lib/audit/export.js'),
      import('../../lib/audit/journal.js'),
    ]);
  const format = opts.format.toLowerCase();
  if (!(EXPORT_FORMATS as readonly string[]).includes(format)) {
    throw new UsageError(`expected jsonl or csv, got "${opts.format}".`, { location: '--format' });
  }
  const since = opts.since === undefined ? null : parseIsoDate(opts.since, '--since');
  const until = opts.until === undefined ? null : parseIsoDate(opts.until, '--until') + 86_400_000;
  if (since !== null && until !== null && until <= since) {
    throw new UsageError('--until is before --since.', { location: '--until' });
  }
  await checkExportTarget(opts.output, opts.force ?? false);
  const manifest = await exportRecords(new AuditJournal((await deps.store()).db), {
    file: opts.output,
    format: format as 'jsonl' | 'csv',
    since,
    until,
    now: deps.clock.now(),
  });
  if (deps.globals.json) {
    deps.io.printJson(manifest);
  } else {
    deps.io.out(
      `${opts.output}: ${manifest.count} record(s)${manifest.count ? ` (${manifest.first_seq}–${manifest.last_seq})` : ''}, SHA-256 ${manifest.sha256}.`,
    );
    deps.io.info(
      `Manifest: ${opts.output}.manifest.json. Check it any time with \`wacx audit verify --file ${opts.output}\`.`,
    );
  }
  return ExitCode.OK;
}
