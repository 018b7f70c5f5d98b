/** Phone numbers, the WABA, subscriptions, smb_app_data, register/deregister, the business, /me. */
import { randomUUID } from 'node:crypto';
import { scheduleSync } from './activity.js';
import type { Ctx, Result, SandboxCore } from './core.js';
import { gerr, invalidParam, unknownObject } from './errors.js';
import {
  PHONE_DEFAULT_FIELDS,
  PHONE_LIST_DEFAULT_FIELDS,
  parseFields,
  renderPhone,
  WABA_DEFAULT_FIELDS,
  wabaField,
} from './fields.js';
import { jsonParam, strParam } from './http.js';
import { paginate } from './paging.js';
import { SEED } from './seed.js';
import { ALL_WEBHOOK_FIELDS, type NumberState } from './world.js';

const ok = (): Result => ({ json: { success: true } });

// ---------------------------------------------------------------- phone number node

export function getPhone(core: SandboxCore, ctx: Ctx, n: NumberState): Result {
  core.authenticate(ctx);
  core.countManagement(ctx, SEED.waba.id);
  const fields = parseFields(ctx.req.query.fields, PHONE_DEFAULT_FIELDS);
  return { json: renderPhone(core, n, fields, ctx.version) };
}

/** `POST /{phone-number-id}` with `webhook_configuration` (override callback, verified first). */
export async function postPhone(core: SandboxCore, ctx: Ctx, n: NumberState): Promise<Result> {
  core.authenticate(ctx);
  const cfg = jsonParam(ctx.req, 'webhook_configuration');
  if (cfg === undefined) {
    throw invalidParam('The sandbox supports updating webhook_configuration on a phone number.');
  }
  if (!cfg || typeof cfg !== 'object') throw invalidParam('webhook_configuration must be an object');
  const c = cfg as Record<string, unknown>;
  const uri = typeof c.override_callback_uri === 'string' ? c.override_callback_uri : '';
  if (!uri) {
    n.webhookOverride = null;
    return ok();
  }
  if (uri.length > 200) throw invalidParam('override_callback_uri must be at most 200 characters');
  const verifyToken = typeof c.verify_token === 'string' ? c.verify_token : '';
  const v = await core.webhooks.verifyCallback(uri, verifyToken);
  if (!v.ok) throw gerr(2200, `Callback verification failed with the following errors: ${v.reason}`);
  n.webhookOverride = { uri, verifyToken };
  return ok();
}

// ---------------------------------------------------------------- smb_app_data

export function smbAppData(core: SandboxCore, ctx: Ctx, n: NumberState): Result {
  core.authenticate(ctx);
  const product = strParam(ctx.req, 'messaging_product');
  if (product !== 'whatsapp') throw invalidParam('messaging_product must be "whatsapp"');
  const type = strParam(ctx.req, 'sync_type');
  if (type !== 'smb_app_state_sync' && type !== 'history') {
    throw invalidParam(
      `sync_type must be smb_app_state_sync or history, got ${JSON.stringify(type ?? null)}`,
    );
  }
  if (!core.world.isCoexistence(n) || n.offboarded) {
    throw invalidParam(
      'This phone number is not onboarded with the WhatsApp Business app (coexistence); smb_app_data is only available for coexistence numbers.',
    );
  }
  if (n.syncRequests.has(type)) {
    throw gerr(2593107, 'Synchronization request limit exceeded', {
      details: `The ${type} synchronization was already requested for this phone number. Offboard and onboard again to sync again.`,
    });
  }
  const onboarded = n.lastOnboardedTime ?? 0;
  if (core.clock.now() - onboarded > 24 * 3_600_000) {
    throw gerr(2593108, 'Synchronization request made outside of allowed time window', {
      details: 'Synchronization can only be requested within 24 hours of onboarding.',
    });
  }
  const requestId = randomUUID().replace(/-/g, '');
  n.syncRequests.set(type, { requestId, at: core.clock.now() });
  scheduleSync(core, n, type);
  return { json: { messaging_product: 'whatsapp', request_id: requestId } };
}

// ---------------------------------------------------------------- register / deregister

function coexRefusal(n: NumberState, action: string) {
  return gerr(100, 'Invalid parameter', {
    details: `Phone number ${n.display} is in use with the WhatsApp Business app (coexistence); it cannot be ${action} through the Cloud API. Use the App (Settings > Account > Business Platform) to disconnect.`,
    userTitle: `Cannot ${action === 'registered' ? 'register' : 'deregister'} a coexistence number`,
  });
}

