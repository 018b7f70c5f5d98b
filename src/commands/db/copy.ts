import type { Command } from 'commander';
import { defineCommand } from '../../cli/define.js';
import { CancelledError, ExitCode, UsageError } from '../../lib/errors.js';

interface Options {
  to: string;
  from?: string;
  yes?: boolean;
}

export default defineCommand({
  flags: (cmd: Command) => {
    cmd
      .description(
        "Copy a profile's SQLite store into a PostgreSQL database (idempotent: run it again to finish or check a copy; verified by counts)",
      )
      .requiredOption(
        '--to <url>',
        'the PostgreSQL database: postgres://USER[:PASSWORD]@HOST[:PORT]/DB[?sslmode=…]',
      )
      .option('--from <path>', "the SQLite store to copy (default: the profile's store)")
      .option('-y, --yes', 'do not ask for confirmation (required when not on a terminal)')
      .addHelpText(
        'after',
        '\nThen point the profile at it: `wacx config set database postgres://…`.\n\nExamples:\n  $ wacx db copy --to postgres://wacx@db.internal/wacx\n  $ wacx db copy --from ./wacx.db --to postgres://wacx@db.internal/wacx --yes --json',
      );
  },
  run: async (deps, opts: Options) => {
    const [{ copyCounts, copyStore }, { parseStoreLocation, describeLocation, withPassword }, { Store }] =
      await Promise.all([
        import('../../lib/store/admin.js'),
        import('../../lib/store/location.js'),
        import('../../lib/store/store.js'),
      ]);
    const io = deps.io;
    const target = parseStoreLocation(opts.to, '--to');
    if (target.backend !== 'postgres')
      throw new UsageError('the target of a copy is a PostgreSQL database (postgres://…).', {
        location: '--to',
      });
    const current = deps.storeLocation();
    const source = opts.from
      ? parseStoreLocation(opts.from, '--from')
      : current.location.backend === 'sqlite'
        ? current.location
        : null;
    if (!source)
      throw new UsageError("the profile's store is not a SQLite file: name the file to copy.", {
        location: '--from',
      });
    if (source.backend !== 'sqlite')
      throw new UsageError('the source of a copy is a SQLite store (a path or sqlite:PATH).', {
        location: '--from',
      });
    const { existsSync } = await import('node:fs');
    if (!existsSync(source.path))
      throw new UsageError(`there is no store at ${source.path}.`, {
        location: opts.from ? '--from' : undefined,
        hint: opts.from ? undefined : 'Name the SQLite file with --from.',
      });
    const password = (await deps.config().secret('databasePassword')).value;
    const from = Store.open(source, { origin: opts.from ? '--from' : current.origin });
    deps.onCleanup(() => from.close());
    const to = Store.open(withPassword(target, password), { origin: '--to' });
    deps.onCleanup(() => to.close());
    const before = copyCounts(from, to);
    const rows = before.reduce((n, t) => n + t.source, 0);
    const already = before.filter((t) => t.target > 0);
    if (!opts.yes && !deps.globals.json) {
      io.out(`Copy ${rows} rows of ${before.length} tables`);
      io.out(`  from ${source.path}`);
      io.out(`  to   ${describeLocation(target)}`);
      if (already.length > 0)
        io.warn(
          `The target already holds rows in ${already.length} tables: rows with the same keys are kept as they are.`,
        );
    }
    if (!opts.yes) {
      if (!io.interactive)
        throw new UsageError(
          `Refusing to copy ${rows} rows into ${describeLocation(target)} without confirmation: pass --yes.`,
          {
            location: '--yes',
          },
        );
      const ok = await deps.prompter.confirm({ message: 'Copy them?', flag: '--yes', default: false });
      if (!ok) throw new CancelledError('Nothing was copied.');
    }
    const tables = copyStore(from, to, (t) => {
      if (!deps.globals.json) io.info(`  ${t.table}: ${t.source} rows`);
    });
    const short = tables.filter((t) => t.target < t.source);
    const extra = tables.filter((t) => t.target > t.source);
    if (deps.globals.json) {
      io.printJson({
        from: source.path,
        to: describeLocation(target),
        tables: Object.fromEntries(tables.map((t) => [t.table, { source: t.source, target: t.target }])),
        verified: short.length === 0,
      });
    } else if (short.length === 0) {
      io.success(
        `Copied and verified: every table of the target holds at least the source's rows (${rows} in all).`,
      );
      if (extra.length > 0)
        io.info(
          `The target holds more rows than the source in ${extra.map((t) => t.table).join(', ')} (written there before).`,
        );
      io.info('Point the profile at it: `wacx config set database postgres://…` (or WACX_DATABASE_URL).');
    }
    if (short.length > 0) {
      for (const t of short)
        io.error(`${t.table}: ${t.source} rows in the source, ${t.target} in the target.`);
      io.error('The copy is incomplete; run it again (rows already there are kept).');
      return ExitCode.FAILED;
    }
    return ExitCode.OK;
  },
});
