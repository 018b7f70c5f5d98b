import type { Command } from 'commander';
import { defineCommand } from '../../cli/define.js';
import type { Deps } from '../../cli/deps.js';
import { positiveNumber } from '../../cli/flags.js';
import { UsageError } from '../../lib/errors.js';
import type { MessageTemplate } from '../../lib/graph/types.js';

const TEMPLATE_STATUSES = [
  'APPROVED',
  'ARCHIVED',
  'DELETED',
  'DISABLED',
  'IN_APPEAL',
  'LIMIT_EXCEEDED',
  'PAUSED',
  'PENDING',
  'PENDING_DELETION',
  'REJECTED',
];

/** A filter value Meta would silently match nothing with is a typo: say so instead of "no templates". */
function checkFilter(
  flag: string,
  values: string[] | undefined,
  valid: (v: string) => boolean,
  allowed: string,
  suggest: (bad: string) => string | null = () => null,
): void {
  const bad = values?.find((v) => !valid(v));
  if (bad === undefined) return;
  const suggestion = suggest(bad);
  throw new UsageError(`unknown value "${bad}".`, {
    location: flag,
    hint: suggestion ? `Did you mean ${suggestion}?` : `Allowed: ${allowed}.`,
  });
}

interface Options {
  status?: string;
  category?: string;
  language?: string;
  name?: string;
  all?: boolean;
  limit?: string;
  wabaId?: string;
}

export default defineCommand({
  flags: (cmd: Command) => {
    cmd
      .description('List the message templates of the WABA')
      .option(
        '--status <list>',
        'only these statuses, comma-separated (APPROVED, PENDING, REJECTED, PAUSED, DISABLED…)',
      )
      .option(
        '--category <list>',
        'only these categories, comma-separated (MARKETING, UTILITY, AUTHENTICATION)',
      )
      .option('--language <list>', 'only these language codes, comma-separated (en_US, pt_BR…)')
      .option('--name <name>', 'only templates with exactly this name')
      .option('--all', 'follow every page (default: the first --limit templates)')
      .option('--limit <n>', 'how many templates to show without --all', '100')
      .addHelpText(
        'after',
        `
Examples:
  $ wacx templates list
  $ wacx templates list --status REJECTED,PAUSED
  $ wacx templates list --all --json | jq -r '.[] | "\\(.name) \\(.language) \\(.status)"'`,
      );
  },
  run: (deps, opts: Options) => run(opts, deps),
});

export async function run(opts: Options, deps: Deps): Promise<number> {
  const limit = positiveNumber('--limit', { integer: true })(opts.limit ?? '100');
  const { TEMPLATE_CATEGORIES } = await import('../../lib/templates/rules.js');
  const { isTemplateLanguage, suggestLanguage } = await import('../../lib/templates/languages.js');
  const { parseList, templateToJson } = await import('../../lib/templates/render.js');
  const { templatesTarget } = await import('./shared.js');
  const status = parseList(opts.status, true);
  const category = parseList(opts.category, true);
  const language = parseList(opts.language);
  checkFilter('--status', status, (v) => TEMPLATE_STATUSES.includes(v), TEMPLATE_STATUSES.join(', '));
  const categories: readonly string[] = TEMPLATE_CATEGORIES;
  checkFilter('--category', category, (v) => categories.includes(v), TEMPLATE_CATEGORIES.join(', '));
  checkFilter(
    '--language',
    language,
    isTemplateLanguage,
    "Meta's language codes such as en_US, pt_BR, es",
    suggestLanguage,
  );
  const { wabaId, graph } = await templatesTarget(deps, opts.wabaId);
  const templates: MessageTemplate[] = [];
  let more = false;
  const iterator = graph.templates.list(wabaId, {
    name: opts.name,
    status,
    category,
    language,
    limit: opts.all ? 100 : Math.min(limit, 100),
  });
  for await (const t of iterator) {
    if (!opts.all && templates.length >= limit) {
      more = true;
      break;
    }
    templates.push(t);
  }
  if (deps.globals.json) {
    deps.io.printJson(templates.map(templateToJson));
  } else if (templates.length === 0) {
    deps.io.info('No templates match.');
  } else {
    deps.io.table(
      ['NAME', 'LANGUAGE', 'CATEGORY', 'STATUS', 'QUALITY', 'ID'],
      templates.map((t) => [t.name, t.language, t.category, t.status, t.quality_score?.score ?? '-', t.id]),
    );
  }
  if (more) deps.io.info(deps.io.style.dim(`Showing the first ${limit}; pass --all for every template.`));
  return 0;
}
