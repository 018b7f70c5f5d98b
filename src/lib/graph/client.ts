import { createHmac } from 'node:crypto';
import type { Dispatcher } from 'undici';
import { type Clock, systemClock } from '../clock.js';
import { ConfigError, WacxError } from '../errors.js';
import { type AnswerShape, formatAnswerPath } from './answers.js';
import { undiciDispatchers } from './dispatchers.js';
import { GraphNetworkError, parseGraphError, UnexpectedAnswerError, UnknownOutcomeError } from './errors.js';
import { DEFAULT_RETRY_POLICY, type RetryPolicy, withRetry } from './retry.js';
import { API_VERSION_PATTERN, DEFAULT_API_VERSION, DEFAULT_GRAPH_URL, validateBaseUrl } from './url.js';
import { type BusinessUseCaseUsage, describeUsage, parseUsageHeader } from './usage.js';

// Re-exported: they live in ./url.ts so that config and the CLI can use them without loading the client.
export {
  API_VERSION_PATTERN,
  DEFAULT_API_VERSION,
  DEFAULT_GRAPH_URL,
  isLoopbackHost,
  validateBaseUrl,
} from './url.js';

export type HttpMethod = 'GET' | 'POST' | 'DELETE';
export type QueryValue = string | number | boolean | undefined | null | readonly string[];

export interface GraphClientOptions {
  baseUrl?: string;
  apiVersion?: string;
  /** The access token sent as `Authorization: Bearer`. */
  token?: string | undefined;
  /** When set, every call carries appsecret_proof = hex HMAC-SHA256(token) keyed by this secret. */
  appSecret?: string | undefined;
  userAgent?: string;
  timeoutMs?: number;
  /** The undici dispatcher (keep-alive Agent/Pool by default); injectable for tests. */
  dispatcher?: Dispatcher;
  clock?: Clock;
  retry?: Partial<RetryPolicy>;
  /** Receives one curl-like line per request and answer, secrets already redacted (for --verbose). */
  trace?: ((line: string) => void) | undefined;
  /** Aborts every request and retry wait of this client (e.g. Ctrl+C), in addition to each call's own signal. */
  signal?: AbortSignal | undefined;
}

export interface GraphRequest<T = unknown> {
  method: HttpMethod;
  /** Path after the version, e.g. `123/messages`; build ids with `graphPath()`. */
  path: string;
  query?: Record<string, QueryValue>;
  /** JSON body (POST). */
  body?: unknown;
  /**
   * The JSON body as text, serialised by the caller (instead of `body`): the text is all a request keeps until its
   * answer, not the objects it was made from (bulk sends: every message in flight would keep its objects alive
   * across collections).
   */
  json?: string;
  /** Form body (POST application/x-www-form-urlencoded), for the few Graph calls that want one. */
  form?: Record<string, string>;
  signal?: AbortSignal | undefined;
  timeoutMs?: number;
  /** Override the bearer token for this call (e.g. an app token `APP_ID|SECRET`); null sends none. */
  token?: string | null;
  /**
   * Whether the request may be repeated safely. Defaults to true for GET and DELETE, false for POST.
   * A non-idempotent request is never retried after it may have reached the server.
   */
  idempotent?: boolean;
  /** Retry policy for this call; false disables retries. */
  retry?: boolean;
  /**
   * The shape the answer must have (./answers.ts): a 2xx answer that does not fit becomes an
   * UnexpectedAnswerError naming the call and the field. Without it the answer is returned as it came.
   */
  answer?: AnswerShape<T>;
}

/** A page of a cursor-paginated edge, as paginate() reads it. */
export interface PageAnswer<T> {
  data?: T[];
  paging?: { cursors?: { after?: string }; next?: string };
}

export interface GraphResponse<T> {
  status: number;
  data: T;
  headers: Record<string, string | string[] | undefined>;
}

/** Percent-encodes each id or segment: `graphPath(wabaId, 'message_templates')`. */
export function graphPath(...segments: (string | number)[]): string {
  return segments.map((s) => encodeURIComponent(String(s))).join('/');
}

