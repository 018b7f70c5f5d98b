/** Webhook delivery: signatures on every kind of webhook, ASCII-escaped bodies, handshake, retries, duplicates, sink, routing. */
import { afterEach, describe, expect, it } from 'vitest';
import { HISTORY_CHUNKS, HISTORY_DELIVERY_ORDER } from '../../src/sandbox/activity.js';
import { SEED } from '../../src/sandbox/seed.js';
import { startTestSandbox } from '../helpers/sandbox.js';
import { graph, orderUpdate, type Received, startReceiver, validSignature } from './util.js';

const COEX = SEED.phoneNumbers.coex.id;
const WABA = SEED.waba.id;
const APP_TOKEN = `${SEED.app.id}|${SEED.app.secret}`;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(
  opts: Parameters<typeof startTestSandbox>[0] = {},
  rxOpts: Parameters<typeof startReceiver>[0] = {},
) {
  const rx = await startReceiver(rxOpts);
  const sb = await startTestSandbox({ webhookUrl: rx.url, ...opts });
  cleanups.push(
    () => rx.close(),
    () => sb.close(),
  );
  return { rx, sb, g: graph(sb.url) };
}

interface HistoryMessage {
  id: string;
  from: string;
  to?: string;
  type: string;
  timestamp: unknown;
  history_context: { status: string };
}

const fieldOf = (r: Received) => r.body.entry[0].changes[0].field as string;
const changeValue = (r: Received) => r.body.entry[0].changes[0].value;

describe('signatures', () => {
  it('every webhook the sandbox sends carries a valid X-Hub-Signature-256 over the exact raw body', async () => {
    const { rx, sb, g } = await setup();
    // statuses, template review, contact + history sync, account updates, signup, echoes, inbound messages
    await g.post(`${COEX}/messages`, orderUpdate('+16505550020', 'sig:1'));
    await g.post(`${WABA}/message_templates`, {
      name: 'sig_test',
      language: 'en_US',
      category: 'UTILITY',
      components: [{ type: 'BODY', text: 'Order ready.' }],
    });
    await g.post(`${COEX}/smb_app_data`, { messaging_product: 'whatsapp', sync_type: 'smb_app_state_sync' });
    await g.post(`${COEX}/smb_app_data`, { messaging_product: 'whatsapp', sync_type: 'history' });
    await graph(sb.url, { token: null }).get(
      `dialog/oauth?client_id=${SEED.app.id}&redirect_uri=https%3A%2F%2Fexample.com%2Fcb&state=x`,
    );
    await sb.control('emit', {
      field: 'smb_message_echoes',
      value: {
        message_echoes: [{ to: '16505551234', type: 'text', text: { body: 'Sent from the App — olá' } }],
      },
    });
    await sb.control('emit', {
      field: 'messages',
      value: { messages: [{ from: '16505551234', type: 'text', text: { body: 'STOP' } }] },
    });
    await sb.control('scenario', { name: 'device_change', reconnect_after_ms: 100 });
    await sb.control('scenario', { name: 'primary_inactivity', phone_number_id: SEED.phoneNumbers.cloud.id });
    await sb.flush();
    const fields = new Set(rx.received.map(fieldOf));
    expect([...fields].sort()).toEqual([
      'account_update',
      'history',
      'message_template_status_update',
      'messages',
      'smb_app_state_sync',
      'smb_message_echoes',
    ]);
    // 3 statuses + 1 review + 1 contact sync + 8 history + PARTNER_ADDED + echo + inbound + offboarded + reconnected + removed
    expect(rx.received.length).toBe(19);
    for (const r of rx.received) {
      expect(r.headers['content-type']).toBe('application/json');
      expect(validSignature(r.raw, r.headers['x-hub-signature-256']), `${fieldOf(r)} signature`).toBe(true);
      expect(validSignature(r.raw, r.headers['x-hub-signature-256'], 'another-secret')).toBe(false);
      expect(r.headers['x-hub-signature']).toMatch(/^sha1=[0-9a-f]{40}$/);
      expect(r.body.object).toBe('whatsapp_business_account');
      expect(r.body.entry[0].id).toBe(WABA);
    }
    // the inspection log agrees with what was received
    const log = await sb.control('webhooks');
    const delivered = log.filter((d: { state: string }) => d.state === 'delivered');
    expect(delivered.map((d: { raw: string }) => d.raw).sort()).toEqual(rx.received.map((r) => r.raw).sort());
    for (const d of delivered) expect(d).toMatchObject({ status: 200, attempts: 1, url: rx.url });
  });

  it('signs with the configured app secret', async () => {
    const { rx, g, sb } = await setup({ appSecret: 'my-own-app-secret-123' });
    await graph(sb.url).post(`${COEX}/messages`, orderUpdate('+16505550021'));
    await sb.flush();
    expect(g).toBeDefined();
    expect(rx.received.length).toBeGreaterThan(0);
    for (const r of rx.received)
      expect(validSignature(r.raw, r.headers['x-hub-signature-256'], 'my-own-app-secret-123')).toBe(true);
  });

  it('bodies are ASCII-escaped JSON (non-ASCII as \\uXXXX, "/" as "\\/") and signed as sent', async () => {
    const { rx, sb, g } = await setup();
    await g.post(`${COEX}/smb_app_data`, { messaging_product: 'whatsapp', sync_type: 'smb_app_state_sync' });
    await sb.control('emit', {
      field: 'smb_message_echoes',
      value: {
        message_echoes: [
          { to: '16505551237', type: 'text', text: { body: 'Olá María 🌵 https://example.com/a' } },
        ],
      },
    });
    await sb.flush();
    const contacts = rx.received.find((r) => fieldOf(r) === 'smb_app_state_sync')!;
    expect(contacts.raw).toContain('Mar\\u00eda Garc\\u00eda');
    expect(/[^\x00-\x7f]/.test(contacts.raw)).toBe(false);
    expect(
      changeValue(contacts).state_sync.find(
        (s: { contact: { phone_number: string } }) => s.contact.phone_number === '16505551237',
      ).contact.full_name,
    ).toBe('María García');
    const echo = rx.received.find((r) => fieldOf(r) === 'smb_message_echoes')!;
    expect(echo.raw).toContain('\\ud83c\\udf35');
    expect(echo.raw).toContain('https:\\/\\/example.com\\/a');
    expect(changeValue(echo).message_echoes[0].text.body).toBe('Olá María 🌵 https://example.com/a');
    expect(validSignature(echo.raw, echo.headers['x-hub-signature-256'])).toBe(true);
  });
});

