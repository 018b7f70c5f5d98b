/**
 * The sandbox server: node:http, Graph-style routing, auth, appsecret_proof, management rate limits,
 * fault injection, and the shared state the route modules work on.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SandboxClock, Scheduler } from './clock.js';
import { gerr, SandboxGraphError, unknownPath } from './errors.js';
import {
  asciiJson,
  BadBody,
  BodyTooLarge,
  newTraceId,
  type ParsedRequest,
  parseBody,
  parseQuery,
  readBody,
  send,
  strParam,
} from './http.js';
import type { SandboxOptions } from './options.js';
import { MEDIA_DOWNLOAD_PATH, serveMediaDownload } from './routes-media.js';
import { SEED } from './seed.js';
import { servedVersion } from './versions.js';
import { WebhookDispatcher } from './webhooks.js';
import { type NumberState, type TemplateState, type TokenState, World } from './world.js';

export type Auth = { kind: 'app' } | { kind: 'user'; token: TokenState };

export interface Ctx {
  req: ParsedRequest;
  version: string;
  traceId: string;
  /** Response headers (trace id, version, usage…); handlers may add. */
  headers: Record<string, string>;
}

export interface Result {
  status?: number;
  json?: unknown;
  /** A pre-serialised JSON body (hot path). */
  raw?: string;
  redirect?: string;
  html?: string;
  text?: string;
}

export type GraphRouter = (core: SandboxCore, ctx: Ctx) => Result | Promise<Result>;
export type ControlRouter = (core: SandboxCore, req: ParsedRequest) => Promise<Result>;

export interface Faults {
  errorRate: number;
  resetRate: number;
  latencyMs: number;
  /** Only paths containing this string (e.g. "/messages"); null = every Graph path. */
  path: string | null;
  /** Reset the connection before processing the request, or after (the request took effect). */
  resetMode: 'after' | 'before';
}

