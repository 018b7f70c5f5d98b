import { DEFAULT_API_VERSION } from '../../graph/client.js';
import { parseGraphTime } from '../../graph/time.js';
import type { PhoneNumber } from '../../graph/types.js';
import { apiVersionState, suggestedVersion } from '../../graph/versions.js';
import { isoDate } from '../format.js';
import type { CheckDefinition, DoctorFacts, Outcome } from '../types.js';
import { describeError, fail, fixForError, pass, skip, unavailable, warn } from './common.js';

/** Fixed throughput of coexistence numbers (meta-cloud-api.md §4.1). */
export const COEXISTENCE_MPS = 20;

const ONBOARD_AGAIN =
  'Open the WhatsApp Business App on the primary phone, then onboard the number again with `wacx onboard`.';

/** The phone number node, or the outcome of a check that needs it when it is not there. */
function phone(f: DoctorFacts): { node: PhoneNumber } | Outcome {
  if (!f.config.phoneNumberId.value) return skip('no phone number id configured (see number.reachable)');
  if (f.phone.state !== 'ok') return unavailable(f.phone, 'the phone number', 'number.reachable');
  return { node: f.phone.value };
}
const isOutcome = (v: { node: PhoneNumber } | Outcome): v is Outcome => !('node' in v);

export function isCoexistence(p: PhoneNumber): boolean {
  return p.is_on_biz_app === true && p.platform_type === 'CLOUD_API';
}

function describeNumber(p: PhoneNumber): string {
  const kind = isCoexistence(p)
    ? 'coexistence'
    : p.platform_type === 'CLOUD_API'
      ? 'Cloud API only'
      : 'not on Cloud API';
  return `${p.id} (${p.display_phone_number ?? '?'}, ${kind})`;
}

const MESSAGING_LIMITS: Record<string, string> = {
  TIER_250: '250',
  TIER_1K: '1,000',
  TIER_2K: '2,000',
  TIER_10K: '10,000',
  TIER_100K: '100,000',
  TIER_UNLIMITED: 'unlimited',
};

/** The numeric major of "v25.0". */
function versionMajor(v: string | null): number | null {
  const m = v ? /^v(\d+)\.0$/.exec(v) : null;
  return m ? Number(m[1]) : null;
}

