import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/lib/clock.js';
import { GraphClient, graphPath } from '../../src/lib/graph/client.js';
import type { GraphApiError } from '../../src/lib/graph/errors.js';
import { graphError, json, startServer, type TestServer } from '../foundation/support.js';

/**
 * The client reads each answer through undici's dispatch() with its own handler (no Readable body, no parsed headers
 * object unless asked for): what callers see must be what undici's request() API gave them.
 */
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
    ...options,
  });
  clients.push(c);
  return c;
}

describe('GraphClient answers read through dispatch()', () => {
  it('decodes a UTF-8 body that arrives in several chunks, split inside a character', async () => {
    const text = JSON.stringify({ name: 'Grüße 👋 ünïcödé', pad: 'x'.repeat(20_000) });
    const bytes = Buffer.from(text, 'utf8');
    const cut = bytes.indexOf(Buffer.from('👋', 'utf8')) + 2;
    server = await startServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write(bytes.subarray(0, cut));
      setTimeout(() => res.end(bytes.subarray(cut)), 20);
    });
    const data = await client().request<{ name: string; pad: string }>({ method: 'GET', path: 'me' });
    expect(data.name).toBe('Grüße 👋 ünïcödé');
    expect(data.pad).toHaveLength(20_000);
  });

  it('gives the headers object on demand: lower-case names, a repeated header as an array', async () => {
    server = await startServer((_req, res) => {
      res.setHeader('X-Business-Use-Case-Usage', '{"1":[]}');
      res.setHeader('Set-Cookie', ['a=1', 'b=2']);
      json(res, 200, { id: '1' }, { 'X-FB-Trace-Id': 'TRACE1' });
    });
    const res = await client().requestWithHeaders<{ id: string }>({ method: 'GET', path: 'me' });
    expect(res.status).toBe(200);
    expect(res.data).toEqual({ id: '1' });
    expect(res.headers['x-fb-trace-id']).toBe('TRACE1');
    expect(res.headers['x-business-use-case-usage']).toBe('{"1":[]}');
    expect(res.headers['set-cookie']).toEqual(['a=1', 'b=2']);
  });

  it('reads Retry-After of an error answer to a POST without building the headers object', async () => {
    server = await startServer((_req, res) =>
      graphError(res, 429, { code: 130429, message: '(#130429) Rate limit hit' }, { 'Retry-After': '3' }),
    );
    const error = (await client()
      .request({ method: 'POST', path: graphPath('1', 'messages'), body: { to: '1' } })
      .catch((e: unknown) => e)) as GraphApiError;
    expect(error.category).toBe('throttling');
    expect(error.retryAfterSeconds).toBe(3);
  });

  it('keeps each call its own headers: a token given per call, a form body, a JSON body', async () => {
    server = await startServer((_req, res) => json(res, 200, {}));
    const c = client();
    await c.request({ method: 'POST', path: 'a', body: { x: 1 } });
    await c.request({ method: 'POST', path: 'a', form: { y: '2' }, token: 'APP|SECRET' });
    await c.request({ method: 'GET', path: 'a', token: null });
    await c.request({ method: 'POST', path: 'a', body: { z: 3 } });
    const seen = server.requests.map((r) => [
      r.headers.authorization ?? null,
      r.headers['content-type'] ?? null,
      r.body,
    ]);
    expect(seen).toEqual([
      ['Bearer EAATESTTOKEN', 'application/json', '{"x":1}'],
      ['Bearer APP|SECRET', 'application/x-www-form-urlencoded', 'y=2'],
      [null, null, ''],
      ['Bearer EAATESTTOKEN', 'application/json', '{"z":3}'],
    ]);
  });

  it('a signal aborted while the answer is awaited stops the request with the signal reason', async () => {
    server = await startServer(() => {
      // never answers
    });
    const controller = new AbortController();
    const pending = client()
      .request({ method: 'GET', path: 'me', signal: controller.signal, retry: false })
      .catch((e: unknown) => e);
    while (server.requests.length === 0) await new Promise((r) => setTimeout(r, 5));
    controller.abort(Object.assign(new Error('Interrupted by SIGTERM'), { name: 'AbortError' }));
    const error = (await pending) as Error;
    expect(error.message).toBe('Interrupted by SIGTERM');
  });
});
