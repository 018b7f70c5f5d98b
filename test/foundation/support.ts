import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough, Readable } from 'node:stream';
import type { DepsInit } from '../../src/cli/deps.js';
import { main } from '../../src/cli/main.js';
import type { SecretBackend } from '../../src/lib/config/secrets.js';
import type { SecretKey } from '../../src/lib/config/settings.js';

export interface SeenRequest {
  method: string;
  url: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: string;
}

export interface TestServer {
  url: string;
  port: number;
  requests: SeenRequest[];
  close(): Promise<void>;
}

/**
 * A real HTTP server on 127.0.0.1 (ephemeral port). The handler sees each request with its body already read;
 * it may answer, or do anything to the socket (destroy it, never answer).
 */
export async function startServer(
  handler: (req: SeenRequest, res: ServerResponse, raw: IncomingMessage) => void | Promise<void>,
): Promise<TestServer> {
  const requests: SeenRequest[] = [];
  const server = createServer((raw, res) => {
    const chunks: Buffer[] = [];
    raw.on('data', (c: Buffer) => chunks.push(c));
    raw.on('end', () => {
      const u = new URL(raw.url ?? '/', 'http://127.0.0.1');
      const seen: SeenRequest = {
        method: raw.method ?? 'GET',
        url: raw.url ?? '/',
        path: u.pathname,
        query: u.searchParams,
        headers: raw.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(seen);
      void handler(seen, res, raw);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function json(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

export function graphError(
  res: ServerResponse,
  status: number,
  error: { code: number; message: string; error_subcode?: number; type?: string; details?: string },
  headers: Record<string, string> = {},
): void {
  json(
    res,
    status,
    {
      error: {
        message: error.message,
        type: error.type ?? 'OAuthException',
        code: error.code,
        ...(error.error_subcode ? { error_subcode: error.error_subcode } : {}),
        ...(error.details ? { error_data: { messaging_product: 'whatsapp', details: error.details } } : {}),
        fbtrace_id: 'AtestTrace123',
      },
    },
    headers,
  );
}

/** An in-memory secret backend standing in for the OS keychain. */
export class FakeKeychain implements SecretBackend {
  readonly kind = 'keychain' as const;
  readonly entries = new Map<string, string>();
  failWrites = false;
  get(profile: string, key: SecretKey): Promise<string | undefined> {
    return Promise.resolve(this.entries.get(`${profile}:${key}`));
  }
  set(profile: string, key: SecretKey, value: string): Promise<void> {
    if (this.failWrites) return Promise.reject(new Error('keychain locked'));
    this.entries.set(`${profile}:${key}`, value);
    return Promise.resolve();
  }
  delete(profile: string, key: SecretKey): Promise<void> {
    this.entries.delete(`${profile}:${key}`);
    return Promise.resolve();
  }
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

type Tty = { isTTY?: boolean; columns?: number };

/** Runs the real main() in-process with memory streams; like test/helpers/cli.ts plus any DepsInit field. */
export async function run(
  args: string[],
  options: { env: NodeJS.ProcessEnv; stdin?: string; tty?: boolean; columns?: number } & Partial<
    Omit<DepsInit, 'env' | 'streams'>
  >,
): Promise<RunResult> {
  const { env, stdin: input, tty, columns = 80, ...init } = options;
  const stdout = new PassThrough() as PassThrough & Tty;
  const stderr = new PassThrough() as PassThrough & Tty;
  const stdin = Readable.from(input === undefined ? [] : [input]) as Readable & Tty;
  if (tty) {
    stdin.isTTY = true;
    // enough of tty.WriteStream for spinners and prompts
    for (const s of [stdout, stderr]) {
      Object.assign(s, {
        isTTY: true,
        columns,
        rows: 24,
        cursorTo: () => true,
        moveCursor: () => true,
        clearLine: () => true,
      });
    }
  }
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on('data', (d: Buffer) => out.push(d));
  stderr.on('data', (d: Buffer) => err.push(d));
  const code = await main(args, { env, streams: { stdin, stdout, stderr }, ...init });
  return { code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
}