export function appSecretProof(token: string, appSecret: string): string {
  return createHmac('sha256', appSecret).update(token).digest('hex');
}

const SECRET_QUERY_KEYS = new Set([
  'access_token',
  'appsecret_proof',
  'client_secret',
  'input_token',
  'code',
]);

/** Connection errors that prove the request never reached the server. */
const NOT_SENT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_HAS_EXPIRED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
]);

/** Words for people instead of errno codes. */
const NETWORK_REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset by the server',
  EPIPE: 'connection closed while sending',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'DNS lookup failed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'connection timed out',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
  UND_ERR_HEADERS_TIMEOUT: 'no answer before the timeout',
  UND_ERR_BODY_TIMEOUT: 'the answer stalled before the timeout',
  UND_ERR_SOCKET: 'connection closed by the server',
  UND_ERR_CLOSED: 'connection closed',
};

function errorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current && typeof current === 'object'; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

type Undici = typeof import('undici');
let undiciModule: Promise<Undici> | undefined;
/** The whole of undici (its request API, for downloads), ~60 ms to load: only a download pays for it. */
function loadUndici(): Promise<Undici> {
  undiciModule ??= import('undici');
  return undiciModule;
}

/** Combines signals (AbortSignal.any is Node >= 20.3). */
function anySignal(signals: (AbortSignal | undefined)[]): AbortSignal | undefined {
  const present = signals.filter((s): s is AbortSignal => s !== undefined);
  if (present.length <= 1) return present[0];
  if (typeof AbortSignal.any === 'function') return AbortSignal.any(present);
  const controller = new AbortController();
  for (const s of present) {
    if (s.aborted) {
      controller.abort(s.reason);
      break;
    }
    s.addEventListener('abort', () => controller.abort(s.reason), { once: true });
  }
  return controller.signal;
}

/**
 * THE typed Graph API client: base URL, pinned version, bearer auth, appsecret_proof, User-Agent,
 * timeouts, retries for idempotent calls, typed errors. Resources in ./resources shape params and results.
 * The transport is undici with a keep-alive pool (or an injected dispatcher), loaded on the first call.
 */
export class GraphClient {
  readonly baseUrl: URL;
  readonly apiVersion: string;
  readonly clock: Clock;
  readonly userAgent: string;
  private readonly token: string | undefined;
  private readonly appSecret: string | undefined;
  private readonly timeoutMs: number;
  private dispatcher: Dispatcher | undefined;
  private readonly ownsDispatcher: boolean;
  private readonly retryPolicy: RetryPolicy;
  private readonly trace: ((line: string) => void) | undefined;
  private readonly signal: AbortSignal | undefined;
  /** The last X-Business-Use-Case-Usage seen per business object (WABA id): management calls count against it. */
  readonly businessUsage = new Map<string, BusinessUseCaseUsage[]>();

  constructor(options: GraphClientOptions = {}) {
    this.baseUrl = validateBaseUrl(options.baseUrl ?? DEFAULT_GRAPH_URL);
    this.apiVersion = options.apiVersion ?? DEFAULT_API_VERSION;
    if (!API_VERSION_PATTERN.test(this.apiVersion)) {
      throw new ConfigError(`Invalid API version "${this.apiVersion}".`, { hint: 'Use the form v25.0' });
    }
    this.token = options.token;
    this.appSecret = options.appSecret;
    this.userAgent = options.userAgent ?? 'wacx';
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.ownsDispatcher = !options.dispatcher;
    this.dispatcher = options.dispatcher;
    this.clock = options.clock ?? systemClock;
    this.retryPolicy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.trace = options.trace;
    this.signal = options.signal;
  }

  get hasToken(): boolean {
    return Boolean(this.token);
  }
  get hasAppSecret(): boolean {
    return Boolean(this.appSecret);
  }

  /** Performs a call and returns the parsed JSON body; throws GraphApiError, GraphNetworkError or UnknownOutcomeError. */
  async request<T>(req: GraphRequest<T>): Promise<T> {
    return this.checked(req, await this.send<T>(req)).data;
  }

