import { type AppChange, appChangesJson } from '../onboarding/app-changes.js';
import { evaluate, exitCodeOf } from './checks/all.js';
import type { GatherInput } from './gather.js';
import { type CheckResult, DEFAULT_DOCTOR_OPTIONS, type DoctorFacts, type DoctorOptions } from './types.js';

export { API_VERSIONS, apiVersionState } from '../graph/versions.js';
export {
  CHECKS,
  evaluate,
  exitCodeOf,
  isSkipped,
  LOCAL_CHECK_IDS,
  unknownSkipPatterns,
} from './checks/all.js';
export type { GatherInput } from './gather.js';
export { renderText, type Style, SYMBOLS, skippedByReason, summarize, toJson } from './render.js';
export * from './types.js';

export interface DoctorReport {
  facts: DoctorFacts;
  results: CheckResult[];
}

/**
 * `wacx doctor`: gathers every fact once (configuration, GET-only API reads, the webhook store), then runs
 * the checks over them. Read-only: it never changes the account, the profile or the store.
 */
export async function runDoctor(
  input: GatherInput,
  options: Partial<DoctorOptions> = {},
): Promise<DoctorReport> {
  const opts: DoctorOptions = { ...DEFAULT_DOCTOR_OPTIONS, ...options };
  // Gathering reads the store and the API (their modules cost start-up time): loaded when checks run, not
  // when `wacx doctor --help` loads this module.
  const { gatherFacts } = await import('./gather.js');
  const facts = await gatherFacts(input);
  return { facts, results: evaluate(facts, opts) };
}

export { exitCodeOf as doctorExitCode };

/**
 * What coexistence changed in the Business App, for information, when the checked number is a coexistence
 * number (is_on_biz_app and CLOUD_API); empty otherwise.
 */
export function appChangesOf(facts: DoctorFacts): AppChange[] {
  const p = facts.phone;
  const coexistence =
    p.state === 'ok' && p.value.is_on_biz_app === true && p.value.platform_type === 'CLOUD_API';
  return coexistence ? appChangesJson() : [];
}
