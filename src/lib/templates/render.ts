import type { MessageTemplate } from '../graph/types.js';
import type { FileProblem } from './files.js';
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

/** `file:line:col: severity: message [subcode]`, as compilers print problems. */
export function formatProblem(p: FileProblem): string {
  return `${p.file}:${p.line}:${p.column}: ${p.severity}: ${p.message}${p.subcode ? ` [${p.subcode}]` : ''}`;
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