  async requestWithHeaders<T>(req: GraphRequest<T>): Promise<GraphResponse<T>> {
    return this.checked(req, await this.send<T>(req));
  }

  /** The answer, once it fits the shape the call expects (req.answer). */
  private checked<T>(req: GraphRequest<T>, res: GraphResponse<T>): GraphResponse<T> {
    if (!req.answer) return res;
    const read = req.answer.read(res.data);
    if (read.ok) {
      res.data = read.value;
      return res;
    }
    const trace = res.headers['x-fb-trace-id'];
    throw new UnexpectedAnswerError({
      status: res.status,
      endpoint: `${req.method} /${this.apiVersion}/${req.path.replace(/^\/+/, '')}`,
      field: formatAnswerPath(read.path),
      problem: read.problem,
      fbtraceId: Array.isArray(trace) ? trace[0] : trace,
    });
  }

  private send<T>(req: GraphRequest<T>): Promise<GraphResponse<T>> {
    const idempotent = req.idempotent ?? req.method !== 'POST';
    const signal =
      this.signal === undefined || req.signal === undefined
        ? (req.signal ?? this.signal)
        : anySignal([this.signal, req.signal]);
    if (req.retry === false || !idempotent) return this.once<T>(req, idempotent, signal);
    const attempt = () => this.once<T>(req, idempotent, signal);
    return withRetry(attempt, {
      policy: this.retryPolicy,
      clock: this.clock,
      signal,
      onRetry: ({ attempt: n, delayMs, error }) =>
        this.trace?.(
          `! retry ${n} in ${delayMs} ms after: ${error instanceof Error ? error.message : String(error)}`,
        ),
    });
  }

  /** Follows cursor pages (`paging.cursors.after` while `paging.next` is present), yielding each item. */
  async *paginate<T>(
    req: Omit<GraphRequest<PageAnswer<T>>, 'method'> & { method?: 'GET' },
  ): AsyncGenerator<T, void, undefined> {
    let query = { ...req.query };
    for (;;) {
      const page = await this.request<PageAnswer<T>>({
        ...req,
        method: 'GET',
        query,
      });
      for (const item of page.data ?? []) yield item;
      const after = page.paging?.cursors?.after;
      if (!page.paging?.next || !after) return;
      query = { ...query, after };
    }
  }

  buildUrl(path: string, query: Record<string, QueryValue> = {}, token?: string | null): URL {
    const base = this.baseUrl.href.replace(/\/+$/, '');
    const url = new URL(`${base}/${this.apiVersion}/${path.replace(/^\/+/, '')}`);
    for (const [key, value] of Object.entries(query)) {
      if (value === undefined || value === null) continue;
      url.searchParams.set(key, Array.isArray(value) ? JSON.stringify(value) : String(value));
    }
    if (token && this.appSecret && !url.searchParams.has('appsecret_proof')) {
      url.searchParams.set('appsecret_proof', this.proofFor(token));
    }
    return url;
  }

  private lastProof: { token: string; proof: string } | undefined;

  /** The appsecret_proof of a token (one HMAC per token, not per call: bulk sends make thousands a second). */
  private proofFor(token: string): string {
    if (this.lastProof?.token !== token) {
      this.lastProof = { token, proof: appSecretProof(token, this.appSecret ?? '') };
    }
    return this.lastProof.proof;
  }

  /** Targets of calls without a query, by path (the same send URL, thousands of times), for `lastToken`. */
  private readonly plainTargets = new Map<string, Target>();
  private lastToken: string | undefined;

  /** Where a call goes (URL with appsecret_proof when configured), split for undici. */
  private targetFor(path: string, query: Record<string, QueryValue> | undefined, token?: string): Target {
    if (query && Object.keys(query).length > 0) return toTarget(this.buildUrl(path, query, token));
    if (token !== this.lastToken) {
      this.plainTargets.clear();
      this.lastToken = token;
    }
    let target = this.plainTargets.get(path);
    if (target === undefined) {
      target = toTarget(this.buildUrl(path, {}, token));
      if (this.plainTargets.size >= 64) this.plainTargets.clear();
      this.plainTargets.set(path, target);
    }
    return target;
  }

