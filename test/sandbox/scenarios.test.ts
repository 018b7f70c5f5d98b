/** Scenarios (control API and start flag), the Embedded Signup simulation and seedActivity. */
import { afterEach, describe, expect, it } from 'vitest';
import { parseScenarioSpec } from '../../src/sandbox/scenarios.js';
import { SEED } from '../../src/sandbox/seed.js';
import { startSandbox } from '../../src/sandbox/server.js';
import { startTestSandbox } from '../helpers/sandbox.js';
import { graph, orderUpdate, type Received, startReceiver } from './util.js';

const COEX = SEED.phoneNumbers.coex.id;
const PENDING = SEED.phoneNumbers.pending.id;
const WABA = SEED.waba.id;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(opts: Parameters<typeof startTestSandbox>[0] = {}) {
  const rx = await startReceiver();
  const sb = await startTestSandbox({ webhookUrl: rx.url, ...opts });
  cleanups.push(
    () => rx.close(),
    () => sb.close(),
  );
  return { rx, sb, g: graph(sb.url) };
}
const fieldOf = (r: Received) => r.body.entry[0].changes[0].field as string;
const changeValue = (r: Received) => r.body.entry[0].changes[0].value;
const accountEvents = (rx: { received: Received[] }) =>
  rx.received.filter((r) => fieldOf(r) === 'account_update').map(changeValue);