describe('verification handshake', () => {
  it('POST /{app-id}/subscriptions verifies the callback with a GET, then lists the subscription', async () => {
    const { rx, sb } = await setup({}, { verifyToken: 'my-verify-token' });
    const app = graph(sb.url, { token: APP_TOKEN });
    const form = new URLSearchParams({
      object: 'whatsapp_business_account',
      callback_url: rx.url,
      verify_token: 'my-verify-token',
      fields: 'messages,history,smb_app_state_sync,smb_message_echoes,account_update',
    });
    const ok = await app.post(`${SEED.app.id}/subscriptions`, form);
    expect(ok.status, ok.text).toBe(200);
    expect(ok.body).toEqual({ success: true });
    expect(rx.handshakes).toHaveLength(1);
    expect(rx.handshakes[0]!.get('hub.mode')).toBe('subscribe');
    expect(rx.handshakes[0]!.get('hub.verify_token')).toBe('my-verify-token');
    expect(rx.handshakes[0]!.get('hub.challenge')).toMatch(/^\d+$/);
    const list = await app.get(`${SEED.app.id}/subscriptions`);
    expect(list.body.data[0]).toMatchObject({
      object: 'whatsapp_business_account',
      callback_url: rx.url,
      active: true,
    });
    expect(list.body.data[0].fields.map((f: { name: string }) => f.name)).toEqual(
      expect.arrayContaining([
        'messages',
        'history',
        'smb_app_state_sync',
        'smb_message_echoes',
        'account_update',
      ]),
    );
    // a wrong verify token fails the handshake: nothing changes
    const bad = await app.post(
      `${SEED.app.id}/subscriptions`,
      new URLSearchParams({
        object: 'whatsapp_business_account',
        callback_url: `${rx.url}?x=1`,
        verify_token: 'nope',
        fields: 'messages',
      }),
    );
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe(2200);
    expect((await app.get(`${SEED.app.id}/subscriptions`)).body.data[0].callback_url).toBe(rx.url);
    // DELETE of some fields, then the whole subscription
    expect(
      (await app.del(`${SEED.app.id}/subscriptions?object=whatsapp_business_account&fields=history`)).body,
    ).toEqual({ success: true });
    expect(
      (await app.get(`${SEED.app.id}/subscriptions`)).body.data[0].fields.map(
        (f: { name: string }) => f.name,
      ),
    ).not.toContain('history');
    expect((await app.del(`${SEED.app.id}/subscriptions?object=whatsapp_business_account`)).status).toBe(200);
    expect((await app.get(`${SEED.app.id}/subscriptions`)).body.data).toEqual([]);
  });

  it('a callback that does not echo the challenge is refused', async () => {
    const { rx, sb } = await setup({}, { challengeOverride: 'wrong' });
    const r = await graph(sb.url, { token: APP_TOKEN }).post(
      `${SEED.app.id}/subscriptions`,
      new URLSearchParams({
        object: 'whatsapp_business_account',
        callback_url: rx.url,
        verify_token: SEED.verifyToken,
        fields: 'messages',
      }),
    );
    expect(r.status).toBe(400);
    expect(r.body.error.message).toMatch(/challenge/);
  });
});