  private headerList: { token: string | undefined; byType: Map<string, readonly string[]> } = {
    token: undefined,
    byType: new Map(),
  };

  /**
   * The request headers as undici takes them (name, value, name, value…), one list per token and body type: undici
   * copies them into its own request, so one list serves every call.
   */
  private headersFor(token: string | undefined, contentType: string | undefined): readonly string[] {
    if (token !== this.headerList.token) this.headerList = { token, byType: new Map() };
    const byType = this.headerList.byType;
    let list = byType.get(contentType ?? '');
    if (list === undefined) {
      const headers = ['user-agent', this.userAgent, 'accept', 'application/json'];
      if (token) headers.push('authorization', `Bearer ${token}`);
      if (contentType) headers.push('content-type', contentType);
      list = Object.freeze(headers);
      byType.set(contentType ?? '', list);
    }
    return list;
  }

  /** The injected dispatcher, else a keep-alive Agent made on the first request. */
  private ownDispatcher(): Dispatcher {
    this.dispatcher ??= new (undiciDispatchers().Agent)({
      keepAliveTimeout: 10_000,
      connections: 64,
      pipelining: 1,
    });
    return this.dispatcher;
  }

  private async once<T>(
    req: GraphRequest<T>,
    idempotent: boolean,
    signal: AbortSignal | undefined,
  ): Promise<GraphResponse<T>> {
    const token = req.token === null ? undefined : (req.token ?? this.token);
    const target = this.targetFor(req.path, req.query, token);
    let body: string | undefined;
    let contentType: string | undefined;
    if (req.form) {
      contentType = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(req.form).toString();
    } else if (req.json !== undefined) {
      contentType = 'application/json';
      body = req.json;
    } else if (req.body !== undefined) {
      contentType = 'application/json';
      body = JSON.stringify(req.body);
    }
    const timeoutMs = req.timeoutMs ?? this.timeoutMs;
    if (signal?.aborted) throw abortReason(signal);
    const dispatcher = this.ownDispatcher();
    const started = this.clock.now();
    if (this.trace) {
      this.trace(`> ${req.method} ${redactUrl(new URL(target.href))}`);
      this.trace(`> user-agent: ${this.userAgent}`);
      if (token) this.trace('> authorization: Bearer ***');
      if (body !== undefined) this.trace(`> content-type: ${contentType} (${Buffer.byteLength(body)} bytes)`);
    }
    let res: Exchanged;
    try {
      res = await exchange(
        dispatcher,
        {
          origin: target.origin,
          path: target.path,
          method: req.method,
          headers: this.headersFor(token, contentType) as string[],
          body,
          headersTimeout: timeoutMs,
          bodyTimeout: timeoutMs,
        },
        signal,
      );
    } catch (error) {
      const code = errorCode(error);
      const aborted = signal?.aborted === true;
      const why = aborted
        ? 'interrupted'
        : code
          ? `${NETWORK_REASONS[code] ?? code}${NETWORK_REASONS[code] ? ` (${code})` : ''}`
          : error instanceof Error
            ? error.message
            : String(error);
      const reason = `${req.method} ${redactUrl(new URL(target.href))} failed: ${why}`;
      this.trace?.(`< ${reason}`);
      const sent = !(code && NOT_SENT_CODES.has(code));
      // A send that may have reached Meta has an unknown outcome, even when we gave up waiting (Ctrl+C).
      if (!idempotent && sent) {
        throw new UnknownOutcomeError(reason, {
          cause: aborted ? abortReason(signal!) : error,
          code,
          request: { method: req.method, path: req.path },
        });
      }
      if (aborted) throw abortReason(signal!);
      throw new GraphNetworkError(reason, { cause: error, code });
    }
    if (this.trace) {
      const fbTrace = res.header('x-fb-trace-id');
      this.trace(
        `< ${res.status} ${req.method} ${redactUrl(new URL(target.href))} (${this.clock.now() - started} ms)${fbTrace ? ` x-fb-trace-id: ${String(fbTrace)}` : ''}`,
      );
    }
    const usage = res.header('x-business-use-case-usage');
    if (usage !== undefined) this.noteUsage(usage);
    const text = res.text();
    if (res.status < 200 || res.status >= 300) {
      const retryAfter = res.header('retry-after');
      throw parseGraphError(res.status, text, Array.isArray(retryAfter) ? retryAfter[0] : retryAfter);
    }
    let data: T;
    try {
      data = (text ? JSON.parse(text) : {}) as T;
    } catch {
      // Some Graph calls answer a bare token string (documented for oauth/access_token).
      data = text as T;
    }
    return new Answer(res.status, data, res.rawHeaders);
  }

