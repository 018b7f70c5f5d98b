import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/lib/clock.js';
import { appSecretProof, GraphClient, graphPath, validateBaseUrl } from '../../src/lib/graph/client.js';
import { GraphApiError, GraphNetworkError, UnknownOutcomeError } from '../../src/lib/graph/errors.js';
import { Graph } from '../../src/lib/graph/graph.js';
import { graphError, json, startServer, type TestServer } from './support.js';

let server: TestServer | undefined;
const clients: GraphClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await server?.close();
  server = undefined;
});

function client(options: ConstructorParameters<typeof GraphClient>[0] = {}): GraphClient {
  const c = new GraphClient({
    baseUrl: server?.url,
    token: 'EAATESTTOKEN',
    clock: new FakeClock(),
    // deterministic jitter: always the middle of the window
    retry: { random: () => 0.5 },
    ...options,
  });
  clients.push(c);
  return c;
}

/** A port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('GraphClient retry and backoff (real loopback server)', () => {
  it('retries a GET after 5xx answers, with exponential backoff and jitter, then succeeds', async () => {
    let n = 0;
    server = await startServer((_req, res) => {
      n++;
      if (n <= 2) graphError(res, 503, { code: 2, message: '(#2) Service temporarily unavailable' });
      else json(res, 200, { id: '123', name: 'ok' });
    });
    const clock = new FakeClock();
    const c = client({ clock });
    const data = await c.request<{ id: string }>({ method: 'GET', path: graphPath('123') });
    expect(data.id).toBe('123');
    expect(server.requests).toHaveLength(3);
    // full jitter with random 0.5: floor(0.5 * 500 * 2^0), floor(0.5 * 500 * 2^1)
    expect(clock.sleeps).toEqual([250, 500]);
  });

  it('honours Retry-After (seconds) instead of the computed backoff', async () => {
    let n = 0;
    server = await startServer((_req, res) => {
      n++;
      if (n === 1)
        graphError(
          res,
          429,
          { code: 4, message: '(#4) Application request limit reached' },
          { 'retry-after': '7' },
        );
      else json(res, 200, { ok: true });
    });
    const clock = new FakeClock();
    await client({ clock }).request({ method: 'GET', path: 'me' });
    expect(server.requests).toHaveLength(2);
    expect(clock.sleeps).toEqual([7000]);
  });

  it('honours Retry-After given as an HTTP date', async () => {
    let n = 0;
    server = await startServer((_req, res) => {
      n++;
      const at = new Date(Date.now() + 30_000).toUTCString();
      if (n === 1) graphError(res, 503, { code: 2, message: 'down' }, { 'retry-after': at });
      else json(res, 200, { ok: true });
    });
    const clock = new FakeClock();
    await client({ clock }).request({ method: 'GET', path: 'me' });
    expect(clock.sleeps).toHaveLength(1);
    expect(clock.sleeps[0]).toBeGreaterThan(25_000);
    expect(clock.sleeps[0]).toBeLessThanOrEqual(30_000);
  });

  it('gives up at once when Retry-After is longer than the longest wait it honours', async () => {
    server = await startServer((_req, res) =>
      graphError(res, 429, { code: 80007, message: 'WABA rate limit' }, { 'retry-after': '3600' }),
    );
    const clock = new FakeClock();
    const error = await client({ clock })
      .request({ method: 'GET', path: 'me' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GraphApiError);
    expect((error as GraphApiError).retryAfterSeconds).toBe(3600);
    expect(server.requests).toHaveLength(1);
    expect(clock.sleeps).toEqual([]);
  });

  it('bounds the attempts and then throws the typed error', async () => {
    server = await startServer((_req, res) =>
      graphError(res, 500, { code: 131000, message: 'Something went wrong' }),
    );
    const clock = new FakeClock();
    const error = await client({ clock, retry: { maxAttempts: 3, random: () => 0.5 } })
      .request({ method: 'GET', path: 'me' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GraphApiError);
    expect((error as GraphApiError).category).toBe('transient');
    expect(server.requests).toHaveLength(3);
    expect(clock.sleeps).toEqual([250, 500]);
  });

  it('does not retry a GET that failed with a non-retryable error', async () => {
    server = await startServer((_req, res) =>
      graphError(res, 400, { code: 100, message: '(#100) Invalid parameter' }),
    );
    const error = await client()
      .request({ method: 'GET', path: 'me' })
      .catch((e: unknown) => e);
    expect((error as GraphApiError).category).toBe('parameter');
    expect(server.requests).toHaveLength(1);
  });

  it('retries a GET after a connection reset (network error)', async () => {
    let n = 0;
    server = await startServer((_req, res, raw) => {
      n++;
      if (n === 1) raw.socket.destroy();
      else json(res, 200, { ok: true });
    });
    const data = await client().request<{ ok: boolean }>({ method: 'GET', path: 'me' });
    expect(data.ok).toBe(true);
    expect(server.requests).toHaveLength(2);
  });

  it('retries DELETE like GET', async () => {
    let n = 0;
    server = await startServer((_req, res) => {
      n++;
      if (n === 1) graphError(res, 502, { code: 1, message: 'unknown' });
      else json(res, 200, { success: true });
    });
    await client().request({ method: 'DELETE', path: graphPath('999', 'subscribed_apps') });
    expect(server.requests.map((r) => r.method)).toEqual(['DELETE', 'DELETE']);
  });
});

describe('message sends are never blindly repeated', () => {
  it('a POST …/messages whose connection is reset after the body was read is NOT retried: UnknownOutcomeError', async () => {
    server = await startServer((_req, _res, raw) => {
      raw.socket.destroy();
    });
    const graph = new Graph(client());
    const error = await graph.messages
      .sendTemplate('5000000000000001', { to: '15550001111', name: 'hello_world', language: 'en_US' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnknownOutcomeError);
    expect((error as UnknownOutcomeError).request).toEqual({
      method: 'POST',
      path: '5000000000000001/messages',
    });
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]!.path).toBe('/v25.0/5000000000000001/messages');
    expect(JSON.parse(server.requests[0]!.body)).toMatchObject({
      messaging_product: 'whatsapp',
      to: '15550001111',
    });
  });

  it('a POST that times out waiting for the answer is an unknown outcome, not retried', async () => {
    server = await startServer(() => {
      // never answers
    });
    const error = await client({ timeoutMs: 150 })
      .request({ method: 'POST', path: graphPath('1', 'messages'), body: { to: '1' } })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnknownOutcomeError);
    expect((error as UnknownOutcomeError).errorCode).toBe('UND_ERR_HEADERS_TIMEOUT');
    expect(server.requests).toHaveLength(1);
  });

  it('a POST whose connection is refused certainly was not sent: GraphNetworkError', async () => {
    const port = await closedPort();
    const error = await client({ baseUrl: `http://127.0.0.1:${port}` })
      .request({ method: 'POST', path: graphPath('1', 'messages'), body: { to: '1' } })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GraphNetworkError);
    expect(error).not.toBeInstanceOf(UnknownOutcomeError);
    expect((error as GraphNetworkError).errorCode).toBe('ECONNREFUSED');
    expect((error as Error).message).toContain('connection refused');
  });

  it('a POST with an error answer is not retried either (the caller decides)', async () => {
    server = await startServer((_req, res) =>
      graphError(res, 400, { code: 130429, message: '(#130429) Rate limit hit' }),
    );
    const error = await client()
      .request({ method: 'POST', path: graphPath('1', 'messages'), body: {} })
      .catch((e: unknown) => e);
    expect((error as GraphApiError).category).toBe('throttling');
    expect(server.requests).toHaveLength(1);
  });

  it('an aborted GET stops waiting and rejects with the abort reason', async () => {
    server = await startServer(() => {
      // never answers
    });
    const controller = new AbortController();
    const pending = client({ signal: controller.signal })
      .request({ method: 'GET', path: 'me' })
      .catch((e: unknown) => e);
    while (server.requests.length === 0) await new Promise((r) => setTimeout(r, 5));
    controller.abort(Object.assign(new Error('Interrupted by SIGINT'), { name: 'AbortError' }));
    const error = (await pending) as Error;
    expect(error.name).toBe('AbortError');
  });
});

describe('request shape', () => {
  it('sends the bearer token in the header, never in the query, and the User-Agent', async () => {
    server = await startServer((_req, res) => json(res, 200, {}));
    await client({ userAgent: 'wacx/9.9.9' }).request({ method: 'GET', path: 'me' });
    const seen = server.requests[0]!;
    expect(seen.headers.authorization).toBe('Bearer EAATESTTOKEN');
    expect(seen.headers['user-agent']).toBe('wacx/9.9.9');
    expect(seen.query.has('access_token')).toBe(false);
    expect(seen.query.has('appsecret_proof')).toBe(false);
  });

  it('adds appsecret_proof = hex HMAC-SHA256(token, key = app secret) when an app secret is configured', async () => {
    server = await startServer((_req, res) => json(res, 200, {}));
    // printf %s EAATESTTOKEN | openssl dgst -sha256 -hmac app-secret-123
    const expected = '48731d50669b6a6313e776b92f91774a48193aebbd2e22cb5b02077c535c2dd7';
    expect(appSecretProof('EAATESTTOKEN', 'app-secret-123')).toBe(expected);
    await client({ appSecret: 'app-secret-123' }).request({ method: 'GET', path: 'me' });
    expect(server.requests[0]!.query.get('appsecret_proof')).toBe(expected);
  });

  it('percent-encodes ids in paths and pins the API version', async () => {
    server = await startServer((_req, res) => json(res, 200, {}));
    await client({ apiVersion: 'v24.0' }).request({
      method: 'GET',
      path: graphPath('a/b?c', 'phone_numbers'),
    });
    expect(server.requests[0]!.url).toBe('/v24.0/a%2Fb%3Fc/phone_numbers');
  });

  it('sends a body given as JSON text as it is, with the JSON content type', async () => {
    server = await startServer((_req, res) => json(res, 200, { ok: true }));
    const text = '{"messaging_product":"whatsapp","to":"15550001111"}';
    await client().request({ method: 'POST', path: 'x/messages', json: text, idempotent: false });
    expect(server.requests[0]!.body).toBe(text);
    expect(server.requests[0]!.headers['content-type']).toBe('application/json');
  });

  it('follows cursor pages', async () => {
    server = await startServer((req, res) => {
      if (!req.query.get('after'))
        json(res, 200, { data: [{ id: '1' }], paging: { cursors: { after: 'X' }, next: 'n' } });
      else json(res, 200, { data: [{ id: '2' }], paging: { cursors: { after: 'Y' } } });
    });
    const ids: string[] = [];
    for await (const item of client().paginate<{ id: string }>({ path: 'x' })) ids.push(item.id);
    expect(ids).toEqual(['1', '2']);
    expect(server.requests[1]!.query.get('after')).toBe('X');
  });
});

describe('base URL', () => {
  it('refuses plain http except for loopback hosts', () => {
    expect(() => validateBaseUrl('http://graph.facebook.com')).toThrow(/only allowed for loopback/);
    expect(() => validateBaseUrl('http://10.0.0.1:8080')).toThrow(/only allowed for loopback/);
    expect(() => validateBaseUrl('http://localhost.evil.com')).toThrow(/only allowed for loopback/);
    expect(() => validateBaseUrl('ftp://127.0.0.1')).toThrow();
    expect(() => validateBaseUrl('not a url')).toThrow(/Invalid Graph URL/);
    expect(() => validateBaseUrl('https://user:pass@graph.facebook.com')).toThrow(/credentials/);
    expect(validateBaseUrl('https://graph.facebook.com').host).toBe('graph.facebook.com');
    for (const ok of ['http://127.0.0.1:8787', 'http://localhost:1', 'http://[::1]:9', 'http://127.1.2.3']) {
      expect(validateBaseUrl(ok).protocol).toBe('http:');
    }
    expect(() => new GraphClient({ baseUrl: 'http://example.com' })).toThrow(/only allowed for loopback/);
  });

  it('refuses a malformed API version', () => {
    expect(() => new GraphClient({ apiVersion: '25' })).toThrow(/Invalid API version/);
  });
});
