import { type ErrorCategory, errorCodeInfo } from './error-codes.js';

/** The Graph error envelope `{ "error": { … } }` (meta-cloud-api.md §7.1, OpenAPI GraphAPIError). */
export interface GraphErrorBody {
  message?: string;
  type?: string;
  code?: number;
  error_subcode?: number;
  error_data?: { messaging_product?: string; details?: string } | string;
  error_user_title?: string;
  error_user_msg?: string;
  is_transient?: boolean;
  fbtrace_id?: string;
}

/** An error answer from the Graph API. */
export class GraphApiError extends Error {
  readonly status: number;
  readonly code: number;
  readonly subcode: number | undefined;
  readonly type: string | undefined;
  readonly details: string | undefined;
  readonly fbtraceId: string | undefined;
  readonly category: ErrorCategory;
  readonly retryable: boolean;
  readonly hint: string | undefined;
  /** Seconds from a Retry-After header, when the answer had one. */
  readonly retryAfterSeconds: number | undefined;

  constructor(init: { status: number; body: GraphErrorBody; retryAfterSeconds?: number | undefined }) {
    const { status, body } = init;
    const code = typeof body.code === 'number' ? body.code : 0;
    const details = typeof body.error_data === 'string' ? body.error_data : body.error_data?.details;
    super(body.message ?? `Graph API error (HTTP ${status})`);
    this.name = 'GraphApiError';
    this.status = status;
    this.code = code;
    this.subcode = body.error_subcode;
    this.type = body.type;
    this.details = details;
    this.fbtraceId = body.fbtrace_id;
    this.retryAfterSeconds = init.retryAfterSeconds;
    const info = errorCodeInfo(code);
    this.category = info?.category ?? categoryForStatus(status, body.is_transient === true);
    this.retryable = info?.retryable ?? (status === 429 || status >= 500 || body.is_transient === true);
    this.hint = info?.hint;
  }
}

function categoryForStatus(status: number, transient: boolean): ErrorCategory {
  if (transient || status >= 500) return 'transient';
  if (status === 429) return 'throttling';
  if (status === 401 || status === 403) return 'auth';
  return 'parameter';
}

/**
 * Parses a non-2xx answer into a GraphApiError. Bodies that are not the Graph envelope (a proxy's HTML page,
 * an empty body) still give a typed error, categorised by HTTP status.
 */
export function parseGraphError(status: number, rawBody: string, retryAfter?: string | null): GraphApiError {
  let body: GraphErrorBody = {};
  try {
    const parsed: unknown = JSON.parse(rawBody);
    if (parsed && typeof parsed === 'object' && 'error' in parsed) {
      const err = (parsed as { error: unknown }).error;
      if (err && typeof err === 'object') body = err as GraphErrorBody;
    }
  } catch {
    // not JSON: keep a short excerpt as the message
  }
  if (body.message === undefined) {
    const excerpt = rawBody.trim().slice(0, 200);
    body = { ...body, message: `HTTP ${status}${excerpt ? `: ${excerpt}` : ''}` };
  }
  return new GraphApiError({ status, body, retryAfterSeconds: parseRetryAfter(retryAfter) });
}

/** Retry-After as seconds: either delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds;
  const date = Date.parse(value);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, (date - now) / 1000);
}

/** The request never got an answer and certainly was not processed (connect refused, DNS, TLS). */
export class GraphNetworkError extends Error {
  readonly hint = 'Check your network connection and the Graph URL (`wacx config get graphUrl`).';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'GraphNetworkError';
  }
}

/**
 * A non-idempotent request (a message send) left with its body but no answer came back (timeout, reset).
 * Meta may or may not have accepted it: the caller must record it as unknown, never blindly re-send it.
 */
export class UnknownOutcomeError extends Error {
  readonly hint = 'The request may or may not have been accepted: reconcile from status webhooks before re-sending.';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UnknownOutcomeError';
  }
}