describe('scenarios', () => {
  it('history_declined: the history request is answered by one webhook with error 2593109', async () => {
    const { rx, sb, g } = await setup();
    await sb.control('scenario', { name: 'history_declined' });
    expect(
      (await g.post(`${COEX}/smb_app_data`, { messaging_product: 'whatsapp', sync_type: 'history' })).status,
    ).toBe(200);
    await sb.flush();
    const hist = rx.received.filter((r) => fieldOf(r) === 'history').map(changeValue);
    expect(hist).toHaveLength(1);
    expect(hist[0].history[0].errors[0]).toMatchObject({
      code: 2593109,
      title: 'History sync is turned off by the business from the WhatsApp Business App',
      error_data: { details: 'History sharing is turned off by the business' },
    });
  });

  it('primary_inactivity: PARTNER_REMOVED with reason PRIMARY_INACTIVITY, then sends fail', async () => {
    const { rx, sb, g } = await setup();
    await sb.control('scenario', { name: 'primary_inactivity' });
    const [ev] = accountEvents(rx);
    expect(ev).toEqual({
      phone_number: SEED.phoneNumbers.coex.e164,
      event: 'PARTNER_REMOVED',
      disconnection_info: { reason: 'PRIMARY_INACTIVITY', initiated_by: 'SYSTEM' },
    });
    expect(rx.received[0]!.body.entry[0].time).toBeTypeOf('number');
    expect((await g.post(`${COEX}/messages`, orderUpdate('+16505550040'))).body.error.code).toBe(133010);
    const node = await g.get(`${COEX}?fields=status,health_status`);
    expect(node.body.status).toBe('DISCONNECTED');
    expect(node.body.health_status.can_send_message).toBe('BLOCKED');
  });

  it('device_change: ACCOUNT_OFFBOARDED, sends fail with 133010, then ACCOUNT_RECONNECTED and sends work', async () => {
    const { rx, sb, g } = await setup();
    await sb.control('clock', { freeze: true });
    const r = await sb.control('scenario', { name: 'device_change', reconnect_after_ms: 60_000 });
    expect(r).toMatchObject({ scenario: 'device_change', applied: true, phone_number_id: COEX });
    expect(accountEvents(rx)).toEqual([{ event: 'ACCOUNT_OFFBOARDED' }]);
    const during = await g.post(`${COEX}/messages`, orderUpdate('+16505550041'));
    expect(during.status).toBe(400);
    expect(during.body.error.code).toBe(133010);
    await sb.control('clock', { advance_ms: 59_000 });
    expect(accountEvents(rx)).toHaveLength(1);
    await sb.control('clock', { advance_ms: 1000 });
    expect(accountEvents(rx)).toEqual([{ event: 'ACCOUNT_OFFBOARDED' }, { event: 'ACCOUNT_RECONNECTED' }]);
    expect((await g.post(`${COEX}/messages`, orderUpdate('+16505550041'))).status).toBe(200);
  });

  it('token_revoked: 190 for the revoked token, debug_token says invalid, other tokens keep working', async () => {
    const { sb, g } = await setup();
    await sb.control('scenario', { name: 'token_revoked' });
    const a = await g.get(WABA);
    expect(a.status).toBe(401);
    expect(a.body.error).toMatchObject({ code: 190, error_subcode: 460, type: 'OAuthException' });
    expect((await g.post(`${COEX}/messages`, orderUpdate('+16505550042'))).body.error.code).toBe(190);
    const appToken = `${SEED.app.id}|${SEED.app.secret}`;
    const dbg = await graph(sb.url, { token: appToken }).get(`debug_token?input_token=${SEED.token}`);
    expect(dbg.body.data).toMatchObject({ is_valid: false, error: { code: 190 } });
    // a business token from Embedded Signup is unaffected
    const loc = (
      await graph(sb.url, { token: null }).get(
        `dialog/oauth?client_id=${SEED.app.id}&redirect_uri=https%3A%2F%2Fx.example%2Fcb&state=s`,
      )
    ).headers.get('location')!;
    const code = new URL(loc).searchParams.get('code')!;
    const tok = await graph(sb.url, { token: null }).get(
      `oauth/access_token?client_id=${SEED.app.id}&client_secret=${SEED.app.secret}&code=${code}`,
    );
    expect((await graph(sb.url, { token: tok.body.access_token }).get(WABA)).status).toBe(200);
  });

  it('template_paused mid-campaign: sends succeed until the pause, then 132015 and a PAUSED webhook', async () => {
    const { rx, sb, g } = await setup();
    await sb.control(`numbers/${COEX}`, { pair_limit: false, mps: 1000 });
    const r = await sb.control('scenario', {
      name: 'template_paused',
      template: 'order_update',
      language: 'en_US',
      after_sends: 3,
    });
    expect(r).toMatchObject({ templates: ['6000000000000002'], after_sends: 3 });
    const codes: (number | string)[] = [];
    for (let i = 0; i < 5; i++) {
      const a = await g.post(`${COEX}/messages`, orderUpdate(`+165055500${50 + i}`, `camp:${i}`));
      codes.push(a.status === 200 ? 'ok' : a.body.error.code);
    }
    expect(codes).toEqual(['ok', 'ok', 'ok', 132015, 132015]);
    await sb.flush();
    const paused = rx.received
      .filter((x) => fieldOf(x) === 'message_template_status_update')
      .map(changeValue);
    expect(paused[0]).toMatchObject({
      event: 'PAUSED',
      message_template_name: 'order_update',
      message_template_language: 'en_US',
      other_info: { title: 'FIRST_PAUSE' },
    });
    expect((await g.get('6000000000000002?fields=status,quality_score')).body).toMatchObject({
      status: 'PAUSED',
      quality_score: { score: 'RED' },
    });
    // the pt_BR translation was not targeted
    expect((await g.get('6000000000000003?fields=status')).body.status).toBe('APPROVED');
  });

  it('template_paused from the start flag (--scenario template_paused:name=…,after_sends=…)', async () => {
    const { sb, g } = await setup({ scenario: 'template_paused:name=order_update,after_sends=1' });
    expect((await g.post(`${COEX}/messages`, orderUpdate('+16505550058'))).status).toBe(200);
    expect((await g.post(`${COEX}/messages`, orderUpdate('+16505550059'))).body.error.code).toBe(132015);
    expect(sb).toBeDefined();
  });

  it('template_paused at once through the control API', async () => {
    const { sb, g } = await setup();
    const r = await fetch(`${sb.url}/__sandbox/scenario`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'template_paused', params: { name: 'hello_world' } }),
    });
    expect(r.status).toBe(200);
    expect(
      (
        await g.post(`${COEX}/messages`, {
          messaging_product: 'whatsapp',
          to: '+16505550060',
          type: 'template',
          template: { name: 'hello_world', language: { code: 'en_US' } },
        })
      ).body.error.code,
    ).toBe(132015);
  });

  it('faults: a share of 5xx answers', async () => {
    const { sb, g } = await setup();
    await sb.control('scenario', { name: 'faults', error_rate: 1 });
    const a = await g.get(WABA);
    expect(a.status).toBe(503);
    expect(a.body.error).toMatchObject({ code: 2, is_transient: true });
    await sb.control('scenario', { name: 'faults', error_rate: 0.3 });
    let failed = 0;
    for (let i = 0; i < 200; i++) if ((await g.get(WABA)).status === 503) failed++;
    expect(failed).toBeGreaterThan(30);
    expect(failed).toBeLessThan(90);
    await sb.control('scenario', { name: 'none' });
    expect((await g.get(WABA)).status).toBe(200);
  });

  it('faults: connection resets after the request was read (the send took effect) or before', async () => {
    const { sb, g } = await setup();
    await sb.control(`numbers/${COEX}`, { pair_limit: false });
    await sb.control('scenario', { name: 'faults', reset_rate: 1, path: '/messages' });
    await expect(g.post(`${COEX}/messages`, orderUpdate('+16505550070', 'reset:after'))).rejects.toThrow();
    expect(
      (await sb.control('messages?to=16505550070')).map((m: { callback_data: string }) => m.callback_data),
    ).toEqual(['reset:after']);
    expect((await g.get(WABA)).status).toBe(200); // other paths unaffected
    await sb.control('scenario', { name: 'faults', reset_rate: 1, reset_mode: 'before' });
    await expect(g.post(`${COEX}/messages`, orderUpdate('+16505550071', 'reset:before'))).rejects.toThrow();
    expect(await sb.control('messages?to=16505550071')).toEqual([]);
  });

  it('faults: added latency', async () => {
    const { sb, g } = await setup();
    await sb.control('scenario', { name: 'faults', latency_ms: 150 });
    const t0 = performance.now();
    expect((await g.get(WABA)).status).toBe(200);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(145);
  });

  it('app_unsubscribed: nothing is delivered, and subscribed_apps is empty', async () => {
    const { rx, sb, g } = await setup();
    await sb.control('scenario', { name: 'app_unsubscribed' });
    expect((await g.get(`${WABA}/subscribed_apps`)).body).toEqual({ data: [] });
    await g.post(`${COEX}/messages`, orderUpdate('+16505550080'));
    await sb.flush();
    expect(rx.received).toHaveLength(0);
    const log = await sb.control('webhooks?field=messages');
    expect(log.length).toBe(3);
    for (const d of log)
      expect(d).toMatchObject({
        state: 'skipped',
        skipped: expect.stringMatching(/not subscribed to the WABA/),
      });
  });

  it('missing_webhook_fields: history/smb fields are gone, messages still arrive', async () => {
    const { rx, sb, g } = await setup();
    const r = await sb.control('scenario', { name: 'missing_webhook_fields' });
    expect(r.fields).not.toContain('history');
    const subs = await graph(sb.url, { token: `${SEED.app.id}|${SEED.app.secret}` }).get(
      `${SEED.app.id}/subscriptions`,
    );
    expect(subs.body.data[0].fields.map((f: { name: string }) => f.name)).not.toEqual(
      expect.arrayContaining(['history']),
    );
    await g.post(`${COEX}/smb_app_data`, { messaging_product: 'whatsapp', sync_type: 'history' });
    await g.post(`${COEX}/messages`, orderUpdate('+16505550081'));
    await sb.flush();
    expect(new Set(rx.received.map(fieldOf))).toEqual(new Set(['messages']));
    const skipped = (await sb.control('webhooks?field=history')) as { skipped: string }[];
    expect(skipped.length).toBe(8);
    expect(skipped[0]!.skipped).toMatch(/field history/);
  });

  it('unknown scenarios and bad parameters are refused', async () => {
    const { sb } = await setup();
    await expect(sb.control('scenario', { name: 'nope' })).rejects.toThrow(/unknown scenario/);
    await expect(sb.control('scenario', { name: 'faults', error_rate: 2 })).rejects.toThrow(
      /between 0 and 1/,
    );
    await expect(startSandbox({ scenario: 'bogus' })).rejects.toThrow(/unknown scenario/);
  });

  it('parses the --scenario spec', () => {
    expect(parseScenarioSpec('history_declined')).toEqual({ name: 'history_declined', params: {} });
    expect(parseScenarioSpec('template_paused:order_update')).toEqual({
      name: 'template_paused',
      params: { name: 'order_update' },
    });
    expect(parseScenarioSpec('faults:error_rate=0.1,latency_ms=50,path=/messages')).toEqual({
      name: 'faults',
      params: { error_rate: 0.1, latency_ms: 50, path: '/messages' },
    });
  });
});

