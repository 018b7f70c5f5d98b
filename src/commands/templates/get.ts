import type { Command } from 'commander';
import { defineCommand } from '../../cli/define.js';
import type { Deps } from '../../cli/deps.js';

interface Options {
  language?: string;
  wabaId?: string;
}

export default defineCommand({
  flags: (cmd: Command) => {
    cmd
      .description('Show one template (as a template file on stdout; status and id on stderr)')
      .argument('<name|id>', 'the template name, or its id')
      .option('--language <code>', 'which language, when the name exists in several')
      .addHelpText(
        'after',
        `
Examples:
  $ wacx templates get order_update --language en_US
  $ wacx templates get 1387372356726668 --json
  $ wacx templates get order_update --language en_US > templates/order_update.en_US.yaml`,
      );
  },
  run: (deps, nameOrId: string, opts: Options) => run(nameOrId, opts, deps),
});

export async function run(nameOrId: string, opts: Options, deps: Deps): Promise<number> {
  const { canonicalize } = await import('../../lib/templates/canonical.js');
  const { stringifyTemplate } = await import('../../lib/templates/files.js');
  const { findTemplate } = await import('../../lib/templates/lookup.js');
  const { templateToJson } = await import('../../lib/templates/render.js');
  const { templatesTarget } = await import('./shared.js');
  const { wabaId, graph } = await templatesTarget(deps, opts.wabaId);
  const t = await findTemplate(graph, wabaId, nameOrId, opts.language);
  if (deps.globals.json) {
    deps.io.printJson(templateToJson(t));
    return 0;
  }
  const io = deps.io;
  const quality = t.quality_score?.score ? ` · quality ${t.quality_score.score}` : '';
  const rejected =
    t.rejected_reason && t.rejected_reason !== 'NONE' ? ` · rejected: ${t.rejected_reason}` : '';
  io.info(
    `${io.style.bold(t.name)} (${t.language}) · ${t.status} · ${t.category} · id ${t.id}${quality}${rejected}`,
  );
  io.write(stringifyTemplate(canonicalize(t)));
  return 0;
}
