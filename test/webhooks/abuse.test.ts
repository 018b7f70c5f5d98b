import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Store } from '../../src/lib/store/store.js';
import {
  type RequestOutcome,
  startWebhookServer,
  type WebhookServer,
  type WebhookServerOptions,
} from '../../src/lib/webhooks/server.js';
import { post, signedStatus } from './load-client.js';

/**
 * Resources under abuse (issue #15, deliver 3): unsigned clients that connect, stall or upload slowly are
 * bounded by the server's own limits, configured small here so that the file runs in seconds.
 */

/** Resolves once `cond()` holds, checked after each turn of the event loop. */
async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setImmediate(r));
}

interface RawClient {
  socket: Socket;
  /** Everything the server sent so far. */
  received: () => string;
  /** Resolves when the server has sent a full response head. */
  answered: Promise<string>;
  /** Resolves when the connection is closed (by either side). */
  closed: Promise<void>;
}

/** A plain TCP client that sends `text` (if any) and then nothing more. */
function raw(port: number, text?: string): Promise<RawClient> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let data = '';
    let onHead: (head: string) => void = () => {};
    const answered = new Promise<string>((r) => {
      onHead = r;
    });
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      data += d;
      if (data.includes('\r\n\r\n')) onHead(data);
    });
    socket.on('error', () => {}); // resets are expected
    const closed = once(socket, 'close').then(() => undefined);
    socket.once('connect', () => {
      if (text !== undefined) socket.write(text);
      resolve({ socket, received: () => data, answered, closed });
    });
    socket.once('error', reject);
  });
}

/** A well-formed signature that matches nothing: a forger's upload has to be read before it can be refused. */
const FORGED = `sha256=${'0'.repeat(64)}`;

function postHead(contentLength: number | 'chunked', signature: string | null = FORGED): string {
  const length =
    contentLength === 'chunked' ? 'Transfer-Encoding: chunked' : `Content-Length: ${contentLength}`;
  const sig = signature === null ? '' : `X-Hub-Signature-256: ${signature}\r\n`;
  return `POST /webhook HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n${sig}${length}\r\n\r\n`;
}

