import type { CheckResult, CheckStatus } from './types.js';
import { CHECK_GROUPS } from './types.js';

/** Colour functions (chalk-like); identity functions when colour is off. */
export interface Style {
  green(s: string): string;
  yellow(s: string): string;
  red(s: string): string;
  dim(s: string): string;
  bold(s: string): string;
  cyan(s: string): string;
}

export const SYMBOLS: Record<CheckStatus, string> = { pass: '✓', warn: '!', fail: '✗', skip: '-' };

export interface Summary {
  pass: number;
  warn: number;
  fail: number;
  skip: number;
}

export function summarize(results: readonly CheckResult[]): Summary {
  const s: Summary = { pass: 0, warn: 0, fail: 0, skip: 0 };
  for (const r of results) s[r.status]++;
  return s;
}

/** The skipped checks grouped by why they were skipped: [reason, ids]. */
export function skippedByReason(results: readonly CheckResult[]): [string, string[]][] {
  const by = new Map<string, string[]>();
  for (const r of results) {
    if (r.status !== 'skip') continue;
    const list = by.get(r.detail) ?? [];
    list.push(r.id);
    by.set(r.detail, list);
  }
  return [...by.entries()];
}

/**
 * The report for people: checks grouped under their group, ✓ / ! / ✗ / - per line, and under every warning
 * and failure the fix. Ends with the skipped checks and why, and the counts.
 */
export function renderText(
  results: readonly CheckResult[],
  style: Style,
  options: { strict?: boolean } = {},
): string[] {
  const lines: string[] = [];
  const paint: Record<CheckStatus, (s: string) => string> = {
    pass: style.green,
    warn: style.yellow,
    fail: style.red,
    skip: style.dim,
  };
  for (const group of CHECK_GROUPS) {
    const inGroup = results.filter((r) => r.group === group);
    if (inGroup.length === 0) continue;
    if (lines.length) lines.push('');
    lines.push(style.bold(group));
    const reasons = new Set(inGroup.map((r) => (r.status === 'skip' ? r.detail : null)));
    if (inGroup.length > 1 && reasons.size === 1 && !reasons.has(null)) {
      // The whole group was skipped for one reason: one line instead of one per check.
      lines.push(
        `  ${paint.skip(SYMBOLS.skip)} ${style.dim(`${inGroup.length} checks skipped: ${inGroup[0]!.detail}`)}`,
      );
      continue;
    }
    for (const r of inGroup) {
      const detail = r.status === 'skip' ? style.dim(`skipped: ${r.detail}`) : r.detail;
      lines.push(`  ${paint[r.status](SYMBOLS[r.status])} ${r.title}: ${detail}`);
      if (r.fix && (r.status === 'fail' || r.status === 'warn'))
        lines.push(`      ${style.cyan('→')} ${r.fix}`);
    }
  }
  const skipped = skippedByReason(results);
  if (skipped.length) {
    lines.push('');
    lines.push(style.bold('Skipped'));
    for (const [reason, ids] of skipped) {
      const fix = results.find((r) => r.status === 'skip' && r.detail === reason)?.fix;
      lines.push(`  - ${ids.join(', ')}: ${reason}${fix ? ` (${fix})` : ''}`);
    }
  }
  const s = summarize(results);
  lines.push('');
  const parts = [
    style.green(`${s.pass} passed`),
    (s.warn ? style.yellow : (x: string) => x)(`${s.warn} ${s.warn === 1 ? 'warning' : 'warnings'}`),
    (s.fail ? style.red : (x: string) => x)(`${s.fail} failed`),
    `${s.skip} skipped`,
  ];
  const verdict =
    s.fail > 0
      ? style.red('Problems found.')
      : options.strict && s.warn > 0
        ? style.yellow('Warnings found (--strict).')
        : style.green('No problems found.');
  lines.push(`${parts.join(' · ')}. ${verdict}`);
  return lines;
}

/** `--json`: the array of checks, keys always present, in a fixed order. */
export function toJson(results: readonly CheckResult[]): CheckResult[] {
  return results.map((r) => ({
    id: r.id,
    group: r.group,
    status: r.status,
    title: r.title,
    detail: r.detail,
    fix: r.fix ?? null,
  }));
}
