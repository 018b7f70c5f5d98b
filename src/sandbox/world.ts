/** The sandbox's mutable state: numbers, templates, tokens, subscriptions, logs. Rebuilt by `reset`. */
import { type TemplateDefinition, templateVariables } from '../lib/templates/rules.js';
import { SEED } from './seed.js';

export type PlatformType = 'CLOUD_API' | 'ON_PREMISE' | 'NOT_APPLICABLE';
export type SyncType = 'smb_app_state_sync' | 'history';

export interface NumberState {
  id: string;
  display: string;
  e164: string;
  verifiedName: string;
  isOnBizApp: boolean;
  platformType: PlatformType;
  status: string;
  qualityRating: string;
  /** The throughput the number advertises (and, unless `enforcedMps` says less, the one enforced). */
  mps: number;
  /**
   * The throughput actually enforced when it differs from the advertised one (a number mid-upgrade, a portfolio
   * limit, a server set lower); null = `mps`.
   */
  enforcedMps: number | null;
  /** Until this time (sandbox clock, ms) every send is refused with 130429: a throttling storm. */
  stormUntil: number;
  /** Per-recipient pair limiter on/off and its burst. */
  pairLimit: boolean;
  pairBurst: number;
  /** Emit status webhooks for accepted messages. */
  statuses: boolean;
  /** Marketing templates on /messages are refused with 131063 (`disable_marketing_messages_on_cloud_api`). */
  marketingBlocked?: boolean;
  /** Onboarded to the Marketing Messages API (the WABA reports `marketing_messages_onboarding_status`). */
  marketingOnboarded?: boolean;
  /** ms; null = never onboarded. */
  lastOnboardedTime: number | null;
  inWaba: boolean;
  /** Offboarded (device change) or removed (PARTNER_REMOVED): sends fail with 133010. */
  offboarded: boolean;
  syncRequests: Map<SyncType, { requestId: string; at: number }>;
  webhookOverride: { uri: string; verifyToken: string } | null;
  registrationCalls: number[];
  /** Per-second accepted/throttled counts for inspection (second -> counts). */
  counts: Map<number, { accepted: number; throttled: number }>;
  /** Current one-second window of the throughput limiter. */
  windowSecond: number;
  windowCount: number;
}

export interface TemplateVars {
  header: string[];
  headerFormat: string | null;
  body: string[];
  bodyText: string;
  onlyBody: boolean;
  buttons: { index: number; vars: string[] }[];
}

export interface TemplateState {
  id: string;
  name: string;
  language: string;
  category: string;
  status: string;
  parameterFormat: 'POSITIONAL' | 'NAMED';
  components: Record<string, unknown>[];
  rejectedReason: string;
  qualityScore: string;
  ttl: number | undefined;
  createdAt: number;
  edits: number[];
  sends: number;
  /** template_paused scenario: pause after this many more accepted sends. */
  pauseAfter: number | null;
  vars: TemplateVars;
  /** Set for templates Meta generated itself (Direct Send, meta-cloud-api.md §15.4). */
  source?: 'AUTO_GENERATED';
}

export interface TokenState {
  token: string;
  kind: 'system' | 'business';
  userId: string;
  scopes: string[];
  targets: { waba: string[]; business: string[] };
  issuedAt: number;
  revoked: boolean;
}

export interface CodeState {
  code: string;
  createdAt: number;
  used: boolean;
  redirectUri: string | null;
  phoneNumberId: string;
}

export interface AppSubscriptionState {
  object: string;
  callbackUrl: string;
  verifyToken: string;
  fields: string[];
  active: boolean;
}

/** A WhatsApp user of the sandbox's world: a Business App contact, with a business-scoped identity. */
export interface UserState {
  /** E.164 digits; changes on `user_changed_number`. */
  phone: string;
  /** BSUID; a number change (or `user_changed_user_id`) gives a new one. */
  userId: string;
  parentUserId: string;
  username: string | null;
  fullName: string;
  firstName: string;
  /** The phone may not be shared any more (after `user_changed_user_id`): webhooks omit it even without a username. */
  phoneHidden: boolean;
}

/** BSUID mode (scenario `bsuid`, meta-cloud-api.md §15.1). */
export interface BsuidMode {
  enabled: boolean;
  /** Parent BSUIDs enabled for the business: `parent_user_id` fields too. */
  parents: boolean;
  /** A withheld phone is sent as "" instead of being left out (older docs showed ""). */
  emptyPhones: boolean;
}