describe('retries, give-up, duplicates', () => {
  it('retries a non-200 answer with exponential backoff until 200', async () => {
    const { rx, sb } = await setup({ webhookRetryBaseMs: 1000 }, { statusFor: (n) => (n <= 2 ? 500 : 200) });
    await sb.control('clock', { freeze: true });
    await sb.control('emit', { field: 'account_update', value: { event: 'PARTNER_APP_INSTALLED' } });
    let log = await sb.control('webhooks');
    expect(log[0]).toMatchObject({ state: 'retrying', attempts: 1, status: 500 });
    await sb.control('clock', { advance_ms: 999 });
    expect((await sb.control('webhooks'))[0].attempts).toBe(1);
    await sb.control('clock', { advance_ms: 1 });
    expect((await sb.control('webhooks'))[0]).toMatchObject({ attempts: 2, state: 'retrying' });
    await sb.control('clock', { advance_ms: 1999 });
    expect((await sb.control('webhooks'))[0].attempts).toBe(2);
    await sb.control('clock', { advance_ms: 1 });
    log = await sb.control('webhooks');
    expect(log[0]).toMatchObject({ attempts: 3, state: 'delivered', status: 200 });
    expect(log[0].delivered_at - log[0].at).toBe(3000);
    expect(rx.received).toHaveLength(3);
    expect(new Set(rx.received.map((r) => r.raw)).size).toBe(1);
  });

  it('gives up after the configured attempts', async () => {
    const { rx, sb } = await setup(
      { webhookRetryBaseMs: 10, webhookMaxAttempts: 3 },
      { statusFor: () => 503 },
    );
    await sb.control('emit', { field: 'account_update', value: { event: 'PARTNER_APP_INSTALLED' } });
    await sb.flush();
    const [d] = await sb.control('webhooks');
    expect(d).toMatchObject({ state: 'failed', attempts: 3, status: 503 });
    expect(rx.received).toHaveLength(3);
  });

  it('the duplicate knob delivers the same signed body twice', async () => {
    const { rx, sb } = await setup();
    await sb.control('scenario', { name: 'webhook_duplicates', rate: 1 });
    await sb.control('emit', {
      field: 'messages',
      value: { messages: [{ from: '16505551234', type: 'text', text: { body: 'hi' } }] },
    });
    await sb.flush();
    expect(rx.received).toHaveLength(2);
    expect(rx.received[0]!.raw).toBe(rx.received[1]!.raw);
    const log = await sb.control('webhooks');
    expect(log[1].duplicate_of).toBe(log[0].id);
  });
});

describe('in-process sink', () => {
  it('delivers to webhookSink with the signature headers, retrying on a non-200 answer', async () => {
    const calls: { raw: string; headers: Record<string, string> }[] = [];
    const sb = await startTestSandbox({
      webhookRetryBaseMs: 5,
      webhookSink: async (raw, headers) => {
        calls.push({ raw, headers });
        return calls.length === 1 ? 500 : 200;
      },
    });
    cleanups.push(() => sb.close());
    await graph(sb.url).post(`${COEX}/smb_app_data`, {
      messaging_product: 'whatsapp',
      sync_type: 'smb_app_state_sync',
    });
    await sb.flush();
    expect(calls).toHaveLength(2);
    expect(calls[0]!.raw).toBe(calls[1]!.raw);
    expect(validSignature(calls[0]!.raw, calls[0]!.headers['x-hub-signature-256'])).toBe(true);
    expect(JSON.parse(calls[1]!.raw).entry[0].changes[0].field).toBe('smb_app_state_sync');
  });
});