  private noteUsage(header: string | string[] | undefined): void {
    const usage = parseUsageHeader(header);
    if (!usage) return;
    for (const [id, entries] of usage) {
      this.businessUsage.set(id, entries);
      if (this.trace)
        this.trace(`< x-business-use-case-usage ${id}: ${entries.map(describeUsage).join('; ')}`);
    }
  }

  /**
   * GETs an absolute URL the API handed out (a media URL) with the bearer token, and returns its body as a stream.
   * The token goes only over https, or to a loopback host (the sandbox).
   */
  async download(
    href: string,
    options: { signal?: AbortSignal; timeoutMs?: number } = {},
  ): Promise<{
    status: number;
    headers: GraphResponse<unknown>['headers'];
    body: Dispatcher.ResponseData['body'];
  }> {
    let target: URL;
    try {
      target = new URL(href);
      validateBaseUrl(target.origin);
    } catch {
      throw new WacxError(
        `Refusing to download "${href.slice(0, 200)}" with the token: only https URLs (or loopback) are fetched.`,
      );
    }
    const where = `GET ${redactUrl(target)}`;
    const signal = anySignal([this.signal, options.signal]);
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    const headers: Record<string, string> = { 'user-agent': this.userAgent };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    this.trace?.(`> ${where}`);
    const { request } = await loadUndici();
    const dispatcher = this.ownDispatcher();
    let res: Dispatcher.ResponseData;
    try {
      res = await request(target, {
        method: 'GET',
        headers,
        dispatcher,
        signal,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
    } catch (error) {
      if (signal?.aborted) throw abortReason(signal);
      const code = errorCode(error);
      throw new GraphNetworkError(
        `${where} failed: ${code ? (NETWORK_REASONS[code] ?? code) : String(error)}`,
        {
          cause: error,
          code,
        },
      );
    }
    this.trace?.(`< ${res.statusCode} ${where} (${String(res.headers['content-length'] ?? '?')} bytes)`);
    if (res.statusCode < 200 || res.statusCode >= 300) {
      throw parseGraphError(res.statusCode, await res.body.text(), undefined);
    }
    return { status: res.statusCode, headers: res.headers, body: res.body };
  }

  async close(): Promise<void> {
    if (this.ownsDispatcher && this.dispatcher) await this.dispatcher.close();
  }
}

function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error) return reason;
  const error = new Error('The operation was aborted');
  error.name = 'AbortError';
  return error;
}

export function redactUrl(url: URL): string {
  const copy = new URL(url.href);
  for (const key of [...copy.searchParams.keys()]) {
    if (SECRET_QUERY_KEYS.has(key)) copy.searchParams.set(key, '***');
  }
  return copy.href.replace(/%2A%2A%2A/g, '***');
}

/** A request's target, split the way undici's dispatchers take it. */
interface Target {
  href: string;
  origin: string;
  /** Path and query. */
  path: string;
}

function toTarget(url: URL): Target {
  return { href: url.href, origin: url.origin, path: `${url.pathname}${url.search}` };
}

/** The answer to one call; its headers object is built only when someone reads it (a bulk send never does). */
class Answer<T> implements GraphResponse<T> {
  private parsed: Record<string, string | string[] | undefined> | undefined;
  constructor(
    readonly status: number,
    public data: T,
    private readonly raw: readonly Buffer[],
  ) {}

