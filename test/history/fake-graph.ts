import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A tiny Graph stand-in for the smb_app_data guards (GET phone number, POST smb_app_data). */
export interface FakeGraph {
  url: string;
  calls: { method: string; path: string; body: unknown }[];
  /** Phone number id → last_onboarded_time (Graph format) or null. */
  onboarded: Map<string, string | null>;
  /** Answer for the next smb_app_data POSTs: a request id, or a Graph error code. */
  answer: { code?: number; status?: number };
  close(): Promise<void>;
}

export function graphTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, '+0000');
}

export async function startFakeGraph(): Promise<FakeGraph> {
  const calls: FakeGraph['calls'] = [];
  const onboarded = new Map<string, string | null>();
  const fake = { calls, onboarded, answer: {} } as FakeGraph;
  let n = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const parts = url.pathname.split('/').filter(Boolean); // [v25.0, id, edge?]
      const body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString()) : null;
      calls.push({ method: req.method ?? '', path: parts.slice(1).join('/'), body });
      const send = (status: number, obj: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(obj));
      };
      const id = parts[1] ?? '';
      if (req.method === 'GET' && parts.length === 2) {
        const t = onboarded.get(id);
        return send(200, { id, ...(t ? { last_onboarded_time: t } : {}), is_on_biz_app: true });
      }
      if (req.method === 'POST' && parts[2] === 'smb_app_data') {
        if (fake.answer.code) {
          return send(fake.answer.status ?? 400, {
            error: {
              message: `error ${fake.answer.code}`,
              type: 'OAuthException',
              code: fake.answer.code,
              fbtrace_id: 'T',
            },
          });
        }
        n++;
        return send(200, { messaging_product: 'whatsapp', request_id: `req-${n}` });
      }
      send(404, { error: { message: 'unknown path', code: 100 } });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  fake.close = () =>
    new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    });
  return fake;
}
