/** Auth, appsecret_proof, versions, paths, trace ids, token endpoints. */
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SEED } from '../../src/sandbox/seed.js';
import { startTestSandbox, type TestSandbox } from '../helpers/sandbox.js';
import { graph } from './util.js';

const WABA = SEED.waba.id;
const APP_TOKEN = `${SEED.app.id}|${SEED.app.secret}`;
const proof = (token: string, secret: string = SEED.app.secret) =>
  createHmac('sha256', secret).update(token).digest('hex');

let sb: TestSandbox;
let strict: TestSandbox;
beforeAll(async () => {
  sb = await startTestSandbox();
  strict = await startTestSandbox({ requireAppSecretProof: true });
});
afterAll(async () => {
  await sb.close();
  await strict.close();
});

describe('tokens', () => {
  it('accepts Authorization: Bearer and the access_token parameter', async () => {
    expect((await graph(sb.url).get(WABA)).status).toBe(200);
    expect((await graph(sb.url, { token: null }).get(`${WABA}?access_token=${SEED.token}`)).status).toBe(200);
  });

  it('refuses a missing (104), unknown (190, HTTP 401) or app token where a user token is needed (10)', async () => {
    const none = await graph(sb.url, { token: null }).get(WABA);
    expect(none.status).toBe(400);
    expect(none.body.error).toMatchObject({
      code: 104,
      type: 'OAuthException',
      message: 'An access token is required to request this resource.',
    });
    const bogus = await graph(sb.url, { token: 'EAAnotatoken000000000000000000' }).get(WABA);
    expect(bogus.status).toBe(401);
    expect(bogus.body.error).toMatchObject({
      code: 190,
      message: 'Invalid OAuth access token - Cannot parse access token',
    });
    const app = await graph(sb.url, { token: APP_TOKEN }).get(WABA);
    expect(app.status).toBe(403);
    expect(app.body.error.code).toBe(10);
    const forged = await graph(sb.url, { token: `${SEED.app.id}|wrong-secret` }).get(
      `${SEED.app.id}/subscriptions`,
    );
    expect(forged.body.error.code).toBe(190);
  });

  it('app subscriptions need the app token (15)', async () => {
    const a = await graph(sb.url).get(`${SEED.app.id}/subscriptions`);
    expect(a.body.error).toMatchObject({ code: 15 });
    expect((await graph(sb.url, { token: APP_TOKEN }).get(`${SEED.app.id}/subscriptions`)).status).toBe(200);
  });

  it('debug_token describes the system user token with granular scopes, and unknown tokens as invalid', async () => {
    const app = graph(sb.url, { token: APP_TOKEN });
    const a = await app.get(`debug_token?input_token=${SEED.token}`);
    expect(a.body.data).toMatchObject({
      app_id: SEED.app.id,
      type: 'SYSTEM_USER',
      application: SEED.app.name,
      is_valid: true,
      expires_at: 0,
      data_access_expires_at: 0,
      user_id: SEED.systemUserId,
      scopes: expect.arrayContaining([
        'whatsapp_business_management',
        'whatsapp_business_messaging',
        'business_management',
      ]),
    });
    expect(a.body.data.granular_scopes).toContainEqual({
      scope: 'whatsapp_business_management',
      target_ids: [WABA],
    });
    expect(a.body.data.granular_scopes).toContainEqual({
      scope: 'business_management',
      target_ids: [SEED.businessId],
    });
    const unknown = await app.get('debug_token?input_token=EAAwhatever00000000000000000');
    expect(unknown.body.data).toMatchObject({ is_valid: false, error: { code: 190 } });
    expect((await app.get('debug_token')).body.error.code).toBe(100);
    const self = await graph(sb.url).get(`debug_token?input_token=${SEED.token}`);
    expect(self.body.data.is_valid).toBe(true);
  });

  it('oauth/access_token with client_credentials gives the app token', async () => {
    const a = await graph(sb.url, { token: null }).get(
      `oauth/access_token?client_id=${SEED.app.id}&client_secret=${SEED.app.secret}&grant_type=client_credentials`,
    );
    expect(a.body).toEqual({ access_token: APP_TOKEN, token_type: 'bearer' });
    const wrongApp = await graph(sb.url, { token: null }).get(
      `oauth/access_token?client_id=1&client_secret=x&code=y`,
    );
    expect(wrongApp.body.error.code).toBe(101);
  });
});