describe('webhook server under abuse', { timeout: 10_000 }, () => {
  let dir: string;
  let store: Store;
  let server: WebhookServer | undefined;
  const clients: Socket[] = [];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'wacx-abuse-'));
    store = Store.open(join(dir, 'wacx.db'));
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.destroy();
    await server?.close();
    server = undefined;
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const start = async (limits: Partial<WebhookServerOptions>) => {
    server = await startWebhookServer({ db: store.db, appSecret: 'test-app-secret-0123456789', ...limits });
    return server;
  };
  const client = async (port: number, text?: string) => {
    const c = await raw(port, text);
    clients.push(c.socket);
    return c;
  };
  const statuses = () =>
    (store.db.prepare('SELECT wamid FROM message_statuses').all() as { wamid: string }[]).map((r) => r.wamid);

  it('cuts a client that sends its headers too slowly: 408, then closed', async () => {
    const s = await start({ headersTimeoutMs: 200, requestTimeoutMs: 5000 });
    const t0 = Date.now();
    const c = await client(s.port, 'POST /webhook HTTP/1.1\r\nHost: localhost\r\n');
    await c.closed;
    expect(c.received()).toMatch(/^HTTP\/1\.1 408 /);
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(s.stats.timedOut).toBe(1);
  });

  it('cuts a stalled body at the request timeout (408) and gives its buffered bytes back', async () => {
    const s = await start({ headersTimeoutMs: 200, requestTimeoutMs: 300 });
    const c = await client(s.port, `${postHead(5000)}{"object":`);
    await until(() => s.stats.bufferedBytes === 5000);
    await c.closed;
    expect(c.received()).toMatch(/^HTTP\/1\.1 408 /);
    expect(s.stats.timedOut).toBe(1);
    await until(() => s.stats.bufferedBytes === 0);
    // a client that sends in time is served
    const { body, signature } = signedStatus('wamid.after-timeout');
    expect((await post(s.url, body, { 'x-hub-signature-256': signature })).status).toBe(200);
  });

  it('many stalled uploads never hold more than the buffer budget: the extra ones get 503 + Retry-After before their body is read', async () => {
    const s = await start({
      maxBytes: 256 * 1024,
      maxBufferedBytes: 1024 * 1024,
      headersTimeoutMs: 10_000,
      requestTimeoutMs: 10_000,
    });
    // 20 uploads of 200,000 declared bytes that send 1,000 and stall: 5 fit in 1 MB
    const stalled = await Promise.all(
      Array.from({ length: 20 }, () => client(s.port, `${postHead(200_000)}${'x'.repeat(1000)}`)),
    );
    await until(() => s.stats.overloaded === 15 && s.stats.bufferedBytes === 1_000_000);
    await until(() => stalled.filter((c) => c.received().includes('\r\n\r\n')).length >= 15);
    const refused = stalled.filter((c) => c.received() !== '');
    expect(refused).toHaveLength(15);
    for (const c of refused) {
      const head = await c.answered;
      expect(head).toMatch(/^HTTP\/1\.1 503 /);
      expect(head).toMatch(/\r\nRetry-After: \d+\r\n/i);
    }
    // a chunked upload is counted at the body limit (256 KB), which no longer fits either
    const chunked = await client(s.port, `${postHead('chunked')}10\r\n{"object":"what`);
    expect(await chunked.answered).toMatch(/^HTTP\/1\.1 503 /);
    expect(s.stats.peakBufferedBytes).toBeLessThanOrEqual(1024 * 1024);
    expect(s.stats.bufferedBytes).toBe(1_000_000);
    // a small authentic delivery still fits beside them
    const { body, signature } = signedStatus('wamid.beside-stalled');
    expect((await post(s.url, body, { 'x-hub-signature-256': signature })).status).toBe(200);
    expect(statuses()).toEqual(['wamid.beside-stalled']);
    // the stalled clients leave: their reservations are given back
    for (const c of stalled) c.socket.destroy();
    await until(() => s.stats.bufferedBytes === 0);
    expect(s.stats.peakBufferedBytes).toBeLessThanOrEqual(1024 * 1024);
  });

  it('grants Expect: 100-continue only to a body that fits the buffer budget', async () => {
    const s = await start({ maxBytes: 1000, maxBufferedBytes: 1500, requestTimeoutMs: 10_000 });
    const expecting = (n: number) => postHead(n).replace('\r\n\r\n', '\r\nExpect: 100-continue\r\n\r\n');
    const first = await client(s.port, expecting(1000));
    expect(await first.answered).toMatch(/^HTTP\/1\.1 100 Continue\r\n/);
    const second = await client(s.port, expecting(1000));
    expect(await second.answered).toMatch(/^HTTP\/1\.1 503 /);
    await second.closed;
    expect(second.received()).not.toContain('100 Continue');
    expect(s.stats.bufferedBytes).toBe(1000);
  });

  it('refuses an unsigned or malformed-signature upload (401) before reading its body: it holds no buffer', async () => {
    const outcomes: RequestOutcome[] = [];
    const s = await start({
      headersTimeoutMs: 10_000,
      requestTimeoutMs: 10_000,
      onRequest: (o) => outcomes.push(o),
    });
    const unsigned = await client(s.port, postHead(200_000, null));
    expect(await unsigned.answered).toMatch(/^HTTP\/1\.1 401 /);
    const malformed = await client(s.port, postHead(200_000, 'md5=abc'));
    expect(await malformed.answered).toMatch(/^HTTP\/1\.1 401 /);
    expect(s.stats.peakBufferedBytes).toBe(0);
    expect(s.stats.rejected).toBe(2);
    expect(outcomes.map((o) => [o.status, o.outcome, o.reason])).toEqual([
      [401, 'rejected', 'missing_signature'],
      [401, 'rejected', 'malformed_signature'],
    ]);
  });

  it('refuses connections beyond the connection cap, and serves again once one leaves', async () => {
    const s = await start({ maxConnections: 5, headersTimeoutMs: 10_000, requestTimeoutMs: 10_000 });
    const idle = await Promise.all(Array.from({ length: 5 }, () => client(s.port)));
    await until(() => s.stats.connections === 5);
    const extra = await client(s.port, postHead(2));
    await extra.closed;
    expect(extra.received()).toBe('');
    expect(s.stats.connectionsRefused).toBe(1);
    expect(s.stats.connections).toBe(5);
    idle[0]?.socket.destroy();
    await until(() => s.stats.connections === 4);
    const { body, signature } = signedStatus('wamid.after-cap');
    expect((await post(s.url, body, { 'x-hub-signature-256': signature })).status).toBe(200);
  });

  it('close() ends within the grace period with a stalled upload connected; an authentic request in flight is answered 200 and stored', async () => {
    const graceMs = 500;
    const s = await start({ shutdownGraceMs: graceMs, headersTimeoutMs: 30_000, requestTimeoutMs: 30_000 });
    // a stalled upload, a client stuck in its headers, and an idle keep-alive connection
    const stalled = await client(s.port, `${postHead(5000)}{"object":`);
    const slowHeaders = await client(s.port, 'POST /webhook HTTP/1.1\r\n');
    const keptAlive = await client(s.port, 'GET /nowhere HTTP/1.1\r\nHost: localhost\r\n\r\n');
    await keptAlive.answered;
    // an authentic delivery whose body is half sent when the shutdown starts
    const { body, signature } = signedStatus('wamid.in-flight');
    const half = Math.floor(body.length / 2);
    const answer = new Promise<{ status: number; connection: string | undefined }>((resolve, reject) => {
      const req = request(
        s.url,
        {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
            'x-hub-signature-256': signature,
          },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection }));
        },
      );
      req.on('error', reject);
      req.write(body.slice(0, half));
      void until(() => s.stats.bufferedBytes === 5000 + Buffer.byteLength(body)).then(() => {
        closing = s.close().then(() => Date.now());
        t0 = Date.now();
        // the rest of the authentic body arrives after close() was called
        setImmediate(() => req.end(body.slice(half)));
      });
    });
    let t0 = 0;
    let closing: Promise<number> | undefined;
    expect(await answer).toEqual({ status: 200, connection: 'close' });
    expect(statuses()).toEqual(['wamid.in-flight']);
    await keptAlive.closed;
    expect(Date.now() - t0).toBeLessThan(graceMs); // idle connections go at once
    await Promise.all([stalled.closed, slowHeaders.closed]);
    const closedAt = await (closing as Promise<number>);
    expect(closedAt - t0).toBeGreaterThanOrEqual(graceMs - 50);
    expect(closedAt - t0).toBeLessThan(graceMs + 1000);
    expect(stalled.received()).toBe('');
    expect(s.stats.events).toBe(1);
  });
});
