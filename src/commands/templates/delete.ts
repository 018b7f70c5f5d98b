import type { Command } from 'commander';
import { defineCommand } from '../../cli/define.js';
import type { Deps } from '../../cli/deps.js';
import { CancelledError, UsageError, WacxError } from '../../lib/errors.js';

interface Options {
  id?: string;
  yes?: boolean;
  wabaId?: string;
}

export default defineCommand({
  flags: (cmd: Command) => {
    cmd
      .description('Delete a template (every language of the name, or only --id)')
      .argument('<name>', 'the template name')
      .option('--id <hsm_id>', 'delete only the template with this id (one language)')
      .option('-y, --yes', 'do not ask for confirmation (required when not on a terminal)')
      .addHelpText(
        'after',
        `
The name of a deleted APPROVED template cannot be reused for 30 days; DISABLED templates cannot be deleted.

Examples:
  $ wacx templates delete old_promo
  $ wacx templates delete old_promo --id 1407680676729941 --yes`,
      );
  },
  run: (deps, name: string, opts: Options) => run(name, opts, deps),
});

export async function run(name: string, opts: Options, deps: Deps): Promise<number> {
  const { TemplateHistory } = await import('../../lib/templates/history.js');
  const { templatesNamed } = await import('../../lib/templates/lookup.js');
  const { templatesTarget } = await import('./shared.js');
  const io = deps.io;
  if (!opts.yes && !io.interactive) {
    throw new UsageError(`Refusing to delete ${name} without confirmation: pass --yes.`, {
      location: '--yes',
      hint: 'Deleting is permanent, and an approved name is blocked for 30 days.',
    });
  }
  const { wabaId, graph } = await templatesTarget(deps, opts.wabaId);
  const all = await templatesNamed(graph, wabaId, name);
  const targets = opts.id ? all.filter((t) => t.id === opts.id) : all;
  if (targets.length === 0) {
    throw new WacxError(
      opts.id
        ? `No template ${opts.id} named ${name} on WABA ${wabaId}.`
        : `No template named ${name} on WABA ${wabaId}.`,
      { hint: 'Run `wacx templates list --name NAME` to see its languages and ids.' },
    );
  }
  const disabled = targets.filter((t) => t.status === 'DISABLED');
  if (disabled.length > 0) {
    throw new WacxError(
      `${name} (${disabled.map((t) => t.language).join(', ')}) is DISABLED; Meta does not allow deleting DISABLED templates.`,
      targets.length > disabled.length ? { hint: 'Delete the other languages one by one with --id.' } : {},
    );
  }
  const list = targets.map((t) => `${t.language} (${t.status})`).join(', ');
  if (!opts.yes) {
    const approved = targets.some((t) => t.status === 'APPROVED');
    const ok = await deps.prompter.confirm({
      message: `Delete ${name}: ${list}?${approved ? ' The name cannot be reused for 30 days.' : ''}`,
      flag: '--yes',
      default: false,
    });
    if (!ok) throw new CancelledError('Nothing was deleted.');
  }
  await graph.templates.delete(wabaId, name, opts.id);
  const history = TemplateHistory.open(await deps.store());
  const at = deps.clock.now();
  for (const t of targets) {
    history.recordDeletion({
      wabaId,
      templateId: t.id,
      name,
      language: t.language,
      statusBefore: t.status,
      at,
    });
  }
  if (deps.globals.json) {
    io.printJson({
      name,
      deleted: targets.map((t) => ({ id: t.id, language: t.language, status: t.status })),
    });
  } else {
    io.success(`Deleted ${name}: ${list}.`);
  }
  return 0;
}