function registrationBudget(core: SandboxCore, n: NumberState): void {
  const now = core.clock.now();
  n.registrationCalls = n.registrationCalls.filter((t) => now - t < 72 * 3_600_000);
  if (n.registrationCalls.length >= 10) {
    throw gerr(133016, 'Account register deregister rate limit exceeded', {
      details: 'At most 10 register/deregister calls per phone number in 72 hours.',
    });
  }
  n.registrationCalls.push(now);
}

export function register(core: SandboxCore, ctx: Ctx, n: NumberState): Result {
  core.authenticate(ctx);
  if (n.isOnBizApp) throw coexRefusal(n, 'registered');
  if (strParam(ctx.req, 'messaging_product') !== 'whatsapp')
    throw invalidParam('messaging_product must be "whatsapp"');
  const pin = strParam(ctx.req, 'pin');
  if (!pin || !/^\d{6}$/.test(pin)) throw invalidParam('pin must be a 6-digit number');
  registrationBudget(core, n);
  n.platformType = 'CLOUD_API';
  n.status = 'CONNECTED';
  return ok();
}

export function deregister(core: SandboxCore, ctx: Ctx, n: NumberState): Result {
  core.authenticate(ctx);
  if (n.isOnBizApp) throw coexRefusal(n, 'deregistered');
  registrationBudget(core, n);
  n.platformType = 'NOT_APPLICABLE';
  n.status = 'DISCONNECTED';
  return ok();
}

// ---------------------------------------------------------------- WABA

export function getWaba(core: SandboxCore, ctx: Ctx): Result {
  core.authenticate(ctx);
  core.countManagement(ctx, SEED.waba.id);
  const fields = parseFields(ctx.req.query.fields, WABA_DEFAULT_FIELDS);
  const out: Record<string, unknown> = {};
  for (const f of fields) {
    const v = wabaField(core, f, ctx.version);
    if (v !== undefined) out[f] = v;
  }
  return { json: out };
}

export function listPhoneNumbers(core: SandboxCore, ctx: Ctx): Result {
  core.authenticate(ctx);
  core.countManagement(ctx, SEED.waba.id);
  const fields = parseFields(ctx.req.query.fields, PHONE_LIST_DEFAULT_FIELDS);
  let numbers = core.world.wabaNumbers();
  const sort = ctx.req.query.sort ?? '';
  if (sort.includes('last_onboarded_time')) {
    const dir = sort.includes('ascending') ? 1 : -1;
    numbers = [...numbers].sort((a, b) => dir * ((a.lastOnboardedTime ?? 0) - (b.lastOnboardedTime ?? 0)));
  }
  return { json: paginate(core, ctx, numbers, (n) => renderPhone(core, n, fields, ctx.version), 25) };
}

export async function subscribedApps(core: SandboxCore, ctx: Ctx): Promise<Result> {
  core.authenticate(ctx);
  core.countManagement(ctx, SEED.waba.id);
  const apps = core.world.subscribedApps;
  const method = ctx.req.method;
  if (method === 'GET') {
    const data = [...apps.entries()].map(([id, o]) => {
      const item: Record<string, unknown> = {
        whatsapp_business_api_data: {
          id,
          link: `https://www.facebook.com/games/?app_id=${id}`,
          name: id === SEED.app.id ? SEED.app.name : id,
        },
      };
      if (o.overrideCallbackUri) item.override_callback_uri = o.overrideCallbackUri;
      return item;
    });
    return { json: { data } };
  }
  if (method === 'POST') {
    const uri = strParam(ctx.req, 'override_callback_uri');
    const verifyToken = strParam(ctx.req, 'verify_token') ?? '';
    if (uri) {
      if (uri.length > 200) throw invalidParam('override_callback_uri must be at most 200 characters');
      const v = await core.webhooks.verifyCallback(uri, verifyToken);
      if (!v.ok) throw gerr(2200, `Callback verification failed with the following errors: ${v.reason}`);
    }
    apps.set(SEED.app.id, { overrideCallbackUri: uri ?? null, verifyToken: uri ? verifyToken : null });
    return ok();
  }
  if (method === 'DELETE') {
    apps.delete(SEED.app.id);
    return ok();
  }
  throw unknownObject(SEED.waba.id, method);
}

// ---------------------------------------------------------------- app

export function getApp(core: SandboxCore, ctx: Ctx): Result {
  core.authenticate(ctx, 'allowed');
  return {
    json: {
      id: SEED.app.id,
      name: SEED.app.name,
      link: `https://www.facebook.com/games/?app_id=${SEED.app.id}`,
    },
  };
}

