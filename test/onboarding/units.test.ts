import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { FakeClock, systemClock } from '../../src/lib/clock.js';
import { CancelledError } from '../../src/lib/errors.js';
import type { Graph } from '../../src/lib/graph/graph.js';
import type { PhoneNumber } from '../../src/lib/graph/types.js';
import type { Prompter } from '../../src/lib/io/prompter.js';
import {
  buildSignupUrl,
  dialogBaseFor,
  discover,
  isFinished,
  type OnboardContext,
  type OnboardEvent,
  OnboardingState,
  type OnboardOptions,
  parseSessionInfo,
  REQUIRED_WEBHOOK_FIELDS,
  runOnboarding,
  STEPS,
  startCallbackServer,
  webhookFieldsFix,
} from '../../src/lib/onboarding/run.js';
import { Store } from '../../src/lib/store/store.js';
import { describeBackends } from '../helpers/backends.js';

function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    request(url, { agent: false }, (res) => {
      let body = '';
      res.on('data', (d) => {
        body += d;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    })
      .on('error', reject)
      .end();
  });
}

describe('signup URL', () => {
  it('is the manual OAuth dialog with the Business-App onboarding extras', () => {
    const url = new URL(
      buildSignupUrl({
        dialogBase: 'https://www.facebook.com',
        apiVersion: 'v25.0',
        appId: '111',
        configId: '222',
        redirectUri: 'http://127.0.0.1:5555/callback',
        state: 'st4te',
      }),
    );
    expect(url.origin + url.pathname).toBe('https://www.facebook.com/v25.0/dialog/oauth');
    const q = Object.fromEntries(url.searchParams);
    expect(q).toEqual({
      client_id: '111',
      redirect_uri: 'http://127.0.0.1:5555/callback',
      config_id: '222',
      response_type: 'code',
      override_default_response_type: 'true',
      state: 'st4te',
      extras: '{"setup":{},"featureType":"whatsapp_business_app_onboarding","sessionInfoVersion":"3"}',
    });
  });

  it('is Embedded Signup v4: no extras.version (v2/v3), and never the dialog of an ended Graph version', () => {
    const url = (apiVersion: string, now: number) =>
      new URL(
        buildSignupUrl({
          dialogBase: 'https://www.facebook.com',
          apiVersion,
          appId: '111',
          configId: '222',
          redirectUri: 'http://127.0.0.1:5555/callback',
          state: 's',
          now,
        }),
      );
    const extras = JSON.parse(url('v25.0', Date.UTC(2026, 11, 5)).searchParams.get('extras')!);
    expect(extras).not.toHaveProperty('version');
    expect(extras.featureType).toBe('whatsapp_business_app_onboarding');
    expect(url('v21.0', Date.UTC(2027, 0, 20)).pathname).toBe('/v21.0/dialog/oauth');
    // v21.0 ended on 2027-01-21: the link uses the newest version instead
    expect(url('v21.0', Date.UTC(2027, 0, 21)).pathname).toBe('/v27.0/dialog/oauth');
  });

  it('uses facebook.com for the real Graph URL, the sandbox itself on loopback, or --dialog-url', () => {
    expect(dialogBaseFor('https://graph.facebook.com')).toBe('https://www.facebook.com');
    expect(dialogBaseFor('http://127.0.0.1:4010')).toBe('http://127.0.0.1:4010');
    expect(dialogBaseFor('https://graph.facebook.com', 'https://signup.example.com/')).toBe(
      'https://signup.example.com',
    );
    expect(() => dialogBaseFor(undefined, 'http://example.com')).toThrow(/--dialog-url/);
  });
});

