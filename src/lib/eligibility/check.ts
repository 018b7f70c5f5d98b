import { WacxError } from '../errors.js';
import { GraphApiError, GraphNetworkError } from '../graph/errors.js';
import type { Graph } from '../graph/graph.js';
import type { PhoneNumber } from '../graph/types.js';
import { type AppChange, appChangesJson } from '../onboarding/app-changes.js';
import {
  appVersionCheck,
  CHECK_IDS,
  type CheckResult,
  type CheckStatus,
  countryCheck,
  daysActiveCheck,
  LIVE_FIELDS,
  type LiveLookup,
  liveChecks,
  phoneCheck,
} from './checks.js';
import { type ActivePeriod, DEFAULT_MIN_DAYS } from './inputs.js';
import { type ParsedPhone, phoneDigits } from './phone.js';
import { type PolicyId, policy } from './policies.js';

export * from './checks.js';
export * from './inputs.js';
export * from './phone.js';
export * from './policies.js';

export interface EligibilityInputs {
  phone: ParsedPhone;
  appVersion: string;
  period: ActivePeriod;
  policy: PolicyId;
  minDays?: number;
}

export interface EligibilityReport {
  eligible: boolean;
  policy: { id: PolicyId; title: string; as_of: string };
  phone: { input: string; e164: string; international: string; country: string | null; calling_code: string };
  app_version: string;
  active_since: string | null;
  days_active: number;
  checks: CheckResult[];
  summary: Record<CheckStatus, number>;
  /** What coexistence changes in the Business App (to know before the signup). */
  app_changes: AppChange[];
}

/** The checks that need no network: phone, country (against the chosen dated policy), app version, days in use. */
export function localChecks(inputs: EligibilityInputs): CheckResult[] {
  return [
    phoneCheck(inputs.phone),
    countryCheck(inputs.phone, policy(inputs.policy)),
    appVersionCheck(inputs.appVersion),
    daysActiveCheck(inputs.period.daysActive, inputs.period.activeSince, inputs.minDays ?? DEFAULT_MIN_DAYS),
  ];
}

export function buildReport(inputs: EligibilityInputs, checks: CheckResult[]): EligibilityReport {
  const ordered = [...checks].sort((a, b) => CHECK_IDS.indexOf(a.id) - CHECK_IDS.indexOf(b.id));
  const summary: Record<CheckStatus, number> = { pass: 0, warn: 0, fail: 0, skip: 0 };
  for (const c of ordered) summary[c.status]++;
  const p = policy(inputs.policy);
  return {
    eligible: summary.fail === 0,
    policy: { id: p.id, title: p.title, as_of: p.asOf },
    phone: {
      input: inputs.phone.input,
      e164: inputs.phone.e164,
      international: inputs.phone.international,
      country: inputs.phone.country,
      calling_code: inputs.phone.callingCode,
    },
    app_version: inputs.appVersion,
    active_since: inputs.period.activeSince,
    days_active: inputs.period.daysActive,
    checks: ordered,
    summary,
    app_changes: appChangesJson(),
  };
}

export interface LiveSource {
  /** The authenticated API core (throws a ConfigError when there is no token). */
  graph: () => Promise<Graph>;
  phoneNumberId?: string | undefined;
  wabaId?: string | undefined;
  offline?: boolean;
  signal?: AbortSignal;
}

function sameNumber(n: PhoneNumber, phone: ParsedPhone): boolean {
  return Boolean(n.display_phone_number) && phoneDigits(n.display_phone_number ?? '') === phone.digits;
}

/**
 * Finds this number through the API (the profile's phone number id, else the WABA's numbers). Never throws
 * for a missing token, a network failure or an API error: those skip the live checks with the reason.
 */
export async function lookupLive(src: LiveSource, phone: ParsedPhone): Promise<LiveLookup> {
  if (src.offline) return { kind: 'skip', reason: 'Skipped: --offline.' };
  if (!src.phoneNumberId && !src.wabaId) {
    return {
      kind: 'skip',
      reason:
        'Skipped: no phone number id or WABA id known (pass --phone-number-id or --waba-id, or set them in the profile).',
    };
  }
  let graph: Graph;
  try {
    graph = await src.graph();
  } catch (error) {
    if (error instanceof WacxError) return { kind: 'skip', reason: `Skipped: ${error.message}` };
    throw error;
  }
  try {
    const notes: string[] = [];
    if (src.phoneNumberId) {
      const n = await graph.phoneNumbers.get(src.phoneNumberId, LIVE_FIELDS, src.signal);
      if (sameNumber(n, phone)) return { kind: 'found', number: n, via: `phone number id ${n.id}` };
      notes.push(`phone number id ${src.phoneNumberId} is ${n.display_phone_number ?? 'another number'}`);
    }
    if (src.wabaId) {
      for await (const n of graph.phoneNumbers.list(src.wabaId, LIVE_FIELDS)) {
        if (sameNumber(n, phone)) return { kind: 'found', number: n, via: `WABA ${src.wabaId}` };
      }
      notes.push(`${phone.e164} is not among WABA ${src.wabaId}'s numbers (normal before onboarding)`);
    }
    return { kind: 'skip', reason: `Skipped: ${notes.join('; ')}.` };
  } catch (error) {
    if (src.signal?.aborted) throw error;
    if (error instanceof GraphNetworkError) {
      return { kind: 'skip', reason: `Skipped: the Graph API is unreachable (${error.message}).` };
    }
    if (error instanceof GraphApiError) {
      return { kind: 'skip', reason: `Skipped: the Graph API answered code ${error.code}: ${error.message}` };
    }
    throw error;
  }
}

/** Everything: local checks plus the live facts when a token and an id are available. */
export async function checkEligibility(
  inputs: EligibilityInputs,
  live: LiveSource,
): Promise<EligibilityReport> {
  const local = localChecks(inputs);
  const lookup = await lookupLive(live, inputs.phone);
  return buildReport(inputs, [...local, ...liveChecks(lookup)]);
}
