/** Tokens: the Embedded Signup dialog simulation, the code exchange, debug_token. */
import { randomBytes } from 'node:crypto';
import { partnerAdded } from './activity.js';
import type { Ctx, Result, SandboxCore } from './core.js';
import { gerr } from './errors.js';
import { strParam } from './http.js';
import { SEED } from './seed.js';
import type { TokenState } from './world.js';

export const CODE_TTL_MS = 30_000;

function page(title: string, text: string): string {
  const esc = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!doctype html><html><head><meta charset="utf-8"><title>${esc(title)}</title></head><body><h1>${esc(title)}</h1><p>${esc(text)}</p></body></html>`;
}

function withParams(uri: string, params: Record<string, string>): string {
  const u = new URL(uri);
  for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
  return u.toString();
}

/**
 * `GET /{version}/dialog/oauth` — "scanning" the Embedded Signup QR code. Completes the signup of the
 * pending Business-App number (or `sandbox_phone_number_id`), delivers PARTNER_ADDED and redirects to
 * redirect_uri with a single-use code (30 s), the state and `session_info`: the WA_EMBEDDED_SIGNUP
 * session-logging event Meta posts to the page that launched the signup (there is no such page here, so the
 * redirect carries it, as a launch page forwarding it would).
 */
export async function dialog(core: SandboxCore, ctx: Ctx): Promise<Result> {
  const q = ctx.req.query;
  if (q.client_id !== SEED.app.id) {
    return {
      status: 400,
      html: page('Invalid App ID', `The app id ${q.client_id ?? '(none)'} is not known to the sandbox.`),
    };
  }
  const redirect = q.redirect_uri;
  let redirectOk = false;
  try {
    redirectOk = Boolean(redirect) && /^https?:$/.test(new URL(redirect!).protocol);
  } catch {
    redirectOk = false;
  }
  if (!redirectOk) {
    return { status: 400, html: page('URL blocked', 'redirect_uri is missing or not a valid http(s) URL.') };
  }
  if (q.config_id !== undefined && q.config_id !== SEED.configId) {
    return {
      status: 400,
      html: page('Invalid configuration', `The configuration ${q.config_id} does not exist.`),
    };
  }
  if ((q.response_type ?? 'code') !== 'code') {
    return {
      status: 400,
      html: page('Unsupported response_type', 'The sandbox supports response_type=code only.'),
    };
  }
  const state = q.state ?? '';
  if (core.scenarios.signupDeclined) {
    return {
      redirect: withParams(redirect!, {
        error: 'access_denied',
        error_code: '200',
        error_description: 'Permissions error',
        error_reason: 'user_denied',
        state,
      }),
    };
  }
  const numberId = q.sandbox_phone_number_id ?? SEED.phoneNumbers.pending.id;
  const n = core.world.numbers.get(numberId);
  if (!n)
    return {
      status: 400,
      html: page('Unknown number', `Phone number ${numberId} does not exist in the sandbox.`),
    };
  const now = core.clock.now();
  n.inWaba = true;
  n.isOnBizApp = true;
  n.platformType = 'CLOUD_API';
  n.status = 'CONNECTED';
  n.offboarded = false;
  n.lastOnboardedTime = now;
  n.syncRequests.clear();
  partnerAdded(core);
  // PARTNER_ADDED is delivered before the browser is redirected (keeps onboarding flows deterministic)
  await core.webhooks.idle();
  const code = `AQ${randomBytes(24).toString('base64url')}`;
  core.world.codes.set(code, {
    code,
    createdAt: now,
    used: false,
    redirectUri: redirect!,
    phoneNumberId: n.id,
  });
  core.log(`embedded signup completed for ${n.display}; redirecting with a code`);
  const session = {
    type: 'WA_EMBEDDED_SIGNUP',
    event: 'FINISH_WHATSAPP_BUSINESS_APP_ONBOARDING',
    version: 3,
    data: { waba_id: SEED.waba.id, phone_number_id: n.id },
  };
  return { redirect: withParams(redirect!, { code, state, session_info: JSON.stringify(session) }) };
}

/** `GET|POST /oauth/access_token`: code exchange (single use, 30 s) or client_credentials (app token). */
export function accessToken(core: SandboxCore, ctx: Ctx): Result {
  const req = ctx.req;
  const clientId = strParam(req, 'client_id');
  const secret = strParam(req, 'client_secret');
  if (clientId !== SEED.app.id) {
    throw gerr(101, 'Error validating application. Invalid application ID.', { bare: true });
  }
  if (secret !== core.appSecret) throw gerr(1, 'Error validating client secret.', { bare: true });
  if (strParam(req, 'grant_type') === 'client_credentials') {
    return { json: { access_token: `${SEED.app.id}|${core.appSecret}`, token_type: 'bearer' } };
  }
  const code = strParam(req, 'code');
  if (!code) throw gerr(100, 'The parameter code is required');
  const c = core.world.codes.get(code);
  if (!c) throw gerr(100, 'Invalid verification code format.', { bare: true, subcode: 36009 });
  if (c.used) throw gerr(100, 'This authorization code has been used.', { bare: true, subcode: 36009 });
  if (core.clock.now() - c.createdAt > CODE_TTL_MS) {
    throw gerr(100, 'This authorization code has expired.', { bare: true, subcode: 36007 });
  }
  const redirect = strParam(req, 'redirect_uri');
  if (redirect !== undefined && redirect !== c.redirectUri) {
    throw gerr(
      100,
      'Error validating verification code. Please make sure your redirect_uri is identical to the one you used in the OAuth dialog request',
      { bare: true, subcode: 36008 },
    );
  }
  c.used = true;
  const token = `EAASANDBOXBIZ${randomBytes(24).toString('base64url').replace(/[-_]/g, 'x')}`;
  const state: TokenState = {
    token,
    kind: 'business',
    userId: `71${randomBytes(8).readBigUInt64BE(0).toString().slice(0, 14).padStart(14, '0')}`,
    scopes: ['whatsapp_business_management', 'whatsapp_business_messaging'],
    targets: { waba: [SEED.waba.id], business: [SEED.businessId] },
    issuedAt: core.clock.now(),
    revoked: false,
  };
  core.world.tokens.set(token, state);
  return { json: { access_token: token, token_type: 'bearer' } };
}

export function tokenInfo(core: SandboxCore, input: string): Record<string, unknown> {
  if (input === `${SEED.app.id}|${core.appSecret}`) {
    return { app_id: SEED.app.id, type: 'APP', application: SEED.app.name, is_valid: true, scopes: [] };
  }
  const t = core.world.tokens.get(input);
  if (!t) {
    return { error: { code: 190, message: 'Invalid OAuth access token.' }, is_valid: false, scopes: [] };
  }
  const granular: { scope: string; target_ids: string[] }[] = [];
  for (const scope of t.scopes) {
    granular.push({
      scope,
      target_ids: scope === 'business_management' ? t.targets.business : t.targets.waba,
    });
  }
  const data: Record<string, unknown> = {
    app_id: SEED.app.id,
    type: 'SYSTEM_USER',
    application: SEED.app.name,
    data_access_expires_at: 0,
    expires_at: 0,
    is_valid: !t.revoked,
    issued_at: Math.floor(t.issuedAt / 1000),
    scopes: t.scopes,
    granular_scopes: granular,
    user_id: t.userId,
  };
  if (t.revoked) {
    data.error = {
      code: 190,
      message:
        'Error validating access token: The session has been invalidated because the user changed their password or Facebook has changed the session for security reasons.',
      subcode: 460,
    };
  }
  return data;
}

/** `GET /debug_token?input_token=…` (access_token = app token or any valid token). */
export function debugToken(core: SandboxCore, ctx: Ctx): Result {
  core.authenticate(ctx, 'allowed');
  const input = strParam(ctx.req, 'input_token');
  if (!input) throw gerr(100, 'The parameter input_token is required');
  return { json: { data: tokenInfo(core, input) } };
}
