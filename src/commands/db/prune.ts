import type { Command } from 'commander';
import { defineCommand } from '../../cli/define.js';
import { duration } from '../../cli/flags.js';
import { CancelledError, ExitCode, UsageError } from '../../lib/errors.js';

interface Options {
  olderThan: number;
  dryRun?: boolean;
  yes?: boolean;
}

const DAY = 86_400_000;

export default defineCommand({
  flags: (cmd: Command) => {
    cmd
      .description(
        'Remove message contents and raw payloads older than a window from every table; times, ids, statuses and ' +
          'the audit chain stay (pruned audit records keep their hashes)',
      )
      .requiredOption(
        '--older-than <duration>',
        'the retention window, at least a day: 180d, 26w',
        duration('--older-than', { min: DAY, max: 100 * 365 * DAY }),
      )
      .option('--dry-run', 'show what would be removed; remove nothing')
      .option('-y, --yes', 'do not ask for confirmation (required when not on a terminal)')
      .addHelpText(
        'after',
        '\nExamples:\n  $ wacx db prune --older-than 180d --dry-run\n  $ wacx db prune --older-than 180d --yes',
      );
  },
  run: async (deps, opts: Options) => {
    const { countPrunable, prune } = await import('../../lib/retention/prune.js');
    const io = deps.io;
    const now = deps.clock.now();
    const before = now - opts.olderThan;
    const db = (await deps.store()).db;
    const counts = countPrunable(db, before);
    const total = counts.reduce((n, c) => n + c.rows, 0);
    const cutoff = new Date(before).toISOString();
    const json = (removed: boolean, list = counts) =>
      io.printJson({
        before: cutoff,
        dry_run: !removed,
        removed,
        tables: Object.fromEntries(list.map((c) => [c.table, c.rows])),
      });
    if (opts.dryRun || total === 0) {
      if (deps.globals.json) json(false);
      else {
        io.out(`Contents older than ${cutoff}${opts.dryRun ? ' (dry run: nothing removed)' : ''}:`);
        for (const c of counts) io.out(`  ${c.what}: ${c.rows}`);
        if (total === 0) io.info('Nothing to prune.');
      }
      return ExitCode.OK;
    }
    if (!opts.yes) {
      if (!io.interactive) {
        throw new UsageError(
          `Refusing to remove ${total} contents older than ${cutoff} without confirmation: pass --yes.`,
          {
            location: '--yes',
            hint: 'Pruning cannot be undone. See what it removes with --dry-run.',
          },
        );
      }
      for (const c of counts) if (c.rows > 0) io.info(`  ${c.what}: ${c.rows}`);
      const ok = await deps.prompter.confirm({
        message: `Remove these contents older than ${cutoff}? This cannot be undone.`,
        flag: '--yes',
        default: false,
      });
      if (!ok) throw new CancelledError('Nothing was removed.');
    }
    const removed = prune(db, before, now);
    if (deps.globals.json) json(true, removed);
    else io.success(`Removed ${removed.reduce((n, c) => n + c.rows, 0)} contents older than ${cutoff}.`);
    return ExitCode.OK;
  },
});