export interface AcceptedMessage {
  id: string;
  phone_number_id: string;
  /** The phone (wa_id digits) of a send by `to`; null when it went by BSUID. */
  to: string | null;
  /** The BSUID of a send by `recipient` (and no `to`); else null. */
  user_id: string | null;
  /** Which request field named the recipient (`to` wins when both are given). */
  via: 'to' | 'recipient';
  /** The edge it was posted to: /messages or the Marketing Messages API's /marketing_messages. */
  endpoint: 'messages' | 'marketing_messages';
  type: string;
  template: string | null;
  language: string | null;
  parameters: unknown[];
  text: string | null;
  callback_data: string | null;
  at: number;
}

export const ALL_WEBHOOK_FIELDS = [
  'messages',
  'history',
  'smb_app_state_sync',
  'smb_message_echoes',
  'account_update',
  'message_template_status_update',
  'phone_number_quality_update',
  'template_category_update',
  'user_preferences',
];

export function computeVars(def: {
  components: readonly Record<string, unknown>[];
  name?: string;
  language?: string;
  category?: string;
}): TemplateVars {
  const tv = templateVariables({
    name: def.name ?? '',
    language: def.language ?? '',
    category: def.category ?? '',
    components: def.components as TemplateDefinition['components'],
  });
  let headerFormat: string | null = null;
  let bodyText = '';
  let others = 0;
  for (const c of def.components) {
    const type = String(c.type ?? '').toUpperCase();
    if (type === 'HEADER') {
      headerFormat = String(c.format ?? 'TEXT').toUpperCase();
      others++;
    } else if (type === 'BODY') bodyText = typeof c.text === 'string' ? c.text : '';
    else others++;
  }
  return {
    header: tv.header,
    headerFormat,
    body: tv.body,
    bodyText,
    onlyBody: others === 0,
    buttons: tv.buttons,
  };
}

export class World {
  numbers = new Map<string, NumberState>();
  templates = new Map<string, TemplateState>();
  tokens = new Map<string, TokenState>();
  codes = new Map<string, CodeState>();
  appSubscription: AppSubscriptionState | null;
  /** app id -> override */
  subscribedApps = new Map<string, { overrideCallbackUri: string | null; verifyToken: string | null }>();
  deletedNames = new Map<string, number>();
  messages: AcceptedMessage[] = [];
  pairBuckets = new Map<string, { tokens: number; at: number }>();
  users: UserState[] = SEED.contacts.map((c, i) => ({
    phone: c.wa_id,
    userId: SEED.users[i]!.user_id,
    parentUserId: SEED.users[i]!.parent_user_id,
    username: SEED.users[i]!.username,
    fullName: c.full_name,
    firstName: c.first_name,
    phoneHidden: false,
  }));
  bsuid: BsuidMode = { enabled: false, parents: false, emptyPhones: false };
  /** `${phone}|${wa_id}` -> last inbound message time (customer service window). */
  csw = new Map<string, number>();
  /** Management calls per WABA in the current hour bucket. */
  managementCalls = new Map<string, { hour: number; count: number }>();
  templateCreates: number[] = [];
  nextTemplateId = 6_000_000_000_001_001n;
  limits = { managementPerHour: 5000, templatesPerHour: 100, templateCount: 250 };
  appSecret: string;

