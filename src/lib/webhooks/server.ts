import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  RELAY_CALLBACK_PATH,
  RELAY_START_PATH,
  type RelayPage,
  relayCallback,
  relayStart,
} from '../onboarding/relay.js';
import type { Db } from '../store/sqlite.js';
import {
  type IngestResult,
  ingestPayload,
  MAX_BODY_BYTES,
  type RejectReason,
  recordRejection,
  type StoredEvent,
} from './storage.js';

/**
 * The webhook receiver (meta-cloud-api.md §8.4, conventions.md §Webhooks): answers Meta's GET verification
 * handshake, and for each POST reads the raw body (capped at 1 MB), verifies X-Hub-Signature-256 over those
 * exact bytes before parsing, stores the events synchronously in SQLite (one writer) and only then answers
 * 200. A 200 therefore always means "on disk": a shutdown never loses an acknowledged event.
 */

export interface RequestOutcome {
  method: string;
  status: number;
  outcome:
    | IngestResult['outcome']
    | 'verified'
    | 'verify_refused'
    | 'not_found'
    | 'method_not_allowed'
    /** A signup redirect for a waiting `wacx onboard` (GET /onboard/callback) was recorded. */
    | 'signup_recorded'
    /** Another /onboard/* answer (the start link, an unknown state). */
    | 'signup_page';
  reason?: RejectReason | undefined;
  events: number;
  duplicates: number;
  /** Time from the request's arrival to the answer, in ms. */
  ms: number;
}

export interface WebhookHandlerOptions {
  db: Db;
  appSecret: string;
  /** Token expected in hub.verify_token; without one every handshake is refused (403). */
  verifyToken?: string | undefined;
  maxBytes?: number;
  /** Each new event, once stored. */
  onEvent?: (event: StoredEvent) => void;
  /** Each request, once answered (for logs and counters). */
  onRequest?: (outcome: RequestOutcome) => void;
  clock?: { now(): number };
}

export interface WebhookServerOptions extends WebhookHandlerOptions {
  port?: number;
  host?: string;
  /** Callback path, default /webhook. */
  path?: string;
}

export interface WebhookServerStats {
  requests: number;
  stored: number;
  duplicates: number;
  rejected: number;
  events: number;
}

