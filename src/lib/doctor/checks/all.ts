import type { CheckDefinition, CheckResult, DoctorFacts, DoctorOptions } from '../types.js';
import { CHECK_GROUPS } from '../types.js';
import { CONSENT_CHECKS } from './consent.js';
import { MARKETING_CHECKS } from './marketing.js';
import { NUMBER_CHECKS } from './number.js';
import { SETUP_CHECKS } from './setup.js';
import { STANDBY_CHECKS } from './standby.js';
import { SYNC_CHECKS } from './sync.js';
import { TEMPLATE_CHECKS } from './templates.js';
import { TOKEN_CHECKS } from './token.js';
import { WABA_CHECKS } from './waba.js';

/** Every check, in report order (grouped). */
export const CHECKS: readonly CheckDefinition[] = [
  ...SETUP_CHECKS,
  ...TOKEN_CHECKS,
  ...WABA_CHECKS,
  ...STANDBY_CHECKS,
  ...MARKETING_CHECKS,
  ...NUMBER_CHECKS,
  ...SYNC_CHECKS,
  ...CONSENT_CHECKS,
  ...TEMPLATE_CHECKS,
];

/** Checks that need nothing but this machine and the local store: they run offline and without a token. */
export const LOCAL_CHECK_IDS: ReadonlySet<string> = new Set([
  'setup.node',
  'setup.profile',
  'setup.config_mode',
  'setup.secrets',
  'number.api_version',
  'sync.webhooks',
  'sync.echo_age',
  'sync.account_update',
  'sync.history',
  'sync.contacts',
  'sync.signatures',
  'sync.consent',
]);

/** Whether `--skip` patterns select a check: an exact id, a group prefix (`templates`), or a group name. */
export function isSkipped(
  check: Pick<CheckDefinition, 'id' | 'group'>,
  patterns: readonly string[],
): boolean {
  return patterns.some((p) => {
    const q = p.trim().toLowerCase();
    if (!q) return false;
    const id = check.id.toLowerCase();
    return id === q || id.startsWith(`${q}.`) || check.group.toLowerCase() === q;
  });
}

/** Validates `--skip` patterns; returns the ones that match no check. */
export function unknownSkipPatterns(patterns: readonly string[]): string[] {
  return patterns.filter((p) => p.trim() && !CHECKS.some((c) => isSkipped(c, [p])));
}

/** Runs every check over the gathered facts. Pure: same facts, same results. */
export function evaluate(
  facts: DoctorFacts,
  options: DoctorOptions,
  checks: readonly CheckDefinition[] = CHECKS,
): CheckResult[] {
  const results = checks.map((c): CheckResult => {
    if (isSkipped(c, options.skip)) {
      return {
        id: c.id,
        group: c.group,
        status: 'skip',
        title: c.title,
        detail: 'skipped with --skip',
        fix: null,
      };
    }
    try {
      const o = c.run(facts, options);
      return {
        id: c.id,
        group: c.group,
        status: o.status,
        title: c.title,
        detail: o.detail,
        fix: o.fix ?? null,
      };
    } catch (error) {
      return {
        id: c.id,
        group: c.group,
        status: 'fail',
        title: c.title,
        detail: `the check itself failed: ${error instanceof Error ? error.message : String(error)}`,
        fix: 'Please report this as a wacx bug (run with --verbose for details).',
      };
    }
  });
  const order = (g: string) => CHECK_GROUPS.indexOf(g as (typeof CHECK_GROUPS)[number]);
  return results
    .map((r, i) => ({ r, i }))
    .sort((a, b) => order(a.r.group) - order(b.r.group) || a.i - b.i)
    .map((x) => x.r);
}

/** 0 when nothing fails; 1 when a check fails (or, with `strict`, warns). */
export function exitCodeOf(results: readonly CheckResult[], strict: boolean): number {
  return results.some((r) => r.status === 'fail' || (strict && r.status === 'warn')) ? 1 : 0;
}