  constructor(
    now: number,
    options: {
      appSecret: string;
      callbackUrl: string;
      verifyToken: string;
      statuses?: boolean;
      problemTemplates?: boolean;
    },
  ) {
    this.appSecret = options.appSecret;
    const p = SEED.phoneNumbers;
    const mk = (
      seed: { id: string; display: string; e164: string; mps: number },
      extra: Partial<NumberState>,
    ): NumberState => ({
      id: seed.id,
      display: seed.display,
      e164: seed.e164,
      verifiedName: 'Lucky Shrub',
      isOnBizApp: false,
      platformType: 'CLOUD_API',
      status: 'CONNECTED',
      qualityRating: 'GREEN',
      mps: seed.mps,
      enforcedMps: null,
      stormUntil: 0,
      pairLimit: true,
      pairBurst: 45,
      statuses: options.statuses ?? true,
      lastOnboardedTime: now,
      inWaba: true,
      offboarded: false,
      syncRequests: new Map(),
      webhookOverride: null,
      registrationCalls: [],
      counts: new Map(),
      windowSecond: 0,
      windowCount: 0,
      ...extra,
    });
    this.numbers.set(p.coex.id, mk(p.coex, { isOnBizApp: true }));
    this.numbers.set(p.cloud.id, mk(p.cloud, { lastOnboardedTime: now - 90 * 86_400_000 }));
    this.numbers.set(
      p.pending.id,
      mk(p.pending, {
        verifiedName: 'Lucky Shrub Garden Center',
        platformType: 'NOT_APPLICABLE',
        status: 'PENDING',
        lastOnboardedTime: null,
        inWaba: false,
      }),
    );
    for (const t of SEED.templates) {
      if (options.problemTemplates === false && t.status !== 'APPROVED') continue;
      const components = JSON.parse(JSON.stringify(t.components)) as Record<string, unknown>[];
      const parameterFormat =
        'parameter_format' in t && t.parameter_format === 'NAMED' ? 'NAMED' : 'POSITIONAL';
      this.templates.set(t.id, {
        id: t.id,
        name: t.name,
        language: t.language,
        category: t.category,
        status: t.status,
        parameterFormat,
        components,
        rejectedReason: 'NONE',
        qualityScore: t.status === 'PAUSED' ? 'RED' : 'GREEN',
        ttl: undefined,
        createdAt: now - 30 * 86_400_000,
        edits: [],
        sends: 0,
        pauseAfter: null,
        vars: computeVars({ ...t, components }),
      });
    }
    this.tokens.set(SEED.token, {
      token: SEED.token,
      kind: 'system',
      userId: SEED.systemUserId,
      scopes: ['business_management', 'whatsapp_business_management', 'whatsapp_business_messaging'],
      targets: { waba: [SEED.waba.id], business: [SEED.businessId] },
      issuedAt: now - 86_400_000,
      revoked: false,
    });
    this.appSubscription = {
      object: 'whatsapp_business_account',
      callbackUrl: options.callbackUrl,
      verifyToken: options.verifyToken,
      fields: [...ALL_WEBHOOK_FIELDS],
      active: true,
    };
    this.subscribedApps.set(SEED.app.id, { overrideCallbackUri: null, verifyToken: null });
  }

  newTemplateId(): string {
    const id = this.nextTemplateId.toString();
    this.nextTemplateId++;
    return id;
  }

  /** The WABA's numbers (onboarded ones). */
  wabaNumbers(): NumberState[] {
    return [...this.numbers.values()].filter((n) => n.inWaba);
  }

  isCoexistence(n: NumberState): boolean {
    return n.isOnBizApp && n.platformType === 'CLOUD_API';
  }

  /** The user known by a phone (with or without '+'), a BSUID, a parent BSUID, a username or an index. */
  user(key: string | number): UserState | undefined {
    if (typeof key === 'number' && Number.isInteger(key) && key >= 0 && key < this.users.length)
      return this.users[key];
    const k = String(key).trim();
    const digits = /^\+?[\d\s().-]+$/.test(k) ? k.replace(/\D/g, '') : null;
    return this.users.find(
      (u) =>
        (digits !== null && u.phone === digits) || u.userId === k || u.parentUserId === k || u.username === k,
    );
  }

  /** Whether webhooks about `u` carry the phone: always, unless BSUID mode hides it (a username, or a change). */
  phoneShared(u: UserState): boolean {
    return !this.bsuid.enabled || (u.username === null && !u.phoneHidden);
  }

  /**
   * The identity fields of webhooks about `u`, under the names of one payload kind (`from`/`from_user_id`,
   * `to`/`to_user_id`, `wa_id`/`user_id`…): nothing but the phone outside BSUID mode; in it the BSUID (and parent
   * BSUID when enabled), and the phone only when it may be shared (else left out, or "" with `emptyPhones`).
   */
  identityFields(
    u: UserState,
    names: { phone: string; userId?: string; parentUserId?: string },
  ): Record<string, string> {
    const out: Record<string, string> = {};
    if (this.phoneShared(u)) out[names.phone] = u.phone;
    else if (this.bsuid.emptyPhones) out[names.phone] = '';
    if (!this.bsuid.enabled) return out;
    if (names.userId) out[names.userId] = u.userId;
    if (names.parentUserId && this.bsuid.parents) out[names.parentUserId] = u.parentUserId;
    return out;
  }

  /** A `contacts[]` entry about `u` (inbound messages, echoes, statuses). */
  contactEntry(u: UserState): Record<string, unknown> {
    const profile: Record<string, string> = { name: u.fullName };
    if (this.bsuid.enabled && u.username) profile.username = u.username;
    return {
      profile,
      ...this.identityFields(u, { phone: 'wa_id', userId: 'user_id', parentUserId: 'parent_user_id' }),
    };
  }
}
