/** Node field rendering for phone numbers, the WABA, the business and templates (`?fields=`). */
import type { SandboxCore } from './core.js';
import { gerr } from './errors.js';
import { SEED } from './seed.js';
import type { NumberState, TemplateState } from './world.js';

/** Splits `a,b{c,d},e` into top-level names (sub-selections ignored). */
export function parseFields(raw: string | undefined, defaults: readonly string[]): string[] {
  if (raw === undefined || raw.trim() === '') return [...defaults];
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of raw) {
    if (ch === '{') depth++;
    else if (ch === '}') depth = Math.max(0, depth - 1);
    else if (ch === ',' && depth === 0) {
      if (cur.trim()) out.push(cur.trim());
      cur = '';
    } else if (depth === 0) cur += ch;
  }
  if (cur.trim()) out.push(cur.trim());
  if (!out.includes('id')) out.push('id');
  return out;
}

export function formatGraphTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, '+0000');
}

function versionNumber(version: string): number {
  return Number(version.slice(1, 3));
}

function nonexisting(field: string, nodeType: string): Error {
  return gerr(100, `Tried accessing nonexisting field (${field}) on node type (${nodeType})`);
}

export const PHONE_DEFAULT_FIELDS = ['id', 'display_phone_number', 'verified_name', 'quality_rating'];
export const PHONE_LIST_DEFAULT_FIELDS = [
  'id',
  'display_phone_number',
  'verified_name',
  'quality_rating',
  'code_verification_status',
  'platform_type',
  'throughput',
  'status',
];

function entity(type: string, id: string, can: string, extra: Record<string, unknown> = {}) {
  return { entity_type: type, id, can_send_message: can, ...extra };
}

function numberHealth(n: NumberState) {
  let phone: Record<string, unknown>;
  if (n.offboarded || n.platformType !== 'CLOUD_API') {
    phone = entity('PHONE_NUMBER', n.id, 'BLOCKED', {
      errors: [
        {
          error_code: 141000,
          error_description: n.offboarded
            ? 'The phone number is not connected to the Cloud API (offboarded or removed).'
            : 'The phone number is not registered on the Cloud API.',
          possible_solution: 'Reconnect the number through Embedded Signup.',
        },
      ],
    });
  } else phone = entity('PHONE_NUMBER', n.id, 'AVAILABLE');
  const entities = [
    phone,
    entity('WABA', SEED.waba.id, 'AVAILABLE'),
    entity('BUSINESS', SEED.businessId, 'AVAILABLE'),
    entity('APP', SEED.app.id, 'AVAILABLE'),
  ];
  return { can_send_message: phone.can_send_message, entities };
}

export function phoneField(core: SandboxCore, n: NumberState, field: string, version: string): unknown {
  const w = core.world;
  switch (field) {
    case 'id':
      return n.id;
    case 'display_phone_number':
      return n.display;
    case 'verified_name':
      return n.verifiedName;
    case 'quality_rating':
      return n.qualityRating;
    case 'quality_score':
      return { score: n.qualityRating };
    case 'code_verification_status':
      return n.platformType === 'CLOUD_API' ? 'VERIFIED' : 'UNVERIFIED';
    case 'name_status':
      return 'APPROVED';
    case 'new_name_status':
      return 'NONE';
    case 'status':
      return n.status;
    case 'platform_type':
      return n.platformType;
    case 'is_on_biz_app':
      return n.isOnBizApp;
    case 'throughput':
      return { level: n.platformType === 'CLOUD_API' ? 'STANDARD' : 'NOT_APPLICABLE' };
    case 'whatsapp_business_manager_messaging_limit':
      if (versionNumber(version) < 24) throw nonexisting(field, 'WhatsAppBusinessPhoneNumber');
      return 'TIER_2K';
    case 'messaging_limit_tier':
      return 'TIER_1K';
    case 'last_onboarded_time':
      return n.lastOnboardedTime === null ? undefined : formatGraphTime(n.lastOnboardedTime);
    case 'health_status':
      return numberHealth(n);
    case 'is_official_business_account':
    case 'is_pin_enabled':
    case 'is_preverified_number':
      return false;
    case 'account_mode':
      return 'LIVE';
    case 'search_visibility':
      return 'VISIBLE';
    case 'country_code':
      return 'US';
    case 'country_dial_code':
      return '1';
    case 'certificate':
      return 'CmEKHQiZ2sandboxcertificate';
    case 'eligibility_for_api_business_global_search':
      return 'NON_ELIGIBLE_UNDEFINED_COUNTRY';
    case 'webhook_configuration': {
      const cfg: Record<string, string> = {};
      if (n.webhookOverride) cfg.phone_number = n.webhookOverride.uri;
      const wabaOverride = w.subscribedApps.get(SEED.app.id)?.overrideCallbackUri;
      if (wabaOverride) cfg.whatsapp_business_account = wabaOverride;
      if (w.appSubscription?.callbackUrl) cfg.application = w.appSubscription.callbackUrl;
      return cfg;
    }
    case 'conversational_automation':
      return { id: n.id, enable_welcome_message: false, prompts: [], commands: [] };
    default:
      throw nonexisting(field, 'WhatsAppBusinessPhoneNumber');
  }
}

