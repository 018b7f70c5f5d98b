import type { Command } from 'commander';
import { defineCommand } from '../../cli/define.js';
import type { Deps } from '../../cli/deps.js';
import { ExitCode } from '../../lib/errors.js';
import { TemplateHistory } from '../../lib/templates/history.js';
import { planToJson } from '../../lib/templates/plan.js';
import { problemsToJson, sortProblems } from '../../lib/templates/render.js';
import { preparePlan } from '../../lib/templates/sync.js';
import { printPlan, printProblems, templatesTarget } from './shared.js';

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
  const io = deps.io;
  const { wabaId, graph } = await templatesTarget(deps, opts.wabaId);
  const history = TemplateHistory.open(await deps.store());
  const prepared = await preparePlan({
    graph,
    wabaId,
    dir,
    history,
    now: deps.clock.now(),
    prune: opts.prune ?? false,
  });
  if (!prepared.plan) {
    const problems = sortProblems([...prepared.errors, ...prepared.warnings]);
    if (deps.globals.json) io.printJson({ errors: problemsToJson(problems) });
    else printProblems(io, problems);
    io.error(
      `The template files have ${prepared.errors.length} error(s); run \`wacx templates lint ${dir}\`. No plan.`,
    );
    return ExitCode.USAGE;
  }
  if (prepared.warnings.length > 0) {
    io.warn(
      `${prepared.warnings.length} warning(s) in the template files; run \`wacx templates lint ${dir}\` to see them.`,
    );
  }
  if (deps.globals.json) io.printJson(planToJson(prepared.plan));
  else printPlan(io, prepared.plan, { all: opts.all ?? false });
  return 0;
}