describe('asynchronous coexistence webhooks', () => {
  it('history sync: phases 0/1/2, chunk_order, out-of-order delivery, progress 100 last, media follow-up', async () => {
    const { rx, sb, g } = await setup();
    await g.post(`${COEX}/smb_app_data`, { messaging_product: 'whatsapp', sync_type: 'history' });
    await sb.flush();
    const hist = rx.received.filter((r) => fieldOf(r) === 'history').map(changeValue);
    const chunks = hist.filter((v) => v.history).map((v) => v.history[0].metadata);
    expect(chunks).toEqual(
      HISTORY_DELIVERY_ORDER.map((i) => HISTORY_CHUNKS[i]).map((c) => ({
        phase: c!.phase,
        chunk_order: c!.chunk,
        progress: c!.progress,
      })),
    );
    expect(new Set(chunks.map((c) => c.phase))).toEqual(new Set([0, 1, 2]));
    expect(chunks.at(-1)!.progress).toBe(100);
    // out of order: at least one chunk arrives before a smaller chunk_order of its phase
    expect(
      chunks.some((c, i) =>
        chunks.slice(i + 1).some((d) => d.phase === c.phase && d.chunk_order < c.chunk_order),
      ),
    ).toBe(true);
    for (const v of hist)
      expect(v.metadata).toEqual({
        display_phone_number: SEED.phoneNumbers.coex.e164,
        phone_number_id: COEX,
      });
    const threads = hist.filter((v) => v.history).flatMap((v) => v.history[0].threads);
    const messages = threads.flatMap((t: { messages: HistoryMessage[] }) => t.messages);
    expect(
      messages.every((m: HistoryMessage) => typeof m.timestamp === 'string' && m.history_context.status),
    ).toBe(true);
    expect(
      messages
        .filter((m: HistoryMessage) => m.from === SEED.phoneNumbers.coex.e164)
        .every((m: HistoryMessage) => typeof m.to === 'string'),
    ).toBe(true);
    const placeholder = messages.find((m: HistoryMessage) => m.type === 'media_placeholder');
    const media = hist.find((v) => v.messages);
    expect(media.messages[0]).toMatchObject({
      id: placeholder?.id,
      type: 'image',
      image: { mime_type: 'image/jpeg' },
    });
  });

  it('contact sync: one state_sync with every App contact', async () => {
    const { rx, sb, g } = await setup();
    await g.post(`${COEX}/smb_app_data`, { messaging_product: 'whatsapp', sync_type: 'smb_app_state_sync' });
    await sb.flush();
    const v = changeValue(rx.received.find((r) => fieldOf(r) === 'smb_app_state_sync')!);
    expect(v.state_sync).toHaveLength(SEED.contacts.length);
    expect(v.state_sync[0]).toMatchObject({
      type: 'contact',
      action: 'add',
      contact: { full_name: 'Pablo Morales', first_name: 'Pablo', phone_number: '16505551234' },
      metadata: { timestamp: expect.stringMatching(/^\d+$/) },
    });
  });

  it('emit fills echo and inbound defaults', async () => {
    const { rx, sb } = await setup();
    const a = await sb.control('emit', {
      field: 'smb_message_echoes',
      value: { message_echoes: [{ to: '16505551234', type: 'text', text: { body: 'hello' } }] },
    });
    expect(a.status).toBe(200);
    const v = changeValue(rx.received[0]!);
    expect(v.message_echoes[0]).toMatchObject({
      from: SEED.phoneNumbers.coex.e164,
      to: '16505551234',
      id: expect.stringMatching(/^wamid\./),
      timestamp: expect.any(String),
    });
    await sb.control('emit', {
      field: 'messages',
      value: { messages: [{ from: '16505551235', text: { body: 'STOP' } }] },
    });
    const inbound = changeValue(rx.received[1]!);
    expect(inbound.messages[0]).toMatchObject({ type: 'text', from: '16505551235' });
    expect(inbound.contacts[0]).toEqual({ profile: { name: 'Sheena Nelson' }, wa_id: '16505551235' });
  });
});

describe('routing and subscriptions', () => {
  it('a WABA override receives messages webhooks, the app callback keeps history; a phone override wins', async () => {
    const { rx, sb, g } = await setup();
    const waba = await startReceiver();
    const phone = await startReceiver();
    cleanups.push(
      () => waba.close(),
      () => phone.close(),
    );
    expect(
      (
        await g.post(`${WABA}/subscribed_apps`, {
          override_callback_uri: waba.url,
          verify_token: SEED.verifyToken,
        })
      ).status,
    ).toBe(200);
    expect((await g.get(`${WABA}/subscribed_apps`)).body.data[0]).toMatchObject({
      whatsapp_business_api_data: { id: SEED.app.id, name: SEED.app.name },
      override_callback_uri: waba.url,
    });
    await g.post(`${COEX}/messages`, orderUpdate('+16505550030'));
    await g.post(`${COEX}/smb_app_data`, { messaging_product: 'whatsapp', sync_type: 'smb_app_state_sync' });
    await sb.flush();
    expect(waba.received.map(fieldOf)).toEqual(['messages', 'messages', 'messages']);
    expect(rx.received.map(fieldOf)).toEqual(['smb_app_state_sync']);
    await g.post(COEX, {
      webhook_configuration: { override_callback_uri: phone.url, verify_token: SEED.verifyToken },
    });
    expect((await g.get(`${COEX}?fields=webhook_configuration`)).body.webhook_configuration).toEqual({
      phone_number: phone.url,
      whatsapp_business_account: waba.url,
      application: rx.url,
    });
    await sb.control('emit', {
      field: 'smb_message_echoes',
      value: { message_echoes: [{ to: '16505551234', text: { body: 'x' }, type: 'text' }] },
    });
    expect(phone.received.map(fieldOf)).toEqual(['smb_message_echoes']);
  });
});