export const NUMBER_CHECKS: CheckDefinition[] = [
  {
    id: 'number.reachable',
    group: 'Number',
    title: 'Phone number reachable',
    run(f) {
      const id = f.config.phoneNumberId.value;
      if (!id) {
        const known = f.wabaNumbers.state === 'ok' ? f.wabaNumbers.value : [];
        const best = known.find(isCoexistence) ?? known[0];
        return fail(
          'no phone number id configured',
          best
            ? `The WABA's numbers: ${known.map(describeNumber).join('; ')}. Set one: \`wacx config set phoneNumberId ${best.id}\`.`
            : 'Set it with `wacx config set phoneNumberId ID` (or WACX_PHONE_NUMBER_ID), or run `wacx onboard`.',
        );
      }
      if (f.phone.state === 'skipped') return skip(f.phone.reason, f.phone.fix);
      if (f.phone.state === 'error') {
        const e = f.phone.error;
        if (e.network) return skip(`API unreachable: ${e.message}`);
        return fail(
          `cannot read phone number ${id}: ${describeError(e)}`,
          fixForError(
            e,
            'phone number',
            '`wacx config get phoneNumberId` (it is the phone number id, not the number).',
          ),
        );
      }
      const p = f.phone.value;
      return pass(`${p.display_phone_number ?? id}${p.verified_name ? ` "${p.verified_name}"` : ''} (${id})`);
    },
  },
  {
    id: 'number.coexistence',
    group: 'Number',
    title: 'Coexistence active',
    run(f) {
      const got = phone(f);
      if (isOutcome(got)) return got;
      const p = got.node;
      const facts = `is_on_biz_app ${p.is_on_biz_app ?? 'unknown'}, platform_type ${p.platform_type ?? 'unknown'}`;
      if (isCoexistence(p)) {
        const at = parseGraphTime(p.last_onboarded_time);
        return pass(`${facts}${at ? `, onboarded ${isoDate(at)}` : ''}`);
      }
      if (p.is_on_biz_app === true) {
        return fail(
          `${facts}: the number is on the Business App but not on the Cloud API (onboarding not finished or undone)`,
          'Finish onboarding with `wacx onboard` (never call /register for a coexistence number).',
        );
      }
      if (p.platform_type === 'CLOUD_API') {
        return fail(
          `${facts}: a Cloud API-only number, not a coexistence number`,
          'If the Business App was disconnected, onboard again with `wacx onboard`; otherwise point the profile at the coexistence number (`wacx config set phoneNumberId ID`).',
        );
      }
      return fail(`${facts}: the number is not on the Cloud API`, 'Onboard it with `wacx onboard`.');
    },
  },
  {
    id: 'number.status',
    group: 'Number',
    title: 'Number status',
    run(f) {
      const got = phone(f);
      if (isOutcome(got)) return got;
      const p = got.node;
      const s = p.status;
      if (!s) return skip('status not reported');
      if (s === 'CONNECTED') return pass('CONNECTED');
      if (s === 'PENDING')
        return warn(
          'PENDING: registration or onboarding still in progress',
          'Wait a few minutes and run `wacx doctor` again.',
        );
      if (s === 'FLAGGED') {
        return warn(
          'FLAGGED: quality is low and the messaging limit may drop',
          'Improve quality: message only opted-in users, cut marketing volume, fix templates with low quality.',
        );
      }
      if (s === 'DISCONNECTED')
        return fail('DISCONNECTED: the Cloud API cannot send from this number', ONBOARD_AGAIN);
      return fail(
        `${s}: the number cannot send normally`,
        'See WhatsApp Manager › Phone numbers for the reason (and Business Support Home).',
      );
    },
  },
  {
    id: 'number.health',
    group: 'Number',
    title: 'Messaging health',
    run(f) {
      const got = phone(f);
      if (isOutcome(got)) return got;
      const p = got.node;
      const h = p.health_status;
      if (!h) return skip('health_status not reported');
      if (h.can_send_message === 'AVAILABLE') return pass('can_send_message AVAILABLE');
      const entities = (h.entities ?? []).filter((e) => e.can_send_message !== 'AVAILABLE');
      if (h.can_send_message === 'LIMITED') {
        const info = entities.flatMap((e) => (e.additional_info ?? []).map((i) => `${e.entity_type}: ${i}`));
        return warn(
          `can_send_message LIMITED${info.length ? `: ${info.join(' ')}` : ''}`,
          'See WhatsApp Manager › Overview for what limits sending.',
        );
      }
      const errors = entities.flatMap((e) => (e.errors ?? []).map((x) => ({ entity: e.entity_type, ...x })));
      const solutions = errors.map((e) => e.possible_solution).filter((s): s is string => Boolean(s));
      return fail(
        `can_send_message ${h.can_send_message}${errors.length ? `: ${errors.map((e) => `${e.entity} ${e.error_code} ${e.error_description}`).join('; ')}` : ''}`,
        solutions.length ? solutions.join(' ') : 'See WhatsApp Manager › Overview and Business Support Home.',
      );
    },
  },
  {
    id: 'number.quality',
    group: 'Number',
    title: 'Quality rating',
    run(f) {
      const got = phone(f);
      if (isOutcome(got)) return got;
      const p = got.node;
      const q = p.quality_rating;
      const fix =
        'Cut blocks and reports: message only users who opted in, send fewer marketing templates, and let people opt out (STOP).';
      if (!q) return skip('quality_rating not reported');
      if (q === 'GREEN') return pass('GREEN (high)');
      if (q === 'YELLOW') return warn('YELLOW (medium): users are blocking or reporting messages', fix);
      if (q === 'RED') return fail('RED (low): sending may be limited and templates paused', fix);
      return pass(`${q} (not rated yet)`);
    },
  },
  {
    id: 'number.throughput',
    group: 'Number',
    title: 'Throughput',
    run(f) {
      const got = phone(f);
      if (isOutcome(got)) return got;
      const p = got.node;
      const level = p.throughput?.level;
      if (!level) return skip('throughput not reported');
      if (level === 'NOT_APPLICABLE') {
        return warn(
          'NOT_APPLICABLE: the number has no Cloud API throughput',
          'Finish onboarding with `wacx onboard`.',
        );
      }
      if (p.is_on_biz_app)
        return pass(`${level}: coexistence numbers send at a fixed ${COEXISTENCE_MPS} messages/s`);
      return pass(`${level} (${level === 'HIGH' ? 'up to 1,000' : '80'} messages/s)`);
    },
  },
  {
    id: 'number.messaging_limit',
    group: 'Number',
    title: 'Messaging limit',
    run(f) {
      const got = phone(f);
      if (isOutcome(got)) return got;
      const p = got.node;
      const limit = p.whatsapp_business_manager_messaging_limit;
      if (!limit) {
        const v = f.config.apiVersion.value;
        const major = versionMajor(v);
        if (major !== null && major < 24) {
          return skip(
            `not readable with ${v} (whatsapp_business_manager_messaging_limit needs v24.0+)`,
            `Use a newer API version: \`wacx config set apiVersion ${DEFAULT_API_VERSION}\`.`,
          );
        }
        return skip('whatsapp_business_manager_messaging_limit not reported');
      }
      const n = MESSAGING_LIMITS[limit];
      return pass(
        n
          ? `${limit}: ${n} unique users outside the customer service window per rolling 24 h (business portfolio)`
          : limit,
      );
    },
  },
  {
    id: 'number.name_status',
    group: 'Number',
    title: 'Display name',
    run(f) {
      const got = phone(f);
      if (isOutcome(got)) return got;
      const p = got.node;
      const s = p.name_status;
      const name = p.verified_name ? `"${p.verified_name}" ` : '';
      if (!s) return skip('name_status not reported');
      if (s === 'APPROVED' || s === 'AVAILABLE_WITHOUT_REVIEW') return pass(`${name}${s}`);
      const fix =
        'Edit the display name in WhatsApp Manager › Phone numbers to follow Meta’s display-name rules and submit it.';
      if (s === 'PENDING_REVIEW') {
        return warn(
          `${name}PENDING_REVIEW: the messaging limit stays low until it is approved`,
          'Wait for the review (usually 1–2 days).',
        );
      }
      if (s === 'DECLINED' || s === 'EXPIRED') return fail(`${name}${s}`, fix);
      return warn(`${name}${s}`, fix);
    },
  },
  {
    id: 'number.api_version',
    group: 'Number',
    title: 'API version',
    run(f, o) {
      const v = f.config.apiVersion.value ?? DEFAULT_API_VERSION;
      const src = f.config.apiVersion.source;
      const st = apiVersionState(v, f.now, o.versionWarnDays);
      const target =
        apiVersionState(DEFAULT_API_VERSION, f.now, o.versionWarnDays).state === 'current'
          ? DEFAULT_API_VERSION
          : suggestedVersion(f.now, o.versionWarnDays);
      const fix = `\`wacx config set apiVersion ${target}\` (or WACX_API_VERSION / --api-version).`;
      switch (st.state) {
        case 'current':
          return pass(
            `${v} (${src})${st.info.availableUntil ? `, available until ${st.info.availableUntil}` : ', no end date announced'}`,
          );
        case 'ending':
          return warn(
            `${v} (${src}) stops working on ${st.info.availableUntil} (in ${st.daysLeft} days)`,
            fix,
          );
        case 'expired':
          return fail(
            `${v} (${src}) is no longer available${st.endedOn ? ` (ended ${st.endedOn})` : ''}`,
            fix,
          );
        case 'newer':
          return pass(`${v} (${src}), newer than the versions wacx knows`);
        default:
          return fail(`"${v}" (${src}) is not a Graph API version`, fix);
      }
    },
  },
];