function splitFields(v: unknown): string[] {
  if (Array.isArray(v))
    return v
      .map(String)
      .map((s) => s.trim())
      .filter(Boolean);
  if (typeof v === 'string') {
    const t = v.trim();
    if (t.startsWith('[')) {
      try {
        return splitFields(JSON.parse(t));
      } catch {
        // fall through
      }
    }
    return t
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  }
  return [];
}

/** `GET|POST|DELETE /{app-id}/subscriptions` with the app token `APP_ID|APP_SECRET`. */
export async function appSubscriptions(core: SandboxCore, ctx: Ctx): Promise<Result> {
  core.authenticate(ctx, 'only');
  const w = core.world;
  const method = ctx.req.method;
  if (method === 'GET') {
    const s = w.appSubscription;
    const data = s
      ? [
          {
            object: s.object,
            callback_url: s.callbackUrl,
            active: s.active,
            fields: s.fields.map((name) => ({ name, version: ctx.version })),
          },
        ]
      : [];
    return { json: { data } };
  }
  if (method === 'POST') {
    const object = strParam(ctx.req, 'object');
    if (object !== 'whatsapp_business_account') {
      throw invalidParam('object must be "whatsapp_business_account"');
    }
    const callbackUrl = strParam(ctx.req, 'callback_url') ?? w.appSubscription?.callbackUrl;
    if (!callbackUrl) throw invalidParam('callback_url is required');
    const verifyToken = strParam(ctx.req, 'verify_token') ?? '';
    const fields = splitFields(ctx.req.body.fields ?? ctx.req.query.fields);
    if (fields.length === 0) throw invalidParam('fields is required');
    const unknown = fields.filter((f) => !ALL_WEBHOOK_FIELDS.includes(f) && !KNOWN_EXTRA_FIELDS.has(f));
    if (unknown.length > 0) throw invalidParam(`Unknown webhook field(s): ${unknown.join(', ')}`);
    const v = await core.webhooks.verifyCallback(callbackUrl, verifyToken);
    if (!v.ok) throw gerr(2200, `Callback verification failed with the following errors: ${v.reason}`);
    const prev =
      w.appSubscription && w.appSubscription.callbackUrl === callbackUrl ? w.appSubscription.fields : [];
    w.appSubscription = {
      object,
      callbackUrl,
      verifyToken,
      fields: [...new Set([...prev, ...fields])],
      active: true,
    };
    return ok();
  }
  if (method === 'DELETE') {
    const fields = splitFields(ctx.req.query.fields ?? ctx.req.body.fields);
    if (fields.length === 0 || !w.appSubscription) w.appSubscription = null;
    else w.appSubscription.fields = w.appSubscription.fields.filter((f) => !fields.includes(f));
    return ok();
  }
  throw unknownObject(SEED.app.id, method);
}

const KNOWN_EXTRA_FIELDS = new Set([
  'account_alerts',
  'account_review_update',
  'business_capability_update',
  'business_status_update',
  'flows',
  'message_echoes',
  'partner_solutions',
  'payment_configuration_update',
  'security',
  'template_correct_category_detection',
  'message_template_components_update',
  'message_template_quality_update',
  'calls',
  'automatic_events',
  // Meta Business Agent (meta-cloud-api.md §15.5)
  'standby',
  'messaging_handovers',
]);

// ---------------------------------------------------------------- business & me

export function getBusiness(core: SandboxCore, ctx: Ctx): Result {
  core.authenticate(ctx);
  return { json: { id: SEED.businessId, name: 'Lucky Shrub', verification_status: 'verified' } };
}

export function businessWabas(core: SandboxCore, ctx: Ctx): Result {
  core.authenticate(ctx);
  const items = [{ id: SEED.waba.id }];
  return {
    json: paginate(core, ctx, items, () => ({
      id: SEED.waba.id,
      name: SEED.waba.name,
      timezone_id: '1',
      message_template_namespace: SEED.waba.namespace,
    })),
  };
}

export function me(core: SandboxCore, ctx: Ctx): Result {
  const auth = core.authenticate(ctx, 'allowed');
  if (auth.kind === 'app') return { json: { id: SEED.app.id, name: SEED.app.name } };
  const fields = parseFields(ctx.req.query.fields, ['id', 'name']);
  const out: Record<string, unknown> = {};
  for (const f of fields) {
    if (f === 'id') out.id = auth.token.userId;
    else if (f === 'name')
      out.name = auth.token.kind === 'system' ? 'wacx sandbox system user' : 'Business integration user';
    else if (f === 'client_business_id') out.client_business_id = SEED.businessId;
    else throw gerr(100, `Tried accessing nonexisting field (${f}) on node type (User)`);
  }
  return { json: out };
}