export function renderPhone(core: SandboxCore, n: NumberState, fields: string[], version: string) {
  const out: Record<string, unknown> = {};
  for (const f of fields) {
    const v = phoneField(core, n, f, version);
    if (v !== undefined) out[f] = v;
  }
  return out;
}

export const WABA_DEFAULT_FIELDS = ['id', 'name'];

export function wabaField(core: SandboxCore, field: string, version: string): unknown {
  switch (field) {
    case 'id':
      return SEED.waba.id;
    case 'name':
      return SEED.waba.name;
    case 'timezone_id':
      return '1';
    case 'message_template_namespace':
      return SEED.waba.namespace;
    case 'account_review_status':
      return 'APPROVED';
    case 'business_verification_status':
      return 'VERIFIED';
    case 'country':
      return 'US';
    case 'currency':
      return 'USD';
    case 'ownership_type':
      return 'CLIENT_OWNED';
    case 'primary_business_location':
      return 'US';
    case 'is_enabled_for_insights':
      return true;
    case 'is_shared_with_partners':
      return true;
    case 'marketing_messages_lite_api_status':
      return 'INELIGIBLE';
    case 'marketing_messages_onboarding_status':
      return [...core.world.numbers.values()].some((n) => n.marketingOnboarded) ? 'ONBOARDED' : 'NOT_STARTED';
    case 'disable_marketing_messages_on_cloud_api':
      return [...core.world.numbers.values()].some((n) => n.marketingBlocked);
    case 'creation_time':
      return formatGraphTime(Date.UTC(2025, 0, 15, 9, 30, 0));
    case 'on_behalf_of_business_info':
      return { id: SEED.businessId, name: 'Lucky Shrub', status: 'APPROVED', type: 'INTERNAL' };
    case 'owner_business_info':
      return { id: SEED.businessId, name: 'Lucky Shrub' };
    case 'auth_international_rate_eligibility':
      return { exception_countries: [], start_time: 1_740_000_000 };
    case 'whatsapp_business_manager_messaging_limit':
      if (versionNumber(version) < 24) throw nonexisting(field, 'WhatsAppBusinessAccount');
      return 'TIER_2K';
    case 'health_status':
      return {
        can_send_message: 'AVAILABLE',
        entities: [
          entity('WABA', SEED.waba.id, 'AVAILABLE'),
          entity('BUSINESS', SEED.businessId, 'AVAILABLE'),
          entity('APP', SEED.app.id, 'AVAILABLE'),
        ],
      };
    default:
      throw nonexisting(field, 'WhatsAppBusinessAccount');
  }
}

export const TEMPLATE_DEFAULT_FIELDS = [
  'id',
  'name',
  'parameter_format',
  'components',
  'language',
  'status',
  'category',
];
export const TEMPLATE_LIST_DEFAULT_FIELDS = TEMPLATE_DEFAULT_FIELDS;

export function templateField(t: TemplateState, field: string): unknown {
  switch (field) {
    case 'id':
      return t.id;
    case 'name':
      return t.name;
    case 'language':
      return t.language;
    case 'category':
      return t.category;
    case 'status':
      return t.status;
    case 'parameter_format':
      return t.parameterFormat;
    case 'components':
      return t.components;
    case 'rejected_reason':
      return t.rejectedReason;
    case 'quality_score':
      return { score: t.qualityScore, date: Math.floor(t.createdAt / 1000) };
    case 'message_send_ttl_seconds':
      return t.ttl;
    case 'sub_category':
      return t.category === 'UTILITY' ? 'CUSTOM' : undefined;
    case 'previous_category':
    case 'correct_category':
    case 'library_template_name':
      return undefined;
    case 'cta_url_link_tracking_opted_out':
      return false;
    case 'source':
      return t.source;
    default:
      throw nonexisting(field, 'WhatsAppBusinessHSM');
  }
}

export function renderTemplate(t: TemplateState, fields: string[]) {
  const out: Record<string, unknown> = {};
  for (const f of fields) {
    const v = templateField(t, f);
    if (v !== undefined) out[f] = v;
  }
  return out;
}
