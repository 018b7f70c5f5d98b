import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import {
  RELAY_CALLBACK_PATH,
  RELAY_START_PATH,
  type RelayPage,
  relayCallback,
  relayStart,
} from '../onboarding/relay.js';
import type { Db } from '../store/store.js';
import type { RejectReason } from './rejections.js';
import { verifySignature } from './signature.js';
import { type IngestResult, ingestPayload, MAX_BODY_BYTES, type StoredEvent } from './storage.js';
import { type StoreWriterStats, startStoreWriter } from './store-writer.js';

/**
 * The webhook receiver (meta-cloud-api.md §8.4, conventions.md §Webhooks): answers Meta's GET verification
 * handshake, and for each POST reads the raw body (capped at 3 MB by default, --max-body) and hands it to the store
 * writer (store-writer.ts): a worker thread with its own connection verifies X-Hub-Signature-256 over those exact
 * bytes before parsing, parses and stores the events, and commits each batch (the bodies that arrived during the
 * previous commit) in one transaction. Each request is answered only once the commit holding its body is done, so a
 * 200 always means "on disk" and a shutdown never loses an acknowledged event; meanwhile the main thread keeps
 * reading and answering requests.
 *
 * Resources are bounded whoever connects (signed or not): a client has `headersTimeoutMs` to send its headers and
 * `requestTimeoutMs` to send the whole request (else 408 and the connection is closed); at most `maxConnections`
 * connections are open (more are closed at once); bodies being received or stored hold at most
 * `maxBufferedBytes` in total, counted from the declared Content-Length (the body limit when chunked) before a
 * byte of the body is read, and a request that does not fit gets 503 with Retry-After (Meta retries); `close()`
 * ends within `shutdownGraceMs`.
 */

/** Default resource limits of `startWebhookServer` (see README, "Webhooks and history import"). */
export const WEBHOOK_SERVER_LIMITS = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  maxConnections: 256,
  maxBufferedBytes: 64 * 1024 * 1024,
  shutdownGraceMs: 10_000,
  /** Seconds, in the Retry-After of a 503 when the buffer budget is spent. */
  retryAfterSeconds: 5,
} as const;

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
    | 'signup_page'
    /** 503: the bodies in flight already hold the buffer budget (`maxBufferedBytes`); nothing read or stored. */
    | 'overloaded';
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
  /** ms a client has to send the request line and headers (408, then closed). Default 10 s. */
  headersTimeoutMs?: number;
  /** ms a client has to send the whole request, headers and body (408, then closed). Default 30 s. */
  requestTimeoutMs?: number;
  /** Open connections at most; further ones are closed as soon as accepted. Default 256. */
  maxConnections?: number;
  /**
   * Bytes that bodies being received or stored may hold in total (each counted at its declared Content-Length,
   * or the body limit when chunked, from its headers on); a request that would exceed it gets 503 with
   * Retry-After before its body is read. Never below the body limit. Default 64 MB.
   */
  maxBufferedBytes?: number;
  /**
   * `close()`: how long requests still being received may take to finish. After it, complete bodies are stored
   * and answered, every other connection is destroyed, and `close()` resolves. Default 10 s.
   */
  shutdownGraceMs?: number;
  /**
   * Store in a writer thread (default), or on the main thread as a yardstick for the benchmark (the main thread
   * then stands still during each commit). Default: true, unless the environment has WACX_WEBHOOK_STORE_ON_MAIN=1.
   */
  storeInThread?: boolean;
}

export interface WebhookServerStats {
  requests: number;
  stored: number;
  duplicates: number;
  rejected: number;
  events: number;
  /** Connections open now. */
  connections: number;
  /** Connections closed as soon as accepted because `maxConnections` were open. */
  connectionsRefused: number;
  /** Bytes held now for bodies being received or stored (reserved from their headers on). */
  bufferedBytes: number;
  /** The most `bufferedBytes` has been. */
  peakBufferedBytes: number;
  /** Requests answered 503 because the buffer budget was spent. */
  overloaded: number;
  /** Requests cut by the header or request timeout (408 when the answer could still be written). */
  timedOut: number;
  /** The store writer: its thread, batches and commits. */
  store: StoreWriterStats;
}