describe('callback server', () => {
  it('listens on 127.0.0.1 with an ephemeral port and resolves with the code of the right state', async () => {
    const server = await startCallbackServer({ state: 'good' });
    expect(server.redirectUri).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback$/);
    const waiting = server.wait({ timeoutMs: 5000, clock: systemClock });
    expect((await get(`${server.redirectUri.replace('/callback', '/favicon.ico')}`)).status).toBe(404);
    const res = await get(`${server.redirectUri}?code=abc&state=good`);
    expect(res.status).toBe(200);
    await expect(waiting).resolves.toEqual({ code: 'abc', state: 'good', session: null });
    expect((await get(`${server.redirectUri}?code=again&state=good`)).status).toBe(410);
    await server.close();
    await expect(get(server.redirectUri)).rejects.toThrow(/ECONNREFUSED/);
  });

  it('refuses a wrong state', async () => {
    const server = await startCallbackServer({ state: 'good' });
    const waiting = server.wait({ timeoutMs: 5000, clock: systemClock }).catch((e: unknown) => e);
    const res = await get(`${server.redirectUri}?code=abc&state=evil`);
    expect(res.status).toBe(400);
    expect(String(await waiting)).toMatch(/wrong state/);
    await server.close();
  });

  it('reports an error answer of the dialog', async () => {
    const server = await startCallbackServer({ state: 's' });
    const waiting = server.wait({ timeoutMs: 5000, clock: systemClock }).catch((e: unknown) => e);
    await get(`${server.redirectUri}?state=s&error=access_denied&error_description=Permissions+error`);
    expect(String(await waiting)).toMatch(/did not complete: Permissions error \(access_denied\)/);
    await server.close();
  });

  it('times out (clock-driven) and is cancelled by the signal', async () => {
    const server = await startCallbackServer({ state: 's' });
    await expect(server.wait({ timeoutMs: 60_000, clock: new FakeClock() })).rejects.toThrow(
      /No signup callback within 1 min/,
    );
    await server.close();
    const other = await startCallbackServer({ state: 's' });
    const ac = new AbortController();
    const waiting = other.wait({ timeoutMs: 60_000, clock: systemClock, signal: ac.signal });
    ac.abort();
    await expect(waiting).rejects.toBeInstanceOf(CancelledError);
    await other.close();
  });
});

describeBackends('onboarding state (store)', (b) => {
  it('creates runs with every step pending, records steps and ids, and survives a reopen', () => {
    const store = b.open(b.location(), { migrations: [] });
    const state = new OnboardingState(store);
    const run = state.create(1000, { appId: 'A', configId: 'C' });
    expect(run.steps.map((s) => s.id)).toEqual([...STEPS]);
    expect(run.steps.every((s) => s.status === 'pending')).toBe(true);
    state.setStep(run.id, 'exchange', 'done', 2000, { token_stored_in: 'file' });
    state.setIds(run.id, 2000, { wabaId: 'W', phoneNumberId: 'P', onboardedAt: 1500 });
    const again = new OnboardingState(store).latest()!;
    expect(again.id).toBe(run.id);
    expect(again.wabaId).toBe('W');
    expect(again.onboardedAt).toBe(1500);
    const ex = again.steps.find((s) => s.id === 'exchange')!;
    expect(ex).toMatchObject({ status: 'done', detail: { token_stored_in: 'file' }, updatedAt: 2000 });
    expect(isFinished(ex)).toBe(true);
    expect(isFinished({ ...ex, id: 'signup', status: 'skipped' })).toBe(true);
    expect(isFinished({ ...ex, id: 'contact_sync', status: 'skipped' })).toBe(false);
    const tables = store.db.prepare('SELECT id FROM schema_migrations WHERE id BETWEEN 500 AND 599').all();
    expect(tables).toEqual([{ id: 500 }, { id: 501 }]);
    store.close();
  });
});

describe('webhook fields fix', () => {
  it('names the missing fields, the App Dashboard path and the exact POST /{app-id}/subscriptions call', () => {
    const lines = webhookFieldsFix({
      appId: '42',
      missing: ['history', 'smb_message_echoes'],
      present: ['messages', 'account_update', 'smb_app_state_sync'],
      callbackUrl: 'https://hooks.example.com/wa',
      graphUrl: 'https://graph.facebook.com',
      apiVersion: 'v25.0',
    }).join('\n');
    expect(lines).toContain('Missing webhook fields: history, smb_message_echoes.');
    expect(lines).toContain('App Dashboard: your app › WhatsApp › Configuration › Webhook fields');
    expect(lines).toContain("curl -X POST 'https://graph.facebook.com/v25.0/42/subscriptions'");
    expect(lines).toContain("callback_url='https://hooks.example.com/wa'");
    for (const f of REQUIRED_WEBHOOK_FIELDS) expect(lines).toMatch(new RegExp(`fields=[a-z_,]*${f}`));
    expect(lines).toContain('access_token="42|$WACX_APP_SECRET"');
  });
});

