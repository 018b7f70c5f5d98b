import type { Command } from 'commander';
import { defineCommand } from '../../cli/define.js';
import type { Deps } from '../../cli/deps.js';
import { CancelledError, ExitCode } from '../../lib/errors.js';
import type { TemplateComponent, TemplateDefinition } from '../../lib/templates/rules.js';

interface Options {
  file?: string;
  wabaId?: string;
}

export default defineCommand({
  flags: (cmd: Command) => {
    cmd
      .description('Create a template from a template file (or by answering questions on a terminal)')
      .option('--file <path>', 'the template file (YAML or JSON; see `wacx templates lint`)')
      .addHelpText(
        'after',
        `
The file is checked against Meta's rules first; with an error nothing is sent (exit 2).

Examples:
  $ wacx templates create --file templates/order_update.en_US.yaml
  $ wacx templates create            # asks name, category, language, texts (interactive terminal only)`,
      );
  },
  run: (deps, opts: Options) => run(opts, deps),
});

export async function run(opts: Options, deps: Deps): Promise<number> {
  const { loadTemplateFile, stringifyTemplate } = await import('../../lib/templates/files.js');
  const { createRequest } = await import('../../lib/templates/push.js');
  const { checkTemplate } = await import('../../lib/templates/rules.js');
  const { printProblems, templatesTarget } = await import('./shared.js');
  const io = deps.io;
  let def: TemplateDefinition;
  if (opts.file) {
    const loaded = await loadTemplateFile(opts.file);
    const errors = loaded.problems.filter((p) => p.severity === 'error');
    if (errors.length > 0 || !loaded.definition) {
      printProblems(io, loaded.problems);
      io.error(`${opts.file} has ${errors.length} error(s); nothing was sent.`);
      return ExitCode.USAGE;
    }
    for (const p of loaded.problems) io.warn(`${p.file}:${p.line}:${p.column}: ${p.message}`);
    def = loaded.definition;
  } else {
    def = await askDefinition(deps);
    const problems = checkTemplate(def);
    for (const p of problems) {
      const line = `${p.path}: ${p.message}`;
      if (p.severity === 'error') io.error(line);
      else io.warn(line);
    }
    if (problems.some((p) => p.severity === 'error')) {
      io.error('The template breaks Meta’s rules; nothing was sent.');
      return ExitCode.USAGE;
    }
    io.info(stringifyTemplate(def));
    const ok = await deps.prompter.confirm({
      message: 'Create this template?',
      flag: '--file',
      default: true,
    });
    if (!ok) throw new CancelledError();
  }

  const { wabaId, graph } = await templatesTarget(deps, opts.wabaId);
  const request = createRequest(def);
  // the store is opened first: a store that cannot be written stops the command before anything is created
  const { TemplateHistory } = await import('../../lib/templates/history.js');
  const history = TemplateHistory.open(await deps.store());
  const res = await graph.templates.create(wabaId, request);
  history.recordCreation({
    wabaId,
    templateId: res.id,
    name: def.name,
    language: def.language,
    request,
    at: deps.clock.now(),
  });
  if (deps.globals.json) {
    io.printJson({
      id: res.id,
      name: def.name,
      language: def.language,
      status: res.status ?? null,
      category: res.category ?? null,
    });
  } else {
    io.success(`Created ${def.name} (${def.language}): id ${res.id}, status ${res.status}.`);
    if (res.category && res.category !== def.category) {
      io.warn(`Meta filed it as ${res.category}, not ${def.category}.`);
    }
    io.out(res.id);
  }
  return 0;
}

/** The interactive questions (only on a terminal; otherwise the prompter asks for --file). */
async function askDefinition(deps: Deps): Promise<TemplateDefinition> {
  const { findPlaceholders, NAME_PATTERN, TEMPLATE_CATEGORIES } = await import(
    '../../lib/templates/rules.js'
  );
  const { isTemplateLanguage } = await import('../../lib/templates/languages.js');
  const { canonicalize } = await import('../../lib/templates/canonical.js');
  const p = deps.prompter;
  const name = await p.input({
    message: 'Template name (lowercase letters, digits, underscores)',
    flag: '--file',
    validate: (v) => NAME_PATTERN.test(v) || 'Use lowercase letters, digits and underscores (max 512).',
  });
  const category = await p.select({
    message: 'Category',
    flag: '--file',
    choices: TEMPLATE_CATEGORIES.map((c) => ({ value: c })),
  });
  const language = await p.input({
    message: 'Language code',
    flag: '--file',
    default: 'en_US',
    validate: (v) => isTemplateLanguage(v) || 'Not a supported code (for example en_US, pt_BR, es).',
  });
  const header = (
    await p.input({ message: 'Header text (optional, Enter to skip)', flag: '--file', default: '' })
  ).trim();
  const body = await p.input({
    message: 'Body text (variables: {{1}}, {{2}}, …)',
    flag: '--file',
    validate: (v) => v.trim() !== '' || 'The body is required.',
  });
  const footer = (
    await p.input({ message: 'Footer text (optional, Enter to skip)', flag: '--file', default: '' })
  ).trim();

  const components: TemplateComponent[] = [];
  if (header) {
    const vars = [...new Set(findPlaceholders(header).map((x) => x.name))];
    const c: TemplateComponent = { type: 'HEADER', format: 'TEXT', text: header };
    if (vars.length > 0) {
      const values: string[] = [];
      for (const v of vars)
        values.push(await p.input({ message: `Example for header {{${v}}}`, flag: '--file' }));
      c.example = { header_text: values };
    }
    components.push(c);
  }
  const bodyVars = [...new Set(findPlaceholders(body).map((x) => x.name))].sort(
    (a, b) => Number(a) - Number(b),
  );
  const bodyComponent: TemplateComponent = { type: 'BODY', text: body };
  if (bodyVars.length > 0) {
    const values: string[] = [];
    for (const v of bodyVars)
      values.push(await p.input({ message: `Example for body {{${v}}}`, flag: '--file' }));
    bodyComponent.example = { body_text: [values] };
  }
  components.push(bodyComponent);
  if (footer) components.push({ type: 'FOOTER', text: footer });
  return canonicalize({ name, category, language, parameter_format: 'POSITIONAL', components });
}
