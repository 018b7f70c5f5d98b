import type { Command } from 'commander';
import { defineCommand } from '../../cli/define.js';
import { ExitCode } from '../../lib/errors.js';
import { openRegister } from './shared.js';

export default defineCommand({
  flags: (cmd: Command) => {
    cmd
      .description('Everyone in the consent register with their current state for marketing and utility')
      .addHelpText(
        'after',
        '\nExamples:\n  $ wacx consent list\n  $ wacx consent list --json | jq \'.[] | select(.marketing == "granted")\'',
      );
  },
  run: async (deps) => {
    const register = await openRegister(deps);
    if (deps.globals.json) {
      const all = [];
      for (const s of register.list()) {
        all.push({
          subject: s.subject,
          marketing: s.marketing,
          utility: s.utility,
          last_change: new Date(s.lastChange.recordedAt).toISOString(),
          last_source: s.lastChange.source,
        });
      }
      deps.io.printJson(all);
      return ExitCode.OK;
    }
    const rows: string[][] = [];
    for (const s of register.list()) {
      rows.push([
        s.subject,
        s.marketing,
        s.utility,
        new Date(s.lastChange.at).toISOString(),
        s.lastChange.source,
      ]);
    }
    if (rows.length === 0)
      deps.io.info('The consent register is empty. Import consents with `wacx consent import FILE`.');
    else deps.io.table(['WHO', 'MARKETING', 'UTILITY', 'LAST CHANGE', 'SOURCE'], rows);
    return ExitCode.OK;
  },
});