describe('discover (which number)', () => {
  const n = (id: string, time: string | undefined, coex = true): PhoneNumber => ({
    id,
    display_phone_number: `+1 555 ${id}`,
    is_on_biz_app: coex,
    platform_type: coex ? 'CLOUD_API' : 'NOT_APPLICABLE',
    ...(time ? { last_onboarded_time: time } : {}),
  });
  const graph = (numbers: PhoneNumber[], wabas = ['W1']) =>
    ({
      oauth: {
        debugToken: async () => ({
          granular_scopes: [{ scope: 'whatsapp_business_management', target_ids: wabas }],
        }),
      },
      phoneNumbers: {
        async *list() {
          yield* numbers;
        },
        get: async (id: string) => numbers.find((x) => x.id === id)!,
      },
    }) as unknown as Graph;
  const noPrompt: Prompter = {
    input: async () => '',
    password: async () => '',
    confirm: async () => false,
    select: async (q) => {
      throw new Error(`unexpected prompt ${q.flag}`);
    },
  };
  const ctx = (g: Graph, prompter = noPrompt, interactive = false) => ({
    graph: g,
    appToken: 'A|S',
    businessToken: 'T',
    prompter,
    interactive,
    info: () => undefined,
  });

  it('takes the WABA from the granular scopes and the only coexistence number', async () => {
    const d = await discover(ctx(graph([n('1', undefined, false), n('2', '2026-11-24T10:00:00+0000')])), {});
    expect(d).toMatchObject({
      wabaId: 'W1',
      wabaFrom: 'debug_token',
      pickedBy: 'only',
      onboardedAt: Date.UTC(2026, 10, 24, 10),
    });
    expect(d.number.id).toBe('2');
  });

  it('several coexistence numbers: the one the signup names (session info), never the most recent by time', async () => {
    const numbers = [n('1', '2026-11-24T10:00:05+0000'), n('2', '2026-11-24T10:00:05+0000')];
    const session = { event: 'FINISH_WHATSAPP_BUSINESS_APP_ONBOARDING', wabaId: 'W7', phoneNumberId: '1' };
    const d = await discover(ctx(graph(numbers)), { session });
    expect(d).toMatchObject({ wabaId: 'W7', wabaFrom: 'signup', pickedBy: 'signup', number: { id: '1' } });
    // a flag wins over the session info
    expect((await discover(ctx(graph(numbers)), { session, phoneNumberId: '2' })).pickedBy).toBe('flag');
    // without session info and without a TTY, even a clearly newer number is not guessed
    const apart = [n('1', '2026-11-24T10:00:00+0000'), n('2', '2026-11-24T10:00:05+0000')];
    await expect(discover(ctx(graph(apart)), {})).rejects.toThrow(/several coexistence numbers/);
    await expect(discover(ctx(graph(numbers)), {})).rejects.toMatchObject({ location: '--phone-number-id' });
  });

  it('session info without a phone number gives the WABA; the number is then discovered', async () => {
    const session = { event: 'FINISH_WHATSAPP_BUSINESS_APP_ONBOARDING', wabaId: 'W3', phoneNumberId: null };
    const d = await discover(ctx(graph([n('1', undefined, false), n('2', undefined)])), { session });
    expect(d).toMatchObject({ wabaId: 'W3', wabaFrom: 'signup', pickedBy: 'only', number: { id: '2' } });
  });

  it('parses the WA_EMBEDDED_SIGNUP event; other events are not session info; bad ids are usage errors', () => {
    const ev = (data: unknown, event = 'FINISH_WHATSAPP_BUSINESS_APP_ONBOARDING') =>
      JSON.stringify({ type: 'WA_EMBEDDED_SIGNUP', event, version: 3, data });
    expect(parseSessionInfo(ev({ waba_id: '30', phone_number_id: '10' }), '--session-info')).toEqual({
      event: 'FINISH_WHATSAPP_BUSINESS_APP_ONBOARDING',
      wabaId: '30',
      phoneNumberId: '10',
    });
    expect(parseSessionInfo(ev({ waba_id: '30' }), 'x')?.phoneNumberId).toBeNull();
    expect(parseSessionInfo(ev({ current_step: 'PHONE_NUMBER_SETUP' }, 'CANCEL'), 'x')).toBeNull();
    expect(() => parseSessionInfo('{nope', '--session-info')).toThrow(/not JSON/);
    expect(() => parseSessionInfo(ev({ waba_id: 'abc' }), '--session-info')).toThrow(
      expect.objectContaining({ location: '--session-info' }),
    );
  });

  it('asks which WABA when the token grants several, naming --waba-id without a TTY', async () => {
    await expect(discover(ctx(graph([n('1', undefined)], ['W1', 'W2'])), {})).rejects.toThrow(
      /unexpected prompt --waba-id/,
    );
  });

  it('no coexistence number at all stops with the facts', async () => {
    await expect(discover(ctx(graph([n('1', undefined, false)])), { wabaId: 'W9' })).rejects.toThrow(
      /WABA W9 has no coexistence number \(\+1 555 1 \(1\): is_on_biz_app false, NOT_APPLICABLE\)/,
    );
  });
});

