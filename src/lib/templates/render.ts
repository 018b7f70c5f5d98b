import type { MessageTemplate } from '../graph/types.js';
import type { Io } from '../io/io.js';
import { type FileProblem, formatProblem } from './files.js';
import type { Plan, PlanEntry } from './plan.js';
import type { PushResult, ReviewState } from './push.js';

/** `a,b c` → ['A', 'B', 'C'] (upper-cased when `upper`). */
export function parseList(value: string | undefined, upper = false): string[] | undefined {
  if (value === undefined) return undefined;
  const items = value
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => (upper ? s.toUpperCase() : s));
  return items.length > 0 ? items : undefined;
}

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

export function problemsToJson(problems: readonly FileProblem[]) {
  return problems.map((p) => ({
    file: p.file,
    line: p.line,
    column: p.column,
    path: p.path,
    severity: p.severity,
    message: p.message,
    subcode: p.subcode,
  }));
}

export function sortProblems(problems: readonly FileProblem[]): FileProblem[] {
  return [...problems].sort((a, b) =>
    a.file !== b.file ? (a.file < b.file ? -1 : 1) : a.line - b.line || a.column - b.column,
  );
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

export function pushResultToJson(r: PushResult, review: ReviewState | undefined) {
  return {
    action: r.entry.action,
    intended: r.entry.intended,
    name: r.entry.name,
    language: r.entry.language,
    id: r.id,
    file: r.entry.file,
    changes: r.entry.changes,
    outcome: r.outcome,
    status: review?.status ?? r.status,
    error: r.error,
    blocked: r.entry.blocked,
    rejectedReason: review?.rejectedReason ?? null,
  };
}

/** A template as listed by `templates list --json` (keys always present). */
export function templateToJson(t: MessageTemplate) {
  return {
    id: t.id,
    name: t.name,
    language: t.language,
    category: t.category ?? null,
    status: t.status ?? null,
    parameter_format: t.parameter_format ?? 'POSITIONAL',
    quality_score: t.quality_score?.score ?? null,
    rejected_reason: t.rejected_reason ?? null,
    message_send_ttl_seconds: t.message_send_ttl_seconds ?? null,
    components: t.components ?? [],
  };
}
