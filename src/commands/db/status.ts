import type { Command } from 'commander';
import { defineCommand } from '../../cli/define.js';
import { ExitCode } from '../../lib/errors.js';

export default defineCommand({
  flags: (cmd: Command) => {
    cmd
      .description(
        "The store's backend, location (without its password), schema version and pending migrations",
      )
      .addHelpText(
        'after',
        '\nExamples:\n  $ wacx db status\n  $ wacx db status --database postgres://wacx@db.internal/wacx --json',
      );
  },
  run: async (deps) => {
    const [{ storeStatus }, { backendName }] = await Promise.all([
      import('../../lib/store/admin.js'),
      import('../../lib/store/location.js'),
    ]);
    const { location, origin } = await deps.storeConnection();
    const status = storeStatus(location, origin, deps.storeDescription());
    if (deps.globals.json) {
      deps.io.printJson(status);
      return ExitCode.OK;
    }
    const io = deps.io;
    io.out(`Backend   ${backendName(status.backend)}`);
    io.out(
      `Location  ${status.location}${status.exists ? '' : ' (not created yet: the first command that writes creates it)'}`,
    );
    io.out(`Schema    version ${status.version} (${status.applied} migrations applied)`);
    if (status.pending.length === 0) io.out('Pending   none');
    else {
      io.out(`Pending   ${status.pending.length}:`);
      for (const m of status.pending) io.out(`  ${String(m.id).padStart(4)}  ${m.name}`);
      if (status.exists)
        io.info('Apply them with `wacx db migrate` (every command that opens the store applies them too).');
    }
    if (status.unknown.length > 0)
      io.warn(
        `Applied by a newer wacx: ${status.unknown.join(', ')}. Upgrade wacx before writing to this store.`,
      );
    return ExitCode.OK;
  },
});