export interface WebhookServer {
  /** e.g. http://127.0.0.1:8080/webhook */
  url: string;
  port: number;
  stats: WebhookServerStats;
  /** Stops accepting, lets in-flight requests finish (their events stored and answered), then resolves. */
  close(): Promise<void>;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function relayHtml(p: RelayPage): string {
  return `<!doctype html><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>wacx: ${escapeHtml(p.title)}</title>
<body style="font-family:system-ui,sans-serif;max-width:36em;margin:3em auto;padding:0 1em"><h1>${escapeHtml(p.title)}</h1><p>${escapeHtml(p.text)}</p></body>`;
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The answer to Meta's verification GET: the raw challenge when mode and token match, else null (→ 403). */
export function verifyHandshake(query: URLSearchParams, verifyToken: string | undefined): string | null {
  const mode = query.get('hub.mode');
  const token = query.get('hub.verify_token');
  const challenge = query.get('hub.challenge');
  if (mode !== 'subscribe' || !verifyToken || token === null || challenge === null) return null;
  return safeEqual(token, verifyToken) ? challenge : null;
}

/**
 * The POST part on its own (no HTTP server): verify, store, and the status to answer. Used by the server,
 * and usable as the sandbox's in-process `webhookSink`.
 */
function ingestHttp(
  options: WebhookHandlerOptions,
  rawBody: Buffer | string,
  headers: Record<string, string | string[] | undefined>,
): IngestResult {
  const sigHeader = headers['x-hub-signature-256'] ?? headers['X-Hub-Signature-256'];
  const signature = Array.isArray(sigHeader) ? sigHeader[0] : sigHeader;
  return ingestPayload(options.db, rawBody, {
    signature: signature ?? null,
    appSecret: options.appSecret,
    requireSignature: true,
    receivedAt: options.clock?.now() ?? Date.now(),
    source: 'http',
    maxBytes: options.maxBytes ?? MAX_BODY_BYTES,
  });
}

/**
 * The POST part on its own (no HTTP server): verify, store, and the status to answer (`.httpStatus`). Used as
 * the sandbox's in-process `webhookSink`.
 */
export function createWebhookSink(
  options: WebhookHandlerOptions,
): (rawBody: Buffer | string, headers: Record<string, string | string[] | undefined>) => IngestResult {
  return (rawBody, headers) => {
    const result = ingestHttp(options, rawBody, headers);
    for (const e of result.events) options.onEvent?.(e);
    return result;
  };
}

export async function startWebhookServer(options: WebhookServerOptions): Promise<WebhookServer> {
  if (!options.appSecret) throw new Error('startWebhookServer needs the app secret to verify signatures.');
  const path = options.path ?? '/webhook';
  const maxBytes = options.maxBytes ?? MAX_BODY_BYTES;
  const stats: WebhookServerStats = { requests: 0, stored: 0, duplicates: 0, rejected: 0, events: 0 };
  let closing = false;
  let inFlight = 0;
  let drained: (() => void) | undefined;

  // Group commit: bodies complete in the same turn of the event loop are stored in ONE transaction (each
  // payload a savepoint inside it), then answered. Nothing is answered before its transaction committed.
  type Pending = {
    raw: Buffer;
    headers: Record<string, string | string[] | undefined>;
    done: (r: IngestResult | null) => void;
  };
  let queue: Pending[] = [];
  const storeBatch = options.db.transaction((batch: Pending[]) =>
    batch.map((p) => ingestHttp(options, p.raw, p.headers)),
  );
  const flush = () => {
    const batch = queue;
    queue = [];
    let results: (IngestResult | null)[];
    try {
      results = storeBatch(batch);
    } catch {
      // one bad apple must not fail the others: retry them one by one
      results = batch.map((p) => {
        try {
          return ingestHttp(options, p.raw, p.headers);
        } catch {
          return null;
        }
      });
    }
    batch.forEach((p, i) => {
      const r = results[i] ?? null;
      if (r) for (const e of r.events) options.onEvent?.(e);
      p.done(r);
    });
  };
  const enqueue = (raw: Buffer, headers: Pending['headers'], done: Pending['done']) => {
    queue.push({ raw, headers, done });
    if (queue.length === 1) setImmediate(flush);
  };

  const finish = (
    res: ServerResponse,
    started: bigint,
    o: Omit<RequestOutcome, 'ms' | 'status'>,
    status: number,
    body = '',
  ) => {
    if (closing) res.setHeader('Connection', 'close');
    res.writeHead(status, {
      'Content-Type': 'text/plain; charset=utf-8',
      'Content-Length': Buffer.byteLength(body),
    });
    res.end(body);
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    options.onRequest?.({ ...o, status, ms });
  };

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const started = process.hrtime.bigint();
    stats.requests++;
    inFlight++;
    let done = false;
    const release = () => {
      if (done) return;
      done = true;
      inFlight--;
      if (inFlight === 0 && drained) drained();
    };
    res.on('close', release);
    res.on('finish', release);

    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = req.method ?? 'GET';
    const base = { method, events: 0, duplicates: 0 };
    if (method === 'GET' && (url.pathname === RELAY_CALLBACK_PATH || url.pathname === RELAY_START_PATH)) {
      const now = options.clock?.now() ?? Date.now();
      let page: RelayPage;
      try {
        page =
          url.pathname === RELAY_START_PATH
            ? relayStart(options.db, url.searchParams, now)
            : relayCallback(options.db, url.searchParams, now);
      } catch {
        page = { status: 500, title: 'Error', text: 'The store could not be read.', recorded: false };
      }
      if (page.location) res.setHeader('Location', page.location);
      res.setHeader('Cache-Control', 'no-store');
      const html = relayHtml(page);
      if (closing) res.setHeader('Connection', 'close');
      res.writeHead(page.status, {
        'Content-Type': 'text/html; charset=utf-8',
        'Content-Length': Buffer.byteLength(html),
      });
      res.end(html);
      options.onRequest?.({
        ...base,
        outcome: page.recorded ? 'signup_recorded' : 'signup_page',
        status: page.status,
        ms: Number(process.hrtime.bigint() - started) / 1e6,
      });
      return;
    }
    if (url.pathname !== path && url.pathname !== `${path}/`) {
      req.resume();
      finish(res, started, { ...base, outcome: 'not_found' }, 404, 'Not found\n');
      return;
    }
    if (method === 'GET') {
      const challenge = verifyHandshake(url.searchParams, options.verifyToken);
      if (challenge === null)
        finish(res, started, { ...base, outcome: 'verify_refused' }, 403, 'Forbidden\n');
      else finish(res, started, { ...base, outcome: 'verified' }, 200, challenge);
      return;
    }
    if (method !== 'POST') {
      req.resume();
      res.setHeader('Allow', 'GET, POST');
      finish(res, started, { ...base, outcome: 'method_not_allowed' }, 405, 'Method not allowed\n');
      return;
    }

    const tooLarge = () => {
      stats.rejected++;
      try {
        recordRejection(options.db, 'too_large', options.clock?.now() ?? Date.now(), 'http');
      } catch {
        // counting is best effort
      }
      res.setHeader('Connection', 'close');
      finish(res, started, { ...base, outcome: 'rejected', reason: 'too_large' }, 413, 'Payload too large\n');
      req.resume();
    };
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > maxBytes) {
      tooLarge();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let overflow = false;
    req.on('data', (chunk: Buffer) => {
      if (overflow) return;
      size += chunk.length;
      if (size > maxBytes) {
        overflow = true;
        chunks.length = 0;
        tooLarge();
        return;
      }
      chunks.push(chunk);
    });
    req.on('error', () => {
      // client went away mid-body: nothing stored, nothing acknowledged
      if (!res.headersSent) res.destroy();
    });
    req.on('end', () => {
      if (overflow) return;
      enqueue(Buffer.concat(chunks, size), req.headers, (result) => {
        if (result === null) {
          // the store failed (disk full, locked…): 500 so that Meta retries later
          stats.rejected++;
          finish(res, started, { ...base, outcome: 'rejected' }, 500, 'Internal error\n');
          return;
        }
        if (result.outcome === 'stored') stats.stored++;
        else if (result.outcome === 'duplicate') stats.duplicates++;
        else stats.rejected++;
        stats.events += result.events.length;
        const body = result.outcome === 'rejected' ? `Rejected: ${result.reason}\n` : 'OK\n';
        finish(
          res,
          started,
          {
            method,
            outcome: result.outcome,
            reason: result.reason,
            events: result.events.length,
            duplicates: result.duplicates,
          },
          result.httpStatus,
          body,
        );
      });
    });
  };

  const server: Server = createServer({ keepAliveTimeout: 5000 }, handle);
  server.headersTimeout = 30_000;
  server.requestTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  let closed: Promise<void> | undefined;

  return {
    url: `http://${host}:${addr.port}${path}`,
    port: addr.port,
    stats,
    close() {
      closed ??= new Promise<void>((resolve) => {
        closing = true;
        // stop accepting; idle keep-alive connections go now, busy ones once their request is answered
        server.close(() => resolve());
        server.closeIdleConnections();
        const waitDrain = new Promise<void>((r) => {
          if (inFlight === 0) r();
          else drained = r;
        });
        void waitDrain.then(() => server.closeIdleConnections());
      });
      return closed;
    },
  };
}