export interface WebhookServer {
  /** e.g. http://127.0.0.1:8080/webhook */
  url: string;
  port: number;
  stats: WebhookServerStats;
  /**
   * Stops accepting and closes idle connections; requests in flight may finish (their events stored and
   * answered) for up to `shutdownGraceMs`, then complete bodies are stored and answered and every other
   * connection is destroyed. Resolves once all connections are closed, so within the grace period.
   */
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

const NO_BYTES = Buffer.alloc(0);
/** A header verifySignature takes as well-formed (whether it matches depends on the body). */
const WELL_FORMED = /^\s*sha256=(?:[0-9a-fA-F]{2})+\s*$/i;

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`startWebhookServer: ${name} must be > 0.`);
  return value;
}

export async function startWebhookServer(options: WebhookServerOptions): Promise<WebhookServer> {
  if (!options.appSecret) throw new Error('startWebhookServer needs the app secret to verify signatures.');
  const path = options.path ?? '/webhook';
  const maxBytes = options.maxBytes ?? MAX_BODY_BYTES;
  const L = WEBHOOK_SERVER_LIMITS;
  const requestTimeoutMs = positive(options.requestTimeoutMs, L.requestTimeoutMs, 'requestTimeoutMs');
  // Node requires headersTimeout <= requestTimeout
  const headersTimeoutMs = Math.min(
    positive(options.headersTimeoutMs, L.headersTimeoutMs, 'headersTimeoutMs'),
    requestTimeoutMs,
  );
  const maxConnections = Math.floor(positive(options.maxConnections, L.maxConnections, 'maxConnections'));
  // one body of the largest accepted size must always fit, or large deliveries would never be admitted
  const maxBuffered = Math.max(
    positive(options.maxBufferedBytes, L.maxBufferedBytes, 'maxBufferedBytes'),
    maxBytes,
  );
  const graceMs = positive(options.shutdownGraceMs, L.shutdownGraceMs, 'shutdownGraceMs');

  // Group commit off the main thread: each complete body goes to the store writer, which stores what arrived
  // during its previous commit in one transaction; the request is answered once that transaction committed.
  const writer = await startStoreWriter(
    options.db,
    { appSecret: options.appSecret, maxBytes },
    { thread: options.storeInThread ?? process.env.WACX_WEBHOOK_STORE_ON_MAIN !== '1' },
  );
  // sockets whose request waits for the store: at the end of the grace period they are answered, not cut
  const storing = new Set<Socket>();
  const stats: WebhookServerStats = {
    requests: 0,
    stored: 0,
    duplicates: 0,
    rejected: 0,
    events: 0,
    connections: 0,
    connectionsRefused: 0,
    bufferedBytes: 0,
    peakBufferedBytes: 0,
    overloaded: 0,
    timedOut: 0,
    store: writer.stats,
  };
  let closing = false;
  const sockets = new Set<Socket>();

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

  const handle = (req: IncomingMessage, res: ServerResponse, expectsContinue = false) => {
    const started = process.hrtime.bigint();
    stats.requests++;
    // bytes reserved for this request's body, given back once it is answered or its connection is gone
    let reserved = 0;
    const release = () => {
      stats.bufferedBytes -= reserved;
      reserved = 0;
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

    // A refusal is counted by the store writer (best effort) and answered once counted; the body is not kept.
    const refuse = (reason: RejectReason, status: number, text: string) => {
      stats.rejected++;
      res.setHeader('Connection', 'close');
      req.resume();
      const socket = req.socket;
      storing.add(socket);
      void writer.write({ kind: 'rejection', reason, at: options.clock?.now() ?? Date.now() }).then(() => {
        storing.delete(socket);
        finish(res, started, { ...base, outcome: 'rejected', reason }, status, text);
      });
    };
    const tooLarge = () => refuse('too_large', 413, 'Payload too large\n');
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > maxBytes) {
      tooLarge();
      return;
    }
    // A missing or malformed signature is refused before the body is read: that costs no buffer at all.
    // (Whether a well-formed signature matches depends on the body, so that waits for the body.)
    const sigHeader = req.headers['x-hub-signature-256'];
    const signature = Array.isArray(sigHeader) ? sigHeader[0] : sigHeader;
    // (Meta's usual header is well-formed at a glance: no need to compute an HMAC of nothing to know it)
    const precheck =
      signature !== undefined && WELL_FORMED.test(signature)
        ? { ok: true as const }
        : verifySignature(NO_BYTES, signature, options.appSecret);
    if (!precheck.ok && precheck.reason !== 'bad_signature') {
      refuse(precheck.reason, 401, `Rejected: ${precheck.reason}\n`);
      return;
    }
    // Reserve the body's bytes before reading any of it: the declared length, or the body limit when chunked.
    const need =
      req.headers['transfer-encoding'] !== undefined ? maxBytes : Number.isFinite(declared) ? declared : 0;
    if (need > 0 && stats.bufferedBytes + need > maxBuffered) {
      stats.overloaded++;
      res.setHeader('Connection', 'close');
      res.setHeader('Retry-After', String(L.retryAfterSeconds));
      finish(res, started, { ...base, outcome: 'overloaded' }, 503, 'Busy, retry later\n');
      req.resume();
      return;
    }
    reserved = need;
    stats.bufferedBytes += need;
    if (stats.bufferedBytes > stats.peakBufferedBytes) stats.peakBufferedBytes = stats.bufferedBytes;
    if (expectsContinue) res.writeContinue();

    // the body in one buffer of its own, exactly its size: posted to the store writer, it is copied as it is
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
      const socket = req.socket;
      storing.add(socket);
      const raw = Buffer.allocUnsafeSlow(size);
      let at = 0;
      for (const chunk of chunks) at += chunk.copy(raw, at);
      chunks.length = 0;
      const item = {
        kind: 'body' as const,
        raw,
        signature: signature ?? null,
        receivedAt: options.clock?.now() ?? Date.now(),
      };
      void writer.write(item).then((result) => {
        storing.delete(socket);
        if (result) for (const e of result.events) options.onEvent?.(e);
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

  const server: Server = createServer(
    {
      keepAliveTimeout: 5000,
      headersTimeout: headersTimeoutMs,
      requestTimeout: requestTimeoutMs,
      // how often Node looks for connections past these timeouts (its default, 30 s, would let them run over)
      connectionsCheckingInterval: Math.max(10, Math.min(1000, Math.floor(headersTimeoutMs / 4))),
    },
    handle,
  );
  server.maxConnections = maxConnections;
  server.on('drop', () => {
    stats.connectionsRefused++;
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    stats.connections = sockets.size;
    socket.once('close', () => {
      sockets.delete(socket);
      stats.connections = sockets.size;
    });
  });
  // Expect: 100-continue is granted only to a request whose body fits the buffer budget
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => handle(req, res, true));
  // Node's own answers to broken or slow requests (400, 408, 431), counting the timeouts
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') stats.timedOut++;
    const message = (socket as Socket & { _httpMessage?: ServerResponse })._httpMessage;
    if (socket.writable && !message?.headersSent) {
      const head =
        err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? '408 Request Timeout'
          : err.code === 'HPE_HEADER_OVERFLOW'
            ? '431 Request Header Fields Too Large'
            : err.code === 'HPE_CHUNK_EXTENSIONS_OVERFLOW'
              ? '413 Payload Too Large'
              : '400 Bad Request';
      socket.write(`HTTP/1.1 ${head}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    }
    socket.destroy();
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    await writer.close();
    throw error;
  }
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
        // After the grace period: destroy what is left (stalled uploads, slow headers, idle keep-alive), except
        // the connections whose complete body the store writer holds: those are answered once it is committed (a
        // 200 still means stored), then closed (Connection: close).
        const deadline = setTimeout(() => {
          for (const socket of sockets) if (!storing.has(socket)) socket.destroy();
        }, graceMs);
        // stop accepting; idle keep-alive connections go now, busy ones once their request is answered
        // (answers sent while closing carry Connection: close); then the writer thread writes what it still
        // holds and ends
        server.close(() => {
          clearTimeout(deadline);
          void writer.close().then(resolve, resolve);
        });
        server.closeIdleConnections();
      });
      return closed;
    },
  };
}
