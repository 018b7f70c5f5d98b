import type { Command } from 'commander';
import { defineCommand } from '../../cli/define.js';
import { ExitCode } from '../../lib/errors.js';

export default defineCommand({
  flags: (cmd: Command) => {
    cmd
      .description(
        'Apply the pending schema migrations now (one process at a time: others wait, then find them applied)',
      )
      .addHelpText(
        'after',
        '\nEvery command that opens the store migrates it too; run this in a deploy step to do it first.\n\nExamples:\n  $ wacx db migrate\n  $ WACX_DATABASE_URL=postgres://wacx@db.internal/wacx wacx db migrate --json',
      );
  },
  run: async (deps) => {
    const { migrateStore } = await import('../../lib/store/admin.js');
    const { location, origin } = await deps.storeConnection();
    const { applied, version } = migrateStore(location, origin);
    if (deps.globals.json) {
      deps.io.printJson({ applied: applied.map((m) => ({ id: m.id, name: m.name })), version });
      return ExitCode.OK;
    }
    if (applied.length === 0) deps.io.success(`Up to date: schema version ${version}.`);
    else {
      for (const m of applied) deps.io.out(`  ${String(m.id).padStart(4)}  ${m.name}`);
      deps.io.success(
        `Applied ${applied.length} migration${applied.length === 1 ? '' : 's'}: schema version ${version}.`,
      );
    }
    return ExitCode.OK;
  },
});