describe('runOnboarding reports events and returns data', () => {
  const options: OnboardOptions = {
    appId: 'A',
    appSecret: 'S',
    apiVersion: 'v25.0',
    graphUrl: 'https://graph.example',
    dialogBase: 'https://www.example',
    sync: false,
    syncWithoutWebhooks: false,
    webhookTimeoutMs: 1000,
    timeoutMs: 1000,
    restart: false,
    yes: true,
  };
  /** A run whose steps up to the webhook fields were done by an earlier invocation. */
  function setUp() {
    const state = new OnboardingState(Store.open(':memory:', { migrations: [] }));
    const run = state.create(1000, { appId: 'A' });
    for (const step of ['signup', 'exchange', 'discover', 'subscribe', 'webhook_fields'] as const)
      state.setStep(run.id, step, 'done', 2000, {});
    state.setIds(run.id, 2000, { wabaId: 'W', phoneNumberId: 'P', displayPhoneNumber: '+49 151' });
    const events: OnboardEvent[] = [];
    const saved: unknown[] = [];
    const ctx: OnboardContext = {
      onEvent: (e) => {
        events.push(e);
      },
      clock: new FakeClock(3000),
      signal: new AbortController().signal,
      prompter: {} as Prompter,
      interactive: false,
      state,
      graph: () => Promise.reject(new Error('no Graph call expected')),
      storeToken: () => Promise.reject(new Error('no token expected')),
      currentToken: async () => 'T',
      saveProfile: (ids) => saved.push(ids),
    };
    return { ctx, events, saved, runId: run.id };
  }

  it('resumes: steps done earlier, skipped with --no-sync, then the profile step started and done', async () => {
    const { ctx, events, saved, runId } = setUp();
    const result = await runOnboarding(ctx, options);
    expect(events).toEqual([
      { type: 'resuming', runId, startedAt: new Date(1000).toISOString(), next: 'webhook_delivery' },
      ...(['signup', 'exchange', 'discover', 'subscribe', 'webhook_fields'] as const).map((step) => ({
        type: 'step_done_earlier',
        step,
      })),
      ...(['webhook_delivery', 'contact_sync', 'history_sync'] as const).map((step) => ({
        type: 'step_skipped',
        step,
        reason: '--no-sync',
      })),
      { type: 'step_started', step: 'profile' },
      { type: 'step_done', step: 'profile', text: 'Profile saved (appId, configId, wabaId, phoneNumberId)' },
    ]);
    expect(saved).toEqual([{ appId: 'A', configId: undefined, wabaId: 'W', phoneNumberId: 'P' }]);
    expect(result).toMatchObject({
      ok: true,
      resumed: true,
      complete: false,
      waba_id: 'W',
      phone_number_id: 'P',
    });
  });

  it('a failing step is reported failed before the error is thrown', async () => {
    const { ctx, events } = setUp();
    ctx.saveProfile = () => {
      throw new Error('disk full');
    };
    await expect(runOnboarding(ctx, options)).rejects.toThrow('disk full');
    expect(events.at(-1)).toEqual({ type: 'step_failed', step: 'profile', cancelled: false, fix: [] });
  });

  it('an onboarding already complete reports so and changes nothing', async () => {
    const { ctx, events, saved, runId } = setUp();
    ctx.state.complete(runId, 2500);
    const result = await runOnboarding(ctx, options);
    expect(events).toEqual([
      { type: 'already_complete', number: '+49 151', completedAt: new Date(2500).toISOString() },
    ]);
    expect(saved).toEqual([]);
    expect(result).toMatchObject({ ok: true, complete: true });
  });
});
