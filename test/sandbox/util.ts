/** Helpers for the sandbox's own tests: a tiny Graph caller (fetch) and a webhook receiver (node:http). */
import { createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SEED } from '../../src/sandbox/seed.js';

// biome-ignore lint/suspicious/noExplicitAny: Graph answers are ad-hoc JSON read by tests
export interface Answer<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export function graph(baseUrl: string, opts: { token?: string | null; version?: string } = {}) {
  const version = opts.version ?? 'v25.0';
  const token = opts.token === undefined ? SEED.token : opts.token;
  const call = async (
    method: string,
    path: string,
    body?: unknown,
    extraHeaders: Record<string, string> = {},
  ): Promise<Answer> => {
    const headers: Record<string, string> = { ...extraHeaders };
    if (token) headers.authorization = `Bearer ${token}`;
    let payload: string | undefined;
    if (body !== undefined) {
      if (body instanceof URLSearchParams) {
        headers['content-type'] = 'application/x-www-form-urlencoded';
        payload = body.toString();
      } else {
        headers['content-type'] = 'application/json';
        payload = JSON.stringify(body);
      }
    }
    const url = path.startsWith('http') ? path : `${baseUrl}/${version}/${path.replace(/^\/+/, '')}`;
    const res = await fetch(url, { method, headers, body: payload, redirect: 'manual' });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      // keep text
    }
    return { status: res.status, headers: res.headers, body: parsed, text };
  };
  return {
    get: (path: string, headers?: Record<string, string>) => call('GET', path, undefined, headers),
    post: (path: string, body?: unknown, headers?: Record<string, string>) =>
      call('POST', path, body ?? {}, headers),
    del: (path: string) => call('DELETE', path),
  };
}

export function templateSend(
  to: string,
  name: string,
  language: string,
  components?: unknown[],
  cb?: string,
) {
  return {
    messaging_product: 'whatsapp',
    recipient_type: 'individual',
    to,
    type: 'template',
    template: { name, language: { code: language }, ...(components ? { components } : {}) },
    ...(cb ? { biz_opaque_callback_data: cb } : {}),
  };
}

export const orderUpdate = (to: string, cb?: string) =>
  templateSend(
    to,
    'order_update',
    'en_US',
    [
      {
        type: 'body',
        parameters: [
          { type: 'text', text: 'Ana' },
          { type: 'text', text: 'A-1001' },
        ],
      },
    ],
    cb,
  );

export interface Received {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  raw: string;
  // biome-ignore lint/suspicious/noExplicitAny: webhook bodies are ad-hoc JSON read by tests
  body: any;
}

/** A webhook receiver answering `statusFor(n)` to the n-th POST (default 200) and the handshake by verify token. */
export async function startReceiver(
  opts: { verifyToken?: string; statusFor?: (n: number) => number; challengeOverride?: string } = {},
) {
  const received: Received[] = [];
  const handshakes: URLSearchParams[] = [];
  let posts = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const url = new URL(req.url ?? '/', 'http://x');
      if (req.method === 'GET') {
        handshakes.push(url.searchParams);
        const ok = url.searchParams.get('hub.verify_token') === (opts.verifyToken ?? SEED.verifyToken);
        res.writeHead(ok ? 200 : 403);
        res.end(ok ? (opts.challengeOverride ?? url.searchParams.get('hub.challenge') ?? '') : 'forbidden');
        return;
      }
      posts++;
      let body: unknown = null;
      try {
        body = JSON.parse(raw);
      } catch {
        body = null;
      }
      received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, raw, body });
      const status = opts.statusFor ? opts.statusFor(posts) : 200;
      res.writeHead(status);
      res.end(status === 200 ? 'EVENT_RECEIVED' : 'nope');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhook`;
  return {
    url,
    received,
    handshakes,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

export function validSignature(
  raw: string,
  signature: string | string[] | undefined,
  secret: string = SEED.app.secret,
): boolean {
  if (typeof signature !== 'string') return false;
  const expected = Buffer.from(`sha256=${createHmac('sha256', secret).update(raw, 'utf8').digest('hex')}`);
  const got = Buffer.from(signature);
  return expected.length === got.length && timingSafeEqual(expected, got);
}

export async function waitFor<T>(
  fn: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 5000,
): Promise<T> {
  const started = Date.now();
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() - started > timeoutMs) throw new Error('timed out waiting for a condition');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** An APPROVED AUTHENTICATION template (copy-code OTP button), created through the Graph API. */
export async function createAuthTemplate(api: ReturnType<typeof graph>, flush: () => Promise<void>) {
  const created = await api.post(`${SEED.waba.id}/message_templates`, {
    name: 'login_code',
    language: 'en_US',
    category: 'AUTHENTICATION',
    components: [
      { type: 'BODY', text: '{{1}} is your verification code.', add_security_recommendation: true },
      { type: 'BUTTONS', buttons: [{ type: 'OTP', otp_type: 'COPY_CODE', text: 'Copy code' }] },
    ],
  });
  if (created.status !== 200) throw new Error(`creating login_code: HTTP ${created.status} ${created.text}`);
  await flush();
}
