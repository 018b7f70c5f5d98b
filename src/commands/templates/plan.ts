import type { Command } from 'commander';
import { defineCommand } from '../../cli/define.js';
import type { Deps } from '../../cli/deps.js';
import { ExitCode } from '../../lib/errors.js';

interface Options {
  prune?: boolean;
  all?: boolean;
  wabaId?: string;
}

export default defineCommand({
  flags: (cmd: Command) => {
    cmd
      .description('Compare template files with the WABA: create / update / delete / unchanged / blocked')
      .argument('<dir>', 'a directory of template files (or one file)')
      .option('--prune', 'also plan to delete WABA templates that have no file')
      .option('--all', 'list unchanged templates too')
      .addHelpText(
        'after',
        `
Nothing is written. The files are linted first (an error: exit 2). Entries are sorted by name and language.
Blocked entries say why: an APPROVED template is edited at most once per 24 h and 10 times per 30 days and
never changes category; DISABLED templates cannot be deleted; an APPROVED name deleted less than 30 days ago
cannot be created again.

Examples:
  $ wacx templates plan templates/
  $ wacx templates plan templates/ --prune --json | jq '.summary'`,
      );
  },
  run: (deps, dir: string, opts: Options) => run(dir, opts, deps),
});

export async function run(dir: string, opts: Options, deps: Deps): Promise<number> {
  const { planToJson } = await import('../../lib/templates/plan.js');
  const { planFromFiles, printPlan } = await import('./shared.js');
  const io = deps.io;
  const { plan } = await planFromFiles(deps, dir, opts, `run \`wacx templates lint ${dir}\`. No plan.`);
  if (!plan) return ExitCode.USAGE;
  if (deps.globals.json) io.printJson(planToJson(plan));
  else printPlan(io, plan, { all: opts.all ?? false });
  return 0;
}
