import type { Deps } from '../../cli/deps.js';
import type { Graph } from '../../lib/graph/graph.js';
import type { Io } from '../../lib/io/io.js';
import type { FileProblem } from '../../lib/templates/files.js';
import type { TemplateHistory } from '../../lib/templates/history.js';
import type { Plan, PlanEntry } from '../../lib/templates/plan.js';
import { formatProblem, problemsToJson, sortProblems } from '../../lib/templates/render.js';

/** The WABA a templates verb works on (its --waba-id, else the profile's) and a client for the API. */
export async function templatesTarget(
  deps: Deps,
  wabaIdFlag: string | undefined,
): Promise<{ wabaId: string; graph: Graph }> {
  const wabaId = deps.config().withFlags({ wabaId: wabaIdFlag }).require('wabaId', '--waba-id');
  return { wabaId, graph: await deps.graph() };
}

/**
 * The plan of `templates plan` and `push`: the template files in `dir` against the WABA. When a file has errors they
 * are printed (or given as JSON) with `consequence`, and the plan is null (exit 2); warnings are counted.
 */
export async function planFromFiles(
  deps: Deps,
  dir: string,
  opts: { wabaId?: string; prune?: boolean },
  consequence: string,
): Promise<{ plan: Plan | null; graph: Graph; history: TemplateHistory }> {
  const io = deps.io;
  const [{ TemplateHistory }, { preparePlan }] = await Promise.all([
    import('../../lib/templates/history.js'),
    import('../../lib/templates/as-code.js'),
  ]);
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
    io.error(`The template files have ${prepared.errors.length} error(s); ${consequence}`);
    return { plan: null, graph, history };
  }
  if (prepared.warnings.length > 0) {
    io.warn(
      `${prepared.warnings.length} warning(s) in the template files; run \`wacx templates lint ${dir}\` to see them.`,
    );
  }
  return { plan: prepared.plan, graph, history };
}

/** One line per problem on stdout, its severity coloured on a terminal. */
export function printProblems(io: Io, problems: readonly FileProblem[]): void {
  for (const p of problems) {
    const line = formatProblem(p);
    io.out(
      p.severity === 'error'
        ? line.replace(': error:', `: ${io.style.red('error')}:`)
        : line.replace(': warning:', `: ${io.style.yellow('warning')}:`),
    );
  }
}

const SYMBOL: Record<string, string> = {
  create: '+',
  update: '~',
  delete: '-',
  unchanged: '=',
  blocked: '!',
};

function entryDetail(e: PlanEntry): string {
  if (e.blocked) return `${e.intended} blocked: ${e.blocked.reason}`;
  if (e.action === 'update') {
    const parts = e.changes.map((c) =>
      c === 'components' && e.details.length > 0 ? `components (${e.details.join(', ')})` : c,
    );
    return parts.join(', ');
  }
  if (e.action === 'create') return e.file ?? '';
  if (e.action === 'delete') return 'not in the files (--prune)';
  return '';
}

/** The plan as a table (changes only; unchanged entries with `all`), then a summary line on stderr. */
export function printPlan(io: Io, plan: Plan, options: { all?: boolean } = {}): void {
  const rows = plan.entries
    .filter((e) => options.all || e.action !== 'unchanged')
    .map((e) => [
      `${SYMBOL[e.action] ?? ' '} ${e.action}`,
      e.name,
      e.language,
      e.status ?? '-',
      e.id ?? '-',
      entryDetail(e),
    ]);
  if (rows.length > 0) io.table(['ACTION', 'NAME', 'LANGUAGE', 'STATUS', 'ID', 'DETAIL'], rows);
  io.info(planSummary(plan));
  if (!plan.prune && plan.remoteOnly > 0) {
    io.info(
      io.style.dim(
        `${plan.remoteOnly} template(s) exist only on the WABA and are left alone; pass --prune to delete them.`,
      ),
    );
  }
}

export function planSummary(plan: Plan): string {
  const s = plan.summary;
  if (s.create + s.update + s.delete + s.blocked === 0) {
    return `No changes: ${s.unchanged} template(s) up to date.`;
  }
  return `Plan: ${s.create} to create, ${s.update} to update, ${s.delete} to delete, ${s.unchanged} unchanged, ${s.blocked} blocked.`;
}