const VERSION_RE = /^v(\d{2})\.0$/;
const CONTROL_PREFIX = '/__sandbox/';

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class SandboxCore {
  url = '';
  readonly options: SandboxOptions;
  readonly clock = new SandboxClock();
  readonly scheduler: Scheduler;
  readonly webhooks: WebhookDispatcher;
  world!: World;
  random: () => number;
  readonly appSecret: string;
  readonly verifyToken: string;
  readonly reviewDelayMs: number;
  statusDelayMs: number;
  historyDelayMs: number;
  requireProof: boolean;
  throttleStatus: number;
  scenarios = {
    historyDeclined: false,
    signupDeclined: false,
    faults: { errorRate: 0, resetRate: 0, latencyMs: 0, path: null, resetMode: 'after' } as Faults,
    applied: [] as { name: string; params: Record<string, unknown>; at: number }[],
  };
  /** Pending status webhooks per phone number, flushed in batches after each scheduler run. */
  statusOutbox = new Map<string, Record<string, unknown>[]>();
  private server: http.Server | undefined;
  private graphRouter: GraphRouter | undefined;
  private controlRouter: ControlRouter | undefined;
  private readonly logFn: ((line: string) => void) | undefined;

  constructor(options: SandboxOptions) {
    this.options = options;
    this.appSecret = options.appSecret ?? SEED.app.secret;
    this.verifyToken = options.verifyToken ?? SEED.verifyToken;
    this.reviewDelayMs = options.reviewDelayMs ?? 2000;
    this.statusDelayMs = options.statusDelayMs ?? 500;
    this.historyDelayMs = options.historyDelayMs ?? 300;
    this.requireProof = options.requireAppSecretProof ?? false;
    this.throttleStatus = options.throttleStatus ?? 400;
    this.random = mulberry32(options.randomSeed ?? 0x5eed);
    this.logFn = options.quiet
      ? undefined
      : (options.log ??
        (options.quiet === false ? (l: string) => process.stderr.write(`${l}\n`) : undefined));
    this.scheduler = new Scheduler(this.clock);
    this.webhooks = new WebhookDispatcher(
      {
        clock: this.clock,
        scheduler: this.scheduler,
        appSecret: () => this.appSecret,
        sink: options.webhookSink,
        ownReceiverUrl: () => this.receiverUrl,
        ownVerifyToken: () => this.verifyToken,
        random: () => this.random(),
        log: (l) => this.log(l),
      },
      {
        retryBaseMs: options.webhookRetryBaseMs ?? 1000,
        maxAttempts: options.webhookMaxAttempts ?? 6,
        duplicateRate: options.webhookDuplicateRate ?? 0,
        concurrency: options.webhookConcurrency ?? 1,
      },
    );
  }

  get receiverUrl(): string {
    return `${this.url}/__sandbox/receiver`;
  }

  setRouters(graph: GraphRouter, control: ControlRouter): void {
    this.graphRouter = graph;
    this.controlRouter = control;
  }

  resetWorld(): void {
    this.world = new World(this.clock.now(), {
      appSecret: this.appSecret,
      callbackUrl: this.options.webhookUrl ?? this.receiverUrl,
      verifyToken: this.verifyToken,
      problemTemplates: this.options.problemTemplates ?? true,
    });
  }

  log(line: string): void {
    this.logFn?.(line);
  }

  // ---------------------------------------------------------------- server

  async listen(): Promise<void> {
    const server = http.createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        this.log(
          `internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
        );
        if (!res.headersSent) {
          send(
            res,
            500,
            asciiJson(gerr(1, 'An unknown error occurred', { transient: true }).body(newTraceId())),
            {},
          );
        } else res.destroy();
      });
    });
    server.headersTimeout = 30_000;
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port ?? 0, this.options.host ?? '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    const addr = server.address() as AddressInfo;
    const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
    this.url = `http://${host}:${addr.port}`;
  }

  async close(): Promise<void> {
    this.scheduler.close();
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const full = req.url ?? '/';
    const q = full.indexOf('?');
    const pathname = q === -1 ? full : full.slice(0, q);
    const method = req.method ?? 'GET';
    let rawBody = '';
    try {
      rawBody = method === 'GET' || method === 'HEAD' ? '' : await readBody(req);
    } catch (error) {
      if (error instanceof BodyTooLarge) {
        send(res, 413, asciiJson(gerr(100, 'Request body too large').body(newTraceId())), {});
        return;
      }
      throw error;
    }
    const traceId = newTraceId();
    const headers: Record<string, string> = { 'x-fb-trace-id': traceId, 'x-fb-request-id': traceId };
    let parsed: ParsedRequest;
    try {
      parsed = {
        method,
        pathname,
        segments: pathname.split('/').filter(Boolean),
        query: q === -1 ? {} : parseQuery(full.slice(q + 1)),
        body: parseBody(rawBody, req.headers['content-type']),
        rawBody,
        headers: req.headers,
      };
    } catch (error) {
      const e = error instanceof BadBody ? gerr(100, error.message) : gerr(100, 'Invalid request');
      send(res, e.status, asciiJson(e.body(traceId)), headers);
      return;
    }

    if (pathname === MEDIA_DOWNLOAD_PATH) {
      serveMediaDownload(this, parsed, res, headers, traceId);
      return;
    }
    if (pathname.startsWith(CONTROL_PREFIX)) {
      const result = await this.controlRouter!(this, parsed);
      this.write(res, result, headers);
      return;
    }

    // fault injection (Graph paths only)
    const f = this.scenarios.faults;
    const faulty = f.path === null || pathname.includes(f.path);
    if (faulty && f.latencyMs > 0) await new Promise((r) => setTimeout(r, f.latencyMs));
    if (faulty && f.resetRate > 0 && f.resetMode === 'before' && this.random() < f.resetRate) {
      this.log(`${method} ${pathname} -> connection reset (fault, before processing)`);
      req.socket.destroy();
      return;
    }
    if (faulty && f.errorRate > 0 && this.random() < f.errorRate) {
      const e = gerr(2, 'Service temporarily unavailable', { transient: true, status: 503 });
      this.log(`${method} ${pathname} -> 503 (fault)`);
      send(res, 503, asciiJson(e.body(traceId)), headers);
      return;
    }
    const resetAfter = faulty && f.resetRate > 0 && f.resetMode === 'after' && this.random() < f.resetRate;

    let result: Result;
    const segs = parsed.segments;
    const vm = segs.length > 0 ? VERSION_RE.exec(segs[0]!) : null;
    try {
      if (!vm) throw unknownPath(pathname);
      const version = servedVersion(segs[0]!, Number(vm[1]), this.clock.now(), this.options.expiredVersion);
      headers['facebook-api-version'] = version;
      result = await this.graphRouter!(this, { req: parsed, version, traceId, headers });
    } catch (error) {
      if (!(error instanceof SandboxGraphError)) throw error;
      if (error.options.headers) Object.assign(headers, error.options.headers);
      result = { status: error.status, raw: asciiJson(error.body(traceId)) };
    }
    if (resetAfter) {
      this.log(`${method} ${pathname} -> connection reset (fault, after processing)`);
      req.socket.destroy();
      return;
    }
    if (this.logFn)
      this.log(`${method} ${redactPath(full)} -> ${result.status ?? (result.redirect ? 302 : 200)}`);
    this.write(res, result, headers);
  }

  private write(res: ServerResponse, result: Result, headers: Record<string, string>): void {
    if (result.redirect) {
      headers.location = result.redirect;
      send(res, result.status ?? 302, '', headers, 'text/plain; charset=UTF-8');
      return;
    }
    if (result.text !== undefined) {
      send(res, result.status ?? 200, result.text, headers, 'text/plain; charset=UTF-8');
      return;
    }
    if (result.html !== undefined) {
      send(res, result.status ?? 200, result.html, headers, 'text/html; charset=UTF-8');
      return;
    }
    const body = result.raw ?? asciiJson(result.json ?? {});
    send(res, result.status ?? 200, body, headers);
  }

  // ---------------------------------------------------------------- auth

  /** The access token of a request (Bearer header or access_token parameter). */
  tokenOf(req: ParsedRequest): string | undefined {
    const h = req.headers.authorization;
    if (h) {
      const m = /^(?:Bearer|OAuth)\s+(.+)$/i.exec(h.trim());
      if (m) return m[1]!.trim();
    }
    return strParam(req, 'access_token');
  }

  /**
   * Authenticates a Graph call. `app`: 'no' rejects app tokens (code 10), 'allowed' accepts them, 'only'
   * requires one (code 15).
   */
  authenticate(ctx: Ctx, app: 'no' | 'allowed' | 'only' = 'no'): Auth {
    const token = this.tokenOf(ctx.req);
    if (!token) {
      throw gerr(104, 'An access token is required to request this resource.', { bare: true, status: 400 });
    }
    let auth: Auth;
    const appPrefix = `${SEED.app.id}|`;
    if (token.startsWith(appPrefix)) {
      if (token !== `${appPrefix}${this.appSecret}`) {
        throw gerr(190, 'Invalid OAuth access token signature.', { bare: true });
      }
      auth = { kind: 'app' };
    } else {
      const t = this.world.tokens.get(token);
      if (!t) throw gerr(190, 'Invalid OAuth access token - Cannot parse access token', { bare: true });
      if (t.revoked) {
        throw gerr(
          190,
          'Error validating access token: The session has been invalidated because the user changed their password or Facebook has changed the session for security reasons.',
          { bare: true, subcode: 460 },
        );
      }
      auth = { kind: 'user', token: t };
    }
    this.checkProof(ctx.req, token);
    if (app === 'only' && auth.kind !== 'app') {
      throw gerr(15, 'This method must be called with an app access_token.');
    }
    if (app === 'no' && auth.kind === 'app') {
      throw gerr(10, 'Application does not have permission for this action', {
        details: 'Use a system user or business token, not the app token.',
      });
    }
    return auth;
  }

  private checkProof(req: ParsedRequest, token: string): void {
    const proof = strParam(req, 'appsecret_proof');
    if (!proof) {
      if (this.requireProof) {
        throw gerr(100, 'API calls from the server require an appsecret_proof argument', { bare: false });
      }
      return;
    }
    const time = strParam(req, 'appsecret_time');
    let expected: string;
    if (time !== undefined) {
      const t = Number(time);
      if (!Number.isInteger(t) || Math.abs(this.clock.nowSeconds() - t) > 300) {
        throw gerr(100, 'appsecret_time is invalid or expired (proofs live 5 minutes)');
      }
      expected = createHmac('sha256', this.appSecret).update(`${token}|${time}`).digest('hex');
    } else {
      expected = createHmac('sha256', this.appSecret).update(token).digest('hex');
    }
    const a = Buffer.from(expected);
    const b = Buffer.from(proof.toLowerCase());
    if (a.length !== b.length || !timingSafeEqual(a, b)) {
      throw gerr(100, 'Invalid appsecret_proof provided in the API argument');
    }
  }

  // ---------------------------------------------------------------- limits

  /**
   * Counts a management call against the WABA's hourly budget (meta-cloud-api.md §4.3), sets
   * X-Business-Use-Case-Usage, and answers 80007 over the limit.
   */
  countManagement(ctx: Ctx, wabaId: string): void {
    const now = this.clock.now();
    const hour = Math.floor(now / 3_600_000);
    let entry = this.world.managementCalls.get(wabaId);
    if (!entry || entry.hour !== hour) {
      entry = { hour, count: 0 };
      this.world.managementCalls.set(wabaId, entry);
    }
    const limit = this.world.limits.managementPerHour;
    const over = entry.count >= limit;
    if (!over) entry.count++;
    const pct = Math.min(100, Math.round((entry.count / limit) * 100));
    const regain = over ? Math.ceil(((hour + 1) * 3_600_000 - now) / 60_000) : 0;
    const usage = {
      [wabaId]: [
        {
          type: 'whatsapp_business_management',
          call_count: pct,
          total_cputime: Math.min(100, Math.ceil(pct / 4)),
          total_time: Math.min(100, Math.ceil(pct / 3)),
          estimated_time_to_regain_access: regain,
        },
      ],
    };
    ctx.headers['x-business-use-case-usage'] = JSON.stringify(usage);
    if (over) {
      throw gerr(80007, 'Rate limit issues', {
        status: this.throttleStatus,
        details: `WhatsApp Business Account ${wabaId} reached its limit of ${limit} management calls per hour.`,
        transient: true,
      });
    }
  }

  // ---------------------------------------------------------------- lookups

  numberOf(id: string): NumberState | undefined {
    return this.world.numbers.get(id);
  }

  templateOf(id: string): TemplateState | undefined {
    return this.world.templates.get(id);
  }

  /** The phone number's webhook metadata. */
  metadata(n: NumberState): { display_phone_number: string; phone_number_id: string } {
    return { display_phone_number: n.e164, phone_number_id: n.id };
  }

  // ---------------------------------------------------------------- webhooks

  /**
   * Emits one webhook for `field`. Destination: for messages / smb_message_echoes the phone number's
   * override, then the WABA override, then the app callback; other fields the app callback. Nothing is sent
   * when the app is not subscribed to the WABA (except account_update) or not to the field.
   */
  emit(
    field: string,
    value: Record<string, unknown>,
    opts: { phoneNumberId?: string | null; withTime?: boolean; entryId?: string } = {},
  ) {
    const entry: Record<string, unknown> = { id: opts.entryId ?? SEED.waba.id };
    if (opts.withTime) entry.time = this.clock.nowSeconds();
    entry.changes = [{ value, field }];
    const envelope = { object: 'whatsapp_business_account', entry: [entry] };
    const target = this.destination(field, opts.phoneNumberId ?? null);
    const record = this.webhooks.deliver(field, envelope, {
      ...target,
      phoneNumberId: opts.phoneNumberId ?? null,
    });
    this.log(`webhook ${record.id} ${field}${target.skipped ? ` (not sent: ${target.skipped})` : ''}`);
    return record;
  }

  destination(field: string, phoneNumberId: string | null): { url: string | null; skipped: string | null } {
    const w = this.world;
    const sub = w.appSubscription;
    const wabaSub = w.subscribedApps.get(SEED.app.id);
    if (!wabaSub && field !== 'account_update') {
      return { url: null, skipped: 'the app is not subscribed to the WABA (subscribed_apps)' };
    }
    if (!sub?.active) return { url: null, skipped: 'the app has no webhook subscription' };
    if (!sub.fields.includes(field))
      return { url: null, skipped: `the app is not subscribed to the field ${field}` };
    if (field === 'messages' || field === 'smb_message_echoes') {
      const n = phoneNumberId ? w.numbers.get(phoneNumberId) : undefined;
      if (n?.webhookOverride) return { url: n.webhookOverride.uri, skipped: null };
      if (wabaSub?.overrideCallbackUri) return { url: wabaSub.overrideCallbackUri, skipped: null };
    }
    if (!sub.callbackUrl) return { url: null, skipped: 'no callback URL configured' };
    return { url: sub.callbackUrl, skipped: null };
  }

  /** Queues a status for a batched `messages` webhook (flushed after the scheduler run). */
  queueStatus(phoneNumberId: string, status: Record<string, unknown>): void {
    let list = this.statusOutbox.get(phoneNumberId);
    if (!list) {
      list = [];
      this.statusOutbox.set(phoneNumberId, list);
    }
    list.push(status);
  }

  flushStatuses(): void {
    if (this.statusOutbox.size === 0) return;
    const outbox = this.statusOutbox;
    this.statusOutbox = new Map();
    for (const [phoneId, statuses] of outbox) {
      const n = this.world.numbers.get(phoneId);
      if (!n) continue;
      // one webhook per batch of up to 100 statuses, never two statuses of the same message in one batch
      let batch: Record<string, unknown>[] = [];
      let ids = new Set<unknown>();
      const send = () => {
        if (batch.length === 0) return;
        this.emit(
          'messages',
          { messaging_product: 'whatsapp', metadata: this.metadata(n), statuses: batch },
          { phoneNumberId: phoneId },
        );
        batch = [];
        ids = new Set();
      };
      for (const st of statuses) {
        if (batch.length >= 100 || ids.has(st.id)) send();
        batch.push(st);
        ids.add(st.id);
      }
      send();
    }
  }
}

function redactPath(url: string): string {
  return url.replace(/((?:access_token|client_secret|code|input_token|appsecret_proof)=)[^&]*/g, '$1***');
}
