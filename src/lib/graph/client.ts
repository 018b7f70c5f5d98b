import { createHmac } from 'node:crypto';
import { Agent, type Dispatcher, request as undiciRequest } from 'undici';
import { type Clock, systemClock } from '../clock.js';
import { ConfigError } from '../errors.js';
import { GraphNetworkError, parseGraphError, UnknownOutcomeError } from './errors.js';
import { DEFAULT_RETRY_POLICY, type RetryPolicy, withRetry } from './retry.js';

export const DEFAULT_GRAPH_URL = 'https://graph.facebook.com';
/** Pinned Graph API version; configurable per profile, env (WACX_API_VERSION) and flag (--api-version). */
export const DEFAULT_API_VERSION = 'v25.0';
export const API_VERSION_PATTERN = /^v\d{2}\.0$/;

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
}

export interface GraphRequest {
  method: HttpMethod;
  /** Path after the version, e.g. `123/messages`; build ids with `graphPath()`. */
  path: string;
  query?: Record<string, QueryValue>;
  /** JSON body (POST). */
  body?: unknown;
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

const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\]|::1)$/i;

/** Validates a base URL: https anywhere, plain http only on loopback. */
export function validateBaseUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`Invalid Graph URL "${raw}".`, { hint: 'Use e.g. https://graph.facebook.com' });
  }
  if (url.protocol === 'https:') return url;
  if (url.protocol === 'http:' && LOOPBACK.test(url.hostname)) return url;
  throw new ConfigError(`Refusing Graph URL "${raw}": plain http is only allowed for loopback hosts.`, {
    hint: 'Use https://, or http://127.0.0.1:PORT for a local sandbox.',
  });
}

export function appSecretProof(token: string, appSecret: string): string {
  return createHmac('sha256', appSecret).update(token).digest('hex');
}

const SECRET_QUERY_KEYS = new Set(['access_token', 'appsecret_proof', 'client_secret', 'input_token', 'code']);

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
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
]);

function errorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current && typeof current === 'object'; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * THE typed Graph API client: base URL, pinned version, bearer auth, appsecret_proof, User-Agent,
 * timeouts, retries for idempotent calls, typed errors. Resources in ./resources shape params and results.
 */
export class GraphClient {
  readonly baseUrl: URL;
  readonly apiVersion: string;
  readonly clock: Clock;
  private readonly token: string | undefined;
  private readonly appSecret: string | undefined;
  private readonly userAgent: string;
  private readonly timeoutMs: number;
  private readonly dispatcher: Dispatcher;
  private readonly ownsDispatcher: boolean;
  private readonly retryPolicy: RetryPolicy;
  private readonly trace: ((line: string) => void) | undefined;

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
    this.dispatcher =
      options.dispatcher ?? new Agent({ keepAliveTimeout: 10_000, connections: 64, pipelining: 1 });
    this.clock = options.clock ?? systemClock;
    this.retryPolicy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.trace = options.trace;
  }

  get hasToken(): boolean {
    return Boolean(this.token);
  }

  /** Performs a call and returns the parsed JSON body; throws GraphApiError, GraphNetworkError or UnknownOutcomeError. */
  async request<T>(req: GraphRequest): Promise<T> {
    return (await this.requestWithHeaders<T>(req)).data;
  }

  async requestWithHeaders<T>(req: GraphRequest): Promise<GraphResponse<T>> {
    const idempotent = req.idempotent ?? req.method !== 'POST';
    const attempt = () => this.once<T>(req, idempotent);
    if (req.retry === false || !idempotent) return attempt();
    return withRetry(attempt, {
      policy: this.retryPolicy,
      clock: this.clock,
      signal: req.signal,
      onRetry: ({ attempt: n, delayMs, error }) =>
        this.trace?.(`! retry ${n} in ${delayMs} ms after: ${error instanceof Error ? error.message : String(error)}`),
    });
  }

  /** Follows cursor pages (`paging.cursors.after` while `paging.next` is present), yielding each item. */
  async *paginate<T>(req: Omit<GraphRequest, 'method'> & { method?: 'GET' }): AsyncGenerator<T, void, undefined> {
    let query = { ...req.query };
    for (;;) {
      const page = await this.request<{ data?: T[]; paging?: { cursors?: { after?: string }; next?: string } }>({
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
      url.searchParams.set('appsecret_proof', appSecretProof(token, this.appSecret));
    }
    return url;
  }

  private async once<T>(req: GraphRequest, idempotent: boolean): Promise<GraphResponse<T>> {
    const token = req.token === null ? undefined : (req.token ?? this.token);
    const url = this.buildUrl(req.path, req.query, token);
    const headers: Record<string, string> = { 'user-agent': this.userAgent, accept: 'application/json' };
    if (token) headers.authorization = `Bearer ${token}`;
    let body: string | undefined;
    if (req.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(req.form).toString();
    } else if (req.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(req.body);
    }
    const timeoutMs = req.timeoutMs ?? this.timeoutMs;
    const started = this.clock.now();
    this.trace?.(`> ${req.method} ${redactUrl(url)}`);
    let res: Dispatcher.ResponseData;
    let text: string;
    try {
      res = await undiciRequest(url, {
        method: req.method,
        headers,
        body,
        dispatcher: this.dispatcher,
        signal: req.signal,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
      text = await res.body.text();
    } catch (error) {
      if (req.signal?.aborted) throw error;
      const code = errorCode(error);
      const reason = `${req.method} ${redactUrl(url)} failed: ${code ?? (error instanceof Error ? error.message : String(error))}`;
      this.trace?.(`< ${reason}`);
      if (!idempotent && !(code && NOT_SENT_CODES.has(code))) throw new UnknownOutcomeError(reason, { cause: error });
      throw new GraphNetworkError(reason, { cause: error });
    }
    this.trace?.(`< ${res.statusCode} ${req.method} ${redactUrl(url)} (${this.clock.now() - started} ms)`);
    if (res.statusCode < 200 || res.statusCode >= 300) {
      const retryAfter = res.headers['retry-after'];
      throw parseGraphError(res.statusCode, text, Array.isArray(retryAfter) ? retryAfter[0] : retryAfter);
    }
    let data: T;
    try {
      data = (text ? JSON.parse(text) : {}) as T;
    } catch {
      // Some Graph calls answer a bare token string (documented for oauth/access_token).
      data = text as T;
    }
    return { status: res.statusCode, data, headers: res.headers };
  }

  async close(): Promise<void> {
    if (this.ownsDispatcher) await this.dispatcher.close();
  }
}

export function redactUrl(url: URL): string {
  const copy = new URL(url.href);
  for (const key of [...copy.searchParams.keys()]) {
    if (SECRET_QUERY_KEYS.has(key)) copy.searchParams.set(key, '***');
  }
  return copy.href.replace(/%2A%2A%2A/g, '***');
}
