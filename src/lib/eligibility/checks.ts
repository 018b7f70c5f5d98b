import type { HealthStatus, PhoneNumber } from '../graph/types.js';
import { compareVersions, DEFAULT_MIN_DAYS, MIN_APP_VERSION } from './inputs.js';
import type { ParsedPhone } from './phone.js';
import { type CoexistencePolicy, exclusionFor, launchExclusionFor } from './policies.js';

export type CheckStatus = 'pass' | 'warn' | 'fail' | 'skip';

/** Stable check ids, in display order: scripts can rely on them. */
export const CHECK_IDS = [
  'phone',
  'country',
  'app_version',
  'days_active',
  'live_platform',
  'live_status',
  'live_health',
] as const;
export type CheckId = (typeof CHECK_IDS)[number];

export const CHECK_LABELS: Record<CheckId, string> = {
  phone: 'Phone number',
  country: 'Country',
  app_version: 'Business App version',
  days_active: 'Days in use',
  live_platform: 'Platform (live)',
  live_status: 'Number status (live)',
  live_health: 'Health (live)',
};

export interface CheckResult {
  id: CheckId;
  label: string;
  status: CheckStatus;
  reason: string;
  /** Facts behind the verdict (always an object, keys always present for a given check). */
  details: Record<string, unknown>;
}

function check(
  id: CheckId,
  status: CheckStatus,
  reason: string,
  details: Record<string, unknown>,
): CheckResult {
  return { id, label: CHECK_LABELS[id], status, reason, details };
}

export function phoneCheck(phone: ParsedPhone): CheckResult {
  const details = {
    e164: phone.e164,
    country: phone.country,
    calling_code: phone.callingCode,
    valid: phone.valid,
  };
  if (phone.valid)
    return check('phone', 'pass', `${phone.international} is a valid number of ${phone.country}.`, details);
  return check(
    'phone',
    'warn',
    `${phone.international} has a possible length but is not a number in use per libphonenumber's metadata (fictional or new range?).`,
    details,
  );
}

/** The country against a dated policy, saying when an exclusion was lifted. */
export function countryCheck(phone: ParsedPhone, p: CoexistencePolicy): CheckResult {
  const exclusion = exclusionFor(p, phone.country ?? undefined);
  const details = {
    country: phone.country,
    calling_code: phone.callingCode,
    policy: p.id,
    excluded: Boolean(exclusion),
    lifted_on: (exclusion ?? launchExclusionFor(phone.country ?? undefined))?.liftedOn ?? null,
  };
  if (exclusion) {
    const name = `${exclusion.name}${exclusion.group ? ` (${exclusion.group})` : ''}`;
    const lifted = exclusion.liftedOn ? `, lifted on ${exclusion.liftedOn}` : ', still excluded';
    return check('country', 'fail', `${name}: excluded under ${p.id}${lifted}.`, details);
  }
  if (!phone.country) {
    // the region is ambiguous: check every region sharing the calling code
    const excluded = phone.regions.map((r) => exclusionFor(p, r)).filter((e) => e !== undefined);
    if (excluded.length > 0) {
      const names = excluded.map((e) => `${e.name} (lifted on ${e.liftedOn ?? 'not yet'})`).join(', ');
      return check(
        'country',
        'warn',
        `+${phone.callingCode} could not be pinned to one country; under ${p.id} it may be ${names}.`,
        details,
      );
    }
    return check(
      'country',
      'pass',
      `+${phone.callingCode} (${regionList(phone.regions)}): no country of this calling code is excluded under ${p.id}.`,
      details,
    );
  }
  const history = launchExclusionFor(phone.country);
  const note =
    history && p.id !== '2025-02' && history.liftedOn
      ? ` (excluded under 2025-02, lifted on ${history.liftedOn})`
      : '';
  return check('country', 'pass', `${phone.country}: not excluded under ${p.id}${note}.`, details);
}

function regionList(regions: string[]): string {
  if (regions.length === 0) return 'no region';
  return regions.length <= 4
    ? regions.join(', ')
    : `${regions.slice(0, 3).join(', ')} and ${regions.length - 3} more`;
}

export function appVersionCheck(version: string): CheckResult {
  const details = { version, minimum: MIN_APP_VERSION };
  if (compareVersions(version, MIN_APP_VERSION) < 0) {
    return check(
      'app_version',
      'fail',
      `${version} is older than ${MIN_APP_VERSION}: update WhatsApp Business from the app store first.`,
      details,
    );
  }
  return check('app_version', 'pass', `${version} ≥ ${MIN_APP_VERSION}.`, details);
}

export function daysActiveCheck(
  days: number,
  activeSince: string | null,
  minDays = DEFAULT_MIN_DAYS,
): CheckResult {
  const details = { days_active: days, active_since: activeSince, minimum: minDays };
  const since = activeSince ? ` (since ${activeSince})` : '';
  if (days < minDays) {
    const wait = minDays - days;
    return check(
      'days_active',
      'fail',
      `In use for ${days} day${days === 1 ? '' : 's'}${since}; wait ${wait} more day${wait === 1 ? '' : 's'} (at least ${minDays} days of active use).`,
      details,
    );
  }
  return check('days_active', 'pass', `In use for ${days} days${since} ≥ ${minDays}.`, details);
}