  get headers(): Record<string, string | string[] | undefined> {
    this.parsed ??= parseRawHeaders(this.raw);
    return this.parsed;
  }
}

/** undici's raw headers (name, value, name, value… as bytes) as an object: lower-case names, repeated ones in arrays. */
function parseRawHeaders(raw: readonly Buffer[]): Record<string, string | string[] | undefined> {
  const out: Record<string, string | string[] | undefined> = {};
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toString('latin1').toLowerCase();
    const value = raw[i + 1]!.toString('latin1');
    const before = Object.hasOwn(out, name) ? out[name] : undefined;
    if (before === undefined) out[name] = value;
    else if (Array.isArray(before)) before.push(value);
    else out[name] = [before, value];
  }
  return out;
}

/** What exchange() resolves with: the status, the raw headers and the body's bytes. */
interface Exchanged {
  status: number;
  rawHeaders: readonly Buffer[];
  /** A header's value (name in lower case; an array when repeated), without building the headers object. */
  header(name: string): string | string[] | undefined;
  /** The body as UTF-8 text. */
  text(): string;
}

/**
 * One request through an undici dispatcher, reading the whole answer: undici's dispatch() with a handler that keeps
 * the status, the raw headers and the body's chunks. The same request as undici's request() API, without what
 * that API adds for callers that stream the answer (a Readable body, an async resource, a parsed headers object),
 * which a bulk send would otherwise pay for thousands of times a second.
 */
function exchange(
  dispatcher: Dispatcher,
  options: Dispatcher.DispatchOptions,
  signal: AbortSignal | undefined,
): Promise<Exchanged> {
  return new Promise((resolve, reject) => {
    const handler = new ExchangeHandler(resolve, reject, signal);
    try {
      dispatcher.dispatch(options, handler);
    } catch (error) {
      handler.onError(error as Error);
    }
  });
}

class ExchangeHandler implements Dispatcher.DispatchHandler, Exchanged {
  status = 0;
  rawHeaders: readonly Buffer[] = [];
  private chunks: Buffer[] = [];
  private abort: ((reason?: Error) => void) | null = null;
  private done = false;
  private readonly onAbort: (() => void) | null;

  constructor(
    private readonly resolve: (x: Exchanged) => void,
    private readonly reject: (error: unknown) => void,
    private readonly signal: AbortSignal | undefined,
  ) {
    this.onAbort = signal
      ? () => {
          const reason = abortReason(signal);
          if (this.abort) this.abort(reason);
          else this.onError(reason);
        }
      : null;
    if (signal && this.onAbort) signal.addEventListener('abort', this.onAbort, { once: true });
  }

  onConnect(abort: (reason?: Error) => void): void {
    if (this.done) abort(abortReason(this.signal!));
    else this.abort = abort;
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[]): boolean {
    this.status = statusCode;
    this.rawHeaders = rawHeaders;
    return true;
  }

  onData(chunk: Buffer): boolean {
    this.chunks.push(chunk);
    return true;
  }

  onComplete(): void {
    if (this.settle()) this.resolve(this);
  }

  onError(error: Error): void {
    if (this.settle()) this.reject(error);
  }

  private settle(): boolean {
    if (this.done) return false;
    this.done = true;
    if (this.onAbort) this.signal!.removeEventListener('abort', this.onAbort);
    return true;
  }

  header(name: string): string | string[] | undefined {
    const raw = this.rawHeaders;
    let found: string | string[] | undefined;
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const key = raw[i]!;
      if (key.length !== name.length || key.toString('latin1').toLowerCase() !== name) continue;
      const value = raw[i + 1]!.toString('latin1');
      found = found === undefined ? value : Array.isArray(found) ? [...found, value] : [found, value];
    }
    return found;
  }

  text(): string {
    const chunks = this.chunks;
    if (chunks.length === 0) return '';
    return (chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)).toString('utf8');
  }
}
