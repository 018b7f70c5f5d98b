import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/lib/clock.js';
import { relayedCallback } from '../../src/lib/onboarding/relay.js';
import type { Store } from '../../src/lib/store/store.js';
import { startWebhookServer, type WebhookServer } from '../../src/lib/webhooks/server.js';
import { MAX_BODY_BYTES, type StoredEvent } from '../../src/lib/webhooks/storage.js';
import { describeBackends } from '../helpers/backends.js';
import { runCli, tempHome } from '../helpers/cli.js';
import { APP_SECRET, sign } from './fixtures.js';
import { loadUntilStopped, post, signedStatus } from './load-client.js';

/** Resolves once `cond()` holds, checked after each turn of the event loop. */
async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setImmediate(r));
}

function rawGet(url: string): Promise<{ status: number; location: string | undefined }> {
  return new Promise((resolve, reject) => {
    request(url, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, location: res.headers.location }));
    })
      .on('error', reject)
      .end();
  });
}

function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    request(url, (res) => {
      let body = '';
      res.on('data', (c) => {
        body += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    })
      .on('error', reject)
      .end();
  });
}

describeBackends('webhook server (library)', (b) => {
  let dir: string;
  let store: Store;
  let server: WebhookServer;
  let events: StoredEvent[];
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wacx-wh-'));
    store = b.open(b.backend === 'sqlite' ? { backend: 'sqlite', path: join(dir, 'wacx.db') } : undefined);
    events = [];
    server = await startWebhookServer({
      db: store.db,
      appSecret: APP_SECRET,
      verifyToken: 'vt-123',
      onEvent: (e) => events.push(e),
    });
  });
  afterEach(async () => {
    await server.close();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const rows = (table: string) =>
    (store.db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;

  it('answers the verification handshake only with the right token', async () => {
    expect(
      await get(`${server.url}?hub.mode=subscribe&hub.verify_token=vt-123&hub.challenge=1158201444`),
    ).toEqual({
      status: 200,
      body: '1158201444',
    });
    expect(
      (await get(`${server.url}?hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1`)).status,
    ).toBe(403);
    expect(
      (await get(`${server.url}?hub.mode=unsubscribe&hub.verify_token=vt-123&hub.challenge=1`)).status,
    ).toBe(403);
    expect((await get(`${server.url}?hub.mode=subscribe&hub.verify_token=vt-123`)).status).toBe(403);
    expect((await get(server.url.replace('/webhook', '/other'))).status).toBe(404);
  });

  it('/onboard/callback records a signup only for a state a waiting `wacx onboard` registered; /onboard/start redirects', async () => {
    const base = server.url.replace('/webhook', '');
    const relay = relayedCallback({
      db: store.db,
      state: 'st-waiting',
      callbackUrl: `${base}/onboard/callback`,
      signupUrl: 'https://www.facebook.com/v25.0/dialog/oauth?client_id=1',
      now: Date.now(),
      ttlMs: 60_000,
    });
    // the short link leads to the signup URL
    const start = await rawGet(relay.startUrl);
    expect(start.status).toBe(302);
    expect(start.location).toBe('https://www.facebook.com/v25.0/dialog/oauth?client_id=1');
    expect((await rawGet(`${base}/onboard/start?s=unknown`)).status).toBe(410);
    // a forged or stale state: refused, nothing recorded
    const forged = await get(`${base}/onboard/callback?code=AQx&state=other`);
    expect(forged.status).toBe(400);
    expect(forged.body).toContain('No wacx onboarding is waiting for this signup');
    // the real redirect: recorded with its session info, then handed to the waiting terminal once
    const session = JSON.stringify({
      type: 'WA_EMBEDDED_SIGNUP',
      event: 'FINISH_WHATSAPP_BUSINESS_APP_ONBOARDING',
      data: { waba_id: '30', phone_number_id: '50' },
    });
    const ok = await get(
      `${base}/onboard/callback?code=AQgood&state=st-waiting&session_info=${encodeURIComponent(session)}`,
    );
    expect(ok.status).toBe(200);
    expect(ok.body).toContain('Signup received');
    expect((await get(`${base}/onboard/callback?code=AQagain&state=st-waiting`)).status).toBe(410);
    await expect(relay.wait({ timeoutMs: 1000, clock: new FakeClock() })).resolves.toEqual({
      code: 'AQgood',
      session: { event: 'FINISH_WHATSAPP_BUSINESS_APP_ONBOARDING', wabaId: '30', phoneNumberId: '50' },
    });
    await relay.close();
    expect(rows('onboarding_callbacks')).toBe(0);
    expect(rows('webhook_events')).toBe(0);
  });

  it('a waiting relay times out by the injected clock, and reports a declined signup', async () => {
    const clock = new FakeClock();
    const relay = relayedCallback({
      db: store.db,
      state: 's1',
      callbackUrl: 'https://hooks.example.com/onboard/callback',
      signupUrl: 'https://x',
      now: clock.now(),
      ttlMs: 60_000,
    });
    expect(relay.startUrl).toMatch(/^https:\/\/hooks\.example\.com\/onboard\/start\?s=[\w-]{16}$/);
    await expect(relay.wait({ timeoutMs: 5000, clock })).rejects.toThrow(
      /No signup callback reached the receiver/,
    );
    const base = server.url.replace('/webhook', '');
    const declined = relayedCallback({
      db: store.db,
      state: 's2',
      callbackUrl: `${base}/onboard/callback`,
      signupUrl: 'https://x',
      now: Date.now(),
      ttlMs: 60_000,
    });
    await get(`${base}/onboard/callback?error=access_denied&error_description=Permissions%20error&state=s2`);
    await expect(declined.wait({ timeoutMs: 5000, clock })).rejects.toThrow(
      /did not complete: Permissions error/,
    );
  });

  it('stores a signed POST before answering 200; rejects forged, unsigned and non-JSON with 4xx', async () => {
    const { body, signature } = signedStatus('wamid.S1');
    const r = await post(server.url, body, { 'x-hub-signature-256': signature });
    expect(r.status).toBe(200);
    // already on disk when the 200 arrived
    expect(rows('message_statuses')).toBe(1);
    expect(events.map((e) => e.kind)).toEqual(['status']);
    expect((await post(server.url, body, { 'x-hub-signature-256': signature })).status).toBe(200); // duplicate
    expect(rows('webhook_events')).toBe(1);
    expect((await post(server.url, body, { 'x-hub-signature-256': sign(body, 'forged') })).status).toBe(401);
    expect((await post(server.url, body)).status).toBe(401);
    expect((await post(server.url, 'nope', { 'x-hub-signature-256': sign('nope') })).status).toBe(400);
    expect(rows('webhook_events')).toBe(1);
    expect(rows('webhook_payloads')).toBe(1);
  });

  it('refuses bodies over the 3 MB limit (declared or streamed) with 413', async () => {
    const big = Buffer.alloc(MAX_BODY_BYTES + 10, 0x61);
    const declared = await post(server.url, big, { 'x-hub-signature-256': sign(big) }).catch((e: Error) => e);
    expect(declared instanceof Error ? declared.message : declared.status).toBe(413);
    // chunked, no Content-Length: cut off once over the cap
    const streamed = await new Promise<number | string>((resolve) => {
      const req = request(
        server.url,
        { method: 'POST', headers: { 'x-hub-signature-256': sign(big) } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
      for (let i = 0; i < 49; i++) req.write(Buffer.alloc(64 * 1024, 0x61));
      req.end();
    });
    expect([413, 'ECONNRESET', 'EPIPE']).toContain(streamed);
    expect(rows('webhook_events')).toBe(0);
    expect(
      (
        store.db.prepare("SELECT COUNT(*) AS n FROM webhook_rejections WHERE reason = 'too_large'").get() as {
          n: number;
        }
      ).n,
    ).toBeGreaterThanOrEqual(1);
  });

  it('answers 405 to other methods', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      request(server.url, { method: 'PUT' }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
        .on('error', reject)
        .end('x');
    });
    expect(status).toBe(405);
  });

  it('close() finishes a request in flight (stored and answered 200) and then refuses new connections', async () => {
    const { body, signature } = signedStatus('wamid.inflight');
    const port = server.port;
    const sock = connect(port, '127.0.0.1');
    await new Promise((r) => sock.once('connect', r));
    const half = Math.floor(body.length / 2);
    sock.write(
      `POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Hub-Signature-256: ${signature}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body.slice(0, half)}`,
    );
    let answer = '';
    sock.on('data', (d) => {
      answer += d.toString();
    });
    const answered = once(sock, 'end');
    await until(() => server.stats.requests === 1); // the headers arrived: the request is in flight
    const closing = server.close();
    let closed = false;
    void closing.then(() => {
      closed = true;
    });
    const refusedWhileClosing = await post(server.url, body, { 'x-hub-signature-256': signature }).catch(
      (e: NodeJS.ErrnoException) => e.code,
    );
    expect(refusedWhileClosing).toBe('ECONNREFUSED');
    expect(closed).toBe(false); // waits for the request in flight
    sock.write(body.slice(half));
    await closing;
    await answered;
    expect(answer).toMatch(/^HTTP\/1.1 200/);
    expect(rows('message_statuses')).toBe(1);
    const refused = await post(server.url, body, { 'x-hub-signature-256': signature }).catch(
      (e: NodeJS.ErrnoException) => e.code,
    );
    expect(refused).toBe('ECONNREFUSED');
    sock.destroy();
  });

  it('shutdown during load loses no acknowledged event', async () => {
    const load = loadUntilStopped(server.url, 8, APP_SECRET);
    await load.acknowledged(21);
    await server.close();
    await load.done;
    expect(load.acked.length).toBeGreaterThan(20);
    const stored = new Set(
      (store.db.prepare('SELECT wamid FROM message_statuses').all() as { wamid: string }[]).map(
        (r) => r.wamid,
      ),
    );
    const lost = load.acked.filter((w) => !stored.has(w));
    expect(lost).toEqual([]);
    // nothing acknowledged twice or stored without a request
    expect(stored.size).toBeGreaterThanOrEqual(load.acked.length);
    expect(load.errors.every((e) => ['ECONNREFUSED', 'ECONNRESET', 'EPIPE'].includes(e))).toBe(true);
  });
});

describe('wacx webhooks serve --host', () => {
  const home = tempHome();
  afterAll(() => home.cleanup());
  const env = { ...home.env, WACX_APP_SECRET: APP_SECRET, WACX_VERIFY_TOKEN: 'vt' };

  it.each([
    ['999.1.1.1', 'is not an address to listen on'],
    ['1.2.3', 'is not an address to listen on'],
    ['no such host!', 'is not an address to listen on'],
    ['192.0.2.1', 'is not an address of this machine'],
  ])('--host %s: exit 2 naming --host, no raw system error', async (host, message) => {
    const r = await runCli(['webhooks', 'serve', '--port', '0', '--host', host], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--host');
    expect(r.stderr).toContain(message);
    expect(r.stderr).not.toMatch(/getaddrinfo|listen E[A-Z]+ /);
  });
});
