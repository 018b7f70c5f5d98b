import type { Command } from 'commander';
import { defineCommand } from '../../cli/define.js';
import type { Deps } from '../../cli/deps.js';
import { ExitCode, UsageError, WacxError } from '../../lib/errors.js';

interface Options {
  file?: string;
  wabaId?: string;
}

export default defineCommand({
  flags: (cmd: Command) => {
    cmd
      .description('Edit a template from a template file (components, category, TTL are replaced)')
      .argument('<name|id>', 'the template name (the file gives the language), or its id')
      .requiredOption('--file <path>', 'the template file with the new definition')
      .addHelpText(
        'after',
        `
Meta allows editing only APPROVED, REJECTED and PAUSED templates; an APPROVED one at most once per 24 h and
10 times per 30 days, and never its category. wacx refuses locally what Meta would refuse (exit 1).

Examples:
  $ wacx templates update order_update --file templates/order_update.en_US.yaml
  $ wacx templates update 1387372356726668 --file order_update.en_US.yaml --json`,
      );
  },
  run: (deps, nameOrId: string, opts: Options) => run(nameOrId, opts, deps),
});

export async function run(nameOrId: string, opts: Options, deps: Deps): Promise<number> {
  const { loadTemplateFile } = await import('../../lib/templates/files.js');
  const { TemplateHistory } = await import('../../lib/templates/history.js');
  const { findTemplate, looksLikeId } = await import('../../lib/templates/lookup.js');
  const { computePlan, editRequest } = await import('../../lib/templates/plan.js');
  const { printProblems, templatesTarget } = await import('./shared.js');
  const io = deps.io;
  const file = opts.file!;
  const loaded = await loadTemplateFile(file);
  const errors = loaded.problems.filter((p) => p.severity === 'error');
  if (errors.length > 0 || !loaded.definition) {
    printProblems(io, loaded.problems);
    io.error(`${file} has ${errors.length} error(s); nothing was sent.`);
    return ExitCode.USAGE;
  }
  const def = loaded.definition;
  if (!looksLikeId(nameOrId) && nameOrId !== def.name) {
    throw new UsageError(`${file} defines ${def.name}, not ${nameOrId}.`, {
      location: file,
      hint: 'A template cannot be renamed: create a new one (and delete the old one).',
    });
  }
  const { wabaId, graph } = await templatesTarget(deps, opts.wabaId);
  const remote = await findTemplate(
    graph,
    wabaId,
    looksLikeId(nameOrId) ? nameOrId : def.name,
    looksLikeId(nameOrId) ? undefined : def.language,
  );
  if (remote.name !== def.name || remote.language !== def.language) {
    throw new UsageError(
      `Template ${remote.id} is ${remote.name} (${remote.language}) but ${file} defines ${def.name} (${def.language}).`,
      { location: file },
    );
  }
  const history = TemplateHistory.open(await deps.store());
  const plan = computePlan({ wabaId, local: [loaded], remote: [remote], history, now: deps.clock.now() });
  const entry = plan.entries[0]!;
  if (entry.action === 'unchanged') {
    if (deps.globals.json)
      io.printJson({
        id: remote.id,
        name: def.name,
        language: def.language,
        changes: [],
        status: remote.status,
        updated: false,
      });
    else io.success(`${def.name} (${def.language}) already matches ${file}; nothing to change.`);
    return 0;
  }
  if (entry.blocked) {
    throw new WacxError(`Cannot edit ${def.name} (${def.language}): ${entry.blocked.reason}.`, {
      hint: 'Meta would refuse this edit; nothing was sent.',
    });
  }
  await graph.templates.edit(remote.id, editRequest(def, entry.changes));
  history.recordEdit({
    wabaId,
    templateId: remote.id,
    name: def.name,
    language: def.language,
    statusBefore: remote.status,
    fields: entry.changes,
    at: deps.clock.now(),
  });
  if (deps.globals.json) {
    io.printJson({
      id: remote.id,
      name: def.name,
      language: def.language,
      changes: entry.changes,
      status: remote.status,
      updated: true,
    });
  } else {
    io.success(`Updated ${def.name} (${def.language}), id ${remote.id}: ${entry.changes.join(', ')}.`);
    if (remote.status === 'APPROVED')
      io.info('Meta reviews the edit; the template stays usable unless the review fails.');
  }
  return 0;
}
