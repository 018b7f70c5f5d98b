import type { Command } from 'commander';
import { defineCommand } from '../../cli/define.js';
import type { Deps } from '../../cli/deps.js';
import { UsageError } from '../../lib/errors.js';

interface Options {
  format?: string;
  wabaId?: string;
}

export default defineCommand({
  flags: (cmd: Command) => {
    cmd
      .description("Write the WABA's templates as files, one per name and language (<name>.<language>.yaml)")
      .argument('<dir>', 'the directory to write into (created when missing)')
      .option('--format <yaml|json>', 'file format for new files', 'yaml')
      .addHelpText(
        'after',
        `
A file that already defines a name + language is rewritten in place (whatever its name); files whose content
would not change are left untouched; other files are never deleted. A pull followed by a plan shows no change.

Examples:
  $ wacx templates pull templates/
  $ wacx templates pull templates/ --json | jq -r '.[] | select(.written) | .file'`,
      );
  },
  run: (deps, dir: string, opts: Options) => run(dir, opts, deps),
});

export async function run(dir: string, opts: Options, deps: Deps): Promise<number> {
  const { pullTemplates } = await import('../../lib/templates/as-code.js');
  const { templatesTarget } = await import('./shared.js');
  const format = (opts.format ?? 'yaml').toLowerCase();
  if (format !== 'yaml' && format !== 'json') {
    throw new UsageError(`--format must be yaml or json, got "${opts.format}".`, { location: '--format' });
  }
  const { wabaId, graph } = await templatesTarget(deps, opts.wabaId);
  const results = await pullTemplates({ graph, wabaId, dir, format });
  if (deps.globals.json) {
    deps.io.printJson(results);
    return 0;
  }
  const written = results.filter((r) => r.written);
  for (const r of written) deps.io.out(r.file);
  deps.io.success(
    `${results.length} template(s) in ${dir}: ${written.length} written, ${results.length - written.length} already up to date.`,
  );
  return 0;
}
