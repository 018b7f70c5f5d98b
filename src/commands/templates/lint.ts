import type { Command } from 'commander';
import { defineCommand } from '../../cli/define.js';
import type { Deps } from '../../cli/deps.js';
import { ExitCode, UsageError } from '../../lib/errors.js';

export default defineCommand({
  flags: (cmd: Command) => {
    cmd
      .description("Validate template files offline against Meta's rules (no network, no token)")
      .argument(
        '<path>',
        'a template file, or a directory of .yaml/.yml/.json template files (searched recursively)',
      )
      .addHelpText(
        'after',
        `
Every problem is printed as file:line:col: severity: message [Meta subcode].
Exit codes: 0 clean (warnings allowed), 2 at least one error.

Examples:
  $ wacx templates lint templates/
  $ wacx templates lint templates/order_update.en_US.yaml
  $ wacx templates lint templates/ --json | jq '.problems[] | select(.severity == "error")'`,
      );
  },
  run: (deps, path: string) => run(path, deps),
});

export async function run(path: string, deps: Deps): Promise<number> {
  const { findTemplateFiles, loadTemplates } = await import('../../lib/templates/files.js');
  const { problemsToJson, sortProblems } = await import('../../lib/templates/render.js');
  const { printProblems } = await import('./shared.js');
  const files = await findTemplateFiles(path);
  if (files.length === 0) {
    throw new UsageError(`No template files (.yaml, .yml, .json) in ${path}.`, {
      hint: 'Run `wacx templates pull <dir>` to start from the WABA, or write one file per template.',
    });
  }
  const { problems } = await loadTemplates(path);
  const sorted = sortProblems(problems);
  const errors = sorted.filter((p) => p.severity === 'error').length;
  const warnings = sorted.length - errors;
  if (deps.globals.json) {
    deps.io.printJson({ files: files.length, errors, warnings, problems: problemsToJson(sorted) });
  } else {
    printProblems(deps.io, sorted);
    const summary = `${files.length} file(s) checked: ${errors} error(s), ${warnings} warning(s).`;
    if (errors > 0) deps.io.error(summary);
    else deps.io.success(summary);
  }
  return errors > 0 ? ExitCode.USAGE : ExitCode.OK;
}