// ---- live facts (the phone number node, meta-cloud-api.md §3.1 / §3.3) ----

export const LIVE_FIELDS = [
  'id',
  'display_phone_number',
  'verified_name',
  'is_on_biz_app',
  'platform_type',
  'status',
  'health_status',
  'code_verification_status',
  'last_onboarded_time',
  'account_mode',
] as const;

export type LiveLookup =
  | { kind: 'found'; number: PhoneNumber; via: string }
  | { kind: 'skip'; reason: string };

const LIVE_IDS = ['live_platform', 'live_status', 'live_health'] as const;

/** The keys of each live check's details, null when skipped. */
const LIVE_DETAIL_KEYS: Record<(typeof LIVE_IDS)[number], string[]> = {
  live_platform: ['phone_number_id', 'is_on_biz_app', 'platform_type'],
  live_status: ['phone_number_id', 'status'],
  live_health: ['phone_number_id', 'can_send_message'],
};

export function skippedLiveChecks(reason: string): CheckResult[] {
  return LIVE_IDS.map((id) =>
    check(id, 'skip', reason, Object.fromEntries(LIVE_DETAIL_KEYS[id].map((k) => [k, null]))),
  );
}

const BLOCKING_STATUS = new Set(['BANNED', 'DELETED']);
const WARN_STATUS = new Set([
  'FLAGGED',
  'RESTRICTED',
  'RATE_LIMITED',
  'DISCONNECTED',
  'MIGRATED',
  'UNVERIFIED',
]);

export function liveChecks(lookup: LiveLookup): CheckResult[] {
  if (lookup.kind === 'skip') return skippedLiveChecks(lookup.reason);
  const n = lookup.number;
  const base = { phone_number_id: n.id };
  return [platformCheck(n, base), statusCheck(n, base), healthCheck(n.health_status, base)];
}

function platformCheck(n: PhoneNumber, base: Record<string, unknown>): CheckResult {
  const details = { ...base, is_on_biz_app: n.is_on_biz_app ?? null, platform_type: n.platform_type ?? null };
  const pt = n.platform_type;
  if (pt === 'CLOUD_API' && n.is_on_biz_app === true) {
    return check(
      'live_platform',
      'warn',
      `Already a coexistence number (is_on_biz_app, CLOUD_API${n.last_onboarded_time ? `, onboarded ${n.last_onboarded_time}` : ''}): nothing to onboard; run \`wacx doctor\`.`,
      details,
    );
  }
  if (pt === 'CLOUD_API') {
    return check(
      'live_platform',
      'fail',
      'Already a Cloud API number (platform_type CLOUD_API, is_on_biz_app false): coexistence onboards WhatsApp Business app numbers only.',
      details,
    );
  }
  if (pt === 'ON_PREMISE') {
    return check(
      'live_platform',
      'fail',
      'Registered on the On-Premises API (platform_type ON_PREMISE): migrate or deregister it before coexistence.',
      details,
    );
  }
  return check(
    'live_platform',
    'pass',
    `Not registered on Cloud API or On-Premises (platform_type ${pt ?? 'unknown'}).`,
    details,
  );
}

function statusCheck(n: PhoneNumber, base: Record<string, unknown>): CheckResult {
  const status = n.status ?? null;
  const details = { ...base, status };
  if (status && BLOCKING_STATUS.has(status)) {
    return check('live_status', 'fail', `The number's status is ${status}.`, details);
  }
  if (status && WARN_STATUS.has(status)) {
    return check('live_status', 'warn', `The number's status is ${status}: check WhatsApp Manager.`, details);
  }
  return check('live_status', 'pass', `Status ${status ?? 'not reported'}.`, details);
}

function healthCheck(h: HealthStatus | undefined, base: Record<string, unknown>): CheckResult {
  const details = { ...base, can_send_message: h?.can_send_message ?? null };
  if (!h) return check('live_health', 'pass', 'No health_status reported.', details);
  if (h.can_send_message === 'BLOCKED') {
    const errors = h.entities
      .flatMap((e) => (e.errors ?? []).map((x) => `${e.entity_type} ${x.error_code}: ${x.error_description}`))
      .join('; ');
    return check('live_health', 'fail', `health_status BLOCKED${errors ? ` (${errors})` : ''}.`, details);
  }
  if (h.can_send_message === 'LIMITED') {
    const info = h.entities.flatMap((e) => e.additional_info ?? []).join(' ');
    return check('live_health', 'warn', `health_status LIMITED${info ? `: ${info}` : ''}.`, details);
  }
  return check('live_health', 'pass', `health_status ${h.can_send_message}.`, details);
}