describe('Embedded Signup simulation', () => {
  const dialog = (sbUrl: string, q: Record<string, string>) =>
    graph(sbUrl, { token: null }).get(`dialog/oauth?${new URLSearchParams(q)}`);
  const base = {
    client_id: SEED.app.id,
    redirect_uri: 'https://partner.example/callback?src=qr',
    config_id: SEED.configId,
    state: 'st-123',
    response_type: 'code',
    extras: JSON.stringify({
      setup: {},
      featureType: 'whatsapp_business_app_onboarding',
      sessionInfoVersion: '3',
    }),
  };

  it('a GET of the dialog URL onboards the pending number, sends PARTNER_ADDED and redirects with code and state', async () => {
    const { rx, sb, g } = await setup();
    expect((await g.get(`${WABA}/phone_numbers`)).body.data.map((n: { id: string }) => n.id)).not.toContain(
      PENDING,
    );
    const a = await dialog(sb.url, base);
    expect(a.status).toBe(302);
    const loc = new URL(a.headers.get('location')!);
    expect(`${loc.origin}${loc.pathname}`).toBe('https://partner.example/callback');
    expect(loc.searchParams.get('src')).toBe('qr');
    expect(loc.searchParams.get('state')).toBe('st-123');
    const code = loc.searchParams.get('code')!;
    expect(code).toMatch(/^AQ/);
    // the session-logging event a launch page would receive: which WABA and number this signup onboarded
    expect(JSON.parse(loc.searchParams.get('session_info')!)).toEqual({
      type: 'WA_EMBEDDED_SIGNUP',
      event: 'FINISH_WHATSAPP_BUSINESS_APP_ONBOARDING',
      version: 3,
      data: { waba_id: WABA, phone_number_id: PENDING },
    });
    expect(accountEvents(rx)).toEqual([
      { event: 'PARTNER_ADDED', waba_info: { waba_id: WABA, owner_business_id: SEED.businessId } },
    ]);
    const node = await g.get(`${PENDING}?fields=is_on_biz_app,platform_type,status,last_onboarded_time`);
    expect(node.body).toMatchObject({ is_on_biz_app: true, platform_type: 'CLOUD_API', status: 'CONNECTED' });
    expect(
      Math.abs(Date.parse(node.body.last_onboarded_time.replace('+0000', 'Z')) - Date.now()),
    ).toBeLessThan(5000);
    expect((await g.get(`${WABA}/phone_numbers`)).body.data.map((n: { id: string }) => n.id)).toContain(
      PENDING,
    );
    // exchange -> business token scoped to the WABA
    const tok = await graph(sb.url, { token: null }).get(
      `oauth/access_token?client_id=${SEED.app.id}&client_secret=${SEED.app.secret}&code=${code}&redirect_uri=${encodeURIComponent(base.redirect_uri)}`,
    );
    expect(tok.status).toBe(200);
    const dbg = await graph(sb.url, { token: `${SEED.app.id}|${SEED.app.secret}` }).get(
      `debug_token?input_token=${tok.body.access_token}`,
    );
    expect(dbg.body.data).toMatchObject({
      app_id: SEED.app.id,
      type: 'SYSTEM_USER',
      is_valid: true,
      expires_at: 0,
    });
    expect(dbg.body.data.granular_scopes).toEqual(
      expect.arrayContaining([
        { scope: 'whatsapp_business_management', target_ids: [WABA] },
        { scope: 'whatsapp_business_messaging', target_ids: [WABA] },
      ]),
    );
    const biz = graph(sb.url, { token: tok.body.access_token });
    expect((await biz.get('me?fields=client_business_id')).body.client_business_id).toBe(SEED.businessId);
    expect(
      (
        await biz.post(`${PENDING}/smb_app_data`, {
          messaging_product: 'whatsapp',
          sync_type: 'smb_app_state_sync',
        })
      ).status,
    ).toBe(200);
    expect(
      (await biz.post(`${PENDING}/register`, { messaging_product: 'whatsapp', pin: '123456' })).body.error
        .code,
    ).toBe(100);
  });

  it('refuses a bad app id, config id or redirect_uri; a different redirect_uri at exchange; signup_declined redirects with an error', async () => {
    const { sb } = await setup();
    expect((await dialog(sb.url, { ...base, client_id: '42' })).status).toBe(400);
    expect((await dialog(sb.url, { ...base, config_id: '42' })).status).toBe(400);
    expect((await dialog(sb.url, { ...base, redirect_uri: 'not a url' })).status).toBe(400);
    const a = await dialog(sb.url, base);
    const code = new URL(a.headers.get('location')!).searchParams.get('code')!;
    const wrong = await graph(sb.url, { token: null }).get(
      `oauth/access_token?client_id=${SEED.app.id}&client_secret=${SEED.app.secret}&code=${code}&redirect_uri=${encodeURIComponent('https://other.example/')}`,
    );
    expect(wrong.body.error).toMatchObject({ code: 100, error_subcode: 36008 });
    const badSecret = await graph(sb.url, { token: null }).get(
      `oauth/access_token?client_id=${SEED.app.id}&client_secret=nope&code=${code}`,
    );
    expect(badSecret.body.error.message).toBe('Error validating client secret.');
    await sb.control('scenario', { name: 'signup_declined' });
    const declined = new URL((await dialog(sb.url, base)).headers.get('location')!);
    expect(declined.searchParams.get('error')).toBe('access_denied');
    expect(declined.searchParams.get('state')).toBe('st-123');
    expect(declined.searchParams.get('code')).toBeNull();
  });
});

describe('seedActivity', () => {
  it('emits PARTNER_ADDED, contact sync, history to progress 100 and an echo before start returns', async () => {
    const rx = await startReceiver();
    const sb = await startSandbox({ quiet: true, seedActivity: true, webhookUrl: rx.url });
    cleanups.push(
      () => rx.close(),
      () => sb.close(),
    );
    const fields = rx.received.map(fieldOf);
    expect(fields[0]).toBe('account_update');
    expect(fields.filter((f) => f === 'smb_app_state_sync')).toHaveLength(1);
    expect(fields.filter((f) => f === 'history')).toHaveLength(8);
    expect(fields.at(-1)).toBe('smb_message_echoes');
    const progress = rx.received
      .filter((r) => fieldOf(r) === 'history' && changeValue(r).history)
      .map((r) => changeValue(r).history[0].metadata.progress);
    expect(Math.max(...progress)).toBe(100);
    // the syncs count as requested
    const again = await graph(sb.url).post(`${COEX}/smb_app_data`, {
      messaging_product: 'whatsapp',
      sync_type: 'history',
    });
    expect(again.body.error.code).toBe(2593107);
  });
});