describe('appsecret_proof', () => {
  it('is checked when given (hex HMAC-SHA256 of the token, or of token|appsecret_time)', async () => {
    const g = graph(sb.url);
    expect((await g.get(`${WABA}?appsecret_proof=${proof(SEED.token)}`)).status).toBe(200);
    const bad = await g.get(`${WABA}?appsecret_proof=${proof(SEED.token, 'other')}`);
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toBe('(#100) Invalid appsecret_proof provided in the API argument');
    const t = Math.floor(Date.now() / 1000);
    const timed = createHmac('sha256', SEED.app.secret).update(`${SEED.token}|${t}`).digest('hex');
    expect((await g.get(`${WABA}?appsecret_proof=${timed}&appsecret_time=${t}`)).status).toBe(200);
    const old = t - 600;
    const stale = createHmac('sha256', SEED.app.secret).update(`${SEED.token}|${old}`).digest('hex');
    expect((await g.get(`${WABA}?appsecret_proof=${stale}&appsecret_time=${old}`)).body.error.code).toBe(100);
  });

  it('is required when the app requires it (also in a JSON body)', async () => {
    const g = graph(strict.url);
    const missing = await g.get(WABA);
    expect(missing.status).toBe(400);
    expect(missing.body.error.message).toMatch(/require an appsecret_proof/);
    expect((await g.get(`${WABA}?appsecret_proof=${proof(SEED.token)}`)).status).toBe(200);
    const send = await g.post(`${SEED.phoneNumbers.coex.id}/messages`, {
      messaging_product: 'whatsapp',
      to: '+16505550090',
      type: 'template',
      template: { name: 'hello_world', language: { code: 'en_US' } },
      appsecret_proof: proof(SEED.token),
    });
    expect(send.status).toBe(200);
  });
});

describe('versions, paths and headers', () => {
  it.each(['v21.0', 'v22.0', 'v23.0', 'v24.0', 'v25.0', 'v26.0', 'v27.0'])('accepts %s', async (v) => {
    const a = await graph(sb.url, { version: v }).get(WABA);
    expect(a.status).toBe(200);
    expect(a.headers.get('facebook-api-version')).toBe(v);
  });

  it('refuses other versions and unknown paths', async () => {
    expect((await graph(sb.url, { version: 'v20.0' }).get(WABA)).body.error.code).toBe(2635);
    expect((await graph(sb.url, { version: 'v28.0' }).get(WABA)).body.error.code).toBe(2635);
    const path = await graph(sb.url).get(`${WABA}/no_such_edge`);
    expect(path.body.error).toMatchObject({
      code: 2500,
      message: `Unknown path components: /v25.0/${WABA}/no_such_edge`,
    });
    const obj = await graph(sb.url).get('1234');
    expect(obj.body.error).toMatchObject({ code: 100, error_subcode: 33, type: 'GraphMethodException' });
  });

  it('answers a unique x-fb-trace-id equal to fbtrace_id', async () => {
    const a = await graph(sb.url).get(WABA);
    const b = await graph(sb.url).get('1234');
    expect(a.headers.get('x-fb-trace-id')).toMatch(/^A[\w-]+$/);
    expect(a.headers.get('x-fb-trace-id')).not.toBe(b.headers.get('x-fb-trace-id'));
    expect(b.body.error.fbtrace_id).toBe(b.headers.get('x-fb-trace-id'));
  });

  it('exposes v24+ fields only on v24+', async () => {
    expect(
      (
        await graph(sb.url, { version: 'v24.0' }).get(
          `${WABA}?fields=whatsapp_business_manager_messaging_limit`,
        )
      ).body,
    ).toMatchObject({
      whatsapp_business_manager_messaging_limit: 'TIER_2K',
    });
    expect(
      (
        await graph(sb.url, { version: 'v23.0' }).get(
          `${WABA}?fields=whatsapp_business_manager_messaging_limit`,
        )
      ).body.error.code,
    ).toBe(100);
  });

  it('accepts form bodies like Graph', async () => {
    const a = await graph(sb.url).post(
      `${SEED.phoneNumbers.coex.id}/smb_app_data`,
      new URLSearchParams({ messaging_product: 'whatsapp', sync_type: 'smb_app_state_sync' }),
    );
    expect(a.status).toBe(200);
    expect(a.body.request_id).toMatch(/^[0-9a-f]{32}$/);
  });

  it('serves the control API: world, env lines, reset', async () => {
    const w = await sb.control('world');
    expect(w.numbers.map((n: { id: string }) => n.id)).toEqual(
      Object.values(SEED.phoneNumbers).map((p) => p.id),
    );
    const env = await (await fetch(`${sb.url}/__sandbox/env`)).text();
    expect(env).toContain(`export WACX_GRAPH_URL='${sb.url}'`);
    expect(env).toContain(`export WACX_PHONE_NUMBER_ID='${SEED.phoneNumbers.coex.id}'`);
    await graph(sb.url).del(`${WABA}/message_templates?name=hello_world`);
    await sb.control('reset', {});
    expect((await graph(sb.url).get('6000000000000001')).status).toBe(200);
  });
});
