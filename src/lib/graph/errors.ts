import { createRequire } from 'node:module';
import type { z as Zod } from 'zod';
import { ERROR_CODES, type ErrorCategory, tableCode } from './error-codes.js';

type ZodNamespace = typeof Zod;

/** The Graph error envelope `{ "error": { … } }` (meta-cloud-api.md §7.1, OpenAPI GraphAPIError). */
function errorEnvelopeSchema(z: ZodNamespace) {
  /** A field of the envelope; one of another type (a proxy's imitation, a future change) reads as absent. */
  const field = <T extends Zod.ZodType>(schema: T) => schema.optional().catch(undefined);
  const body = z.object({
    message: field(z.string()),
    type: field(z.string()),
    code: field(z.number()),
    error_subcode: field(z.number()),
    error_data: field(
      z.union([z.object({ messaging_product: field(z.string()), details: field(z.string()) }), z.string()]),
    ),
    error_user_title: field(z.string()),
    error_user_msg: field(z.string()),
    is_transient: field(z.boolean()),
    fbtrace_id: field(z.string()),
  });
  return z.object({ error: body });
}

let envelope: ReturnType<typeof errorEnvelopeSchema> | undefined;
/** zod costs ~50 ms to load: only an error answer pays for it, never the start-up (which imports this file). */
function errorEnvelope(): ReturnType<typeof errorEnvelopeSchema> {
  envelope ??= errorEnvelopeSchema((createRequire(import.meta.url)('zod') as { z: ZodNamespace }).z);
  return envelope;
}

export type GraphErrorBody = Zod.infer<ReturnType<typeof errorEnvelopeSchema>>['error'];

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
  /** The code of Meta's error table (error-codes.ts) that describes this answer: the subcode's, else the code's. */
  readonly tableCode: number | undefined;
  /** Meta refused the appsecret_proof: the app secret does not belong to the token's app. */
  readonly badAppSecretProof: boolean;
  /** What fixes it, in Meta's terms (no wacx command: the cli layer adds those, see src/cli/hints.ts). */
  readonly hint: string | undefined;
  /** Seconds from a Retry-After header, when the answer had one. */
  readonly retryAfterSeconds: number | undefined;
  /** Meta's own text for people (`error_user_title` / `error_user_msg`), when given. */
  readonly userTitle: string | undefined;
  readonly userMessage: string | undefined;

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
    // Only a real envelope code is looked up: a proxy's HTML 502 has none (and code 0 means AuthException).
    // A known subcode (e.g. 2388019 inside a code-100 answer) is more specific than the code.
    this.tableCode =
      (typeof body.error_subcode === 'number' ? tableCode(body.error_subcode) : undefined) ??
      (typeof body.code === 'number' ? tableCode(body.code) : undefined);
    const info = this.tableCode === undefined ? undefined : ERROR_CODES.get(this.tableCode);
    // Meta answers a wrong app secret with a plain code 100 ("Invalid appsecret_proof…"): it is a credential problem.
    const badProof = /appsecret_proof/i.test(body.message ?? '');
    this.badAppSecretProof = badProof;
    this.category = badProof
      ? 'auth'
      : (info?.category ?? categoryForStatus(status, body.is_transient === true));
    this.retryable = info?.retryable ?? (status === 429 || status >= 500 || body.is_transient === true);
    this.userTitle = body.error_user_title;
    this.userMessage = body.error_user_msg;
    this.hint = badProof
      ? "The app secret does not match the token's app: check the app secret configured with the token."
      : (info?.hint ?? body.error_user_msg ?? hintForStatus(status));
  }
}

function hintForStatus(status: number): string | undefined {
  if (status === 401) return 'The token was rejected: use a valid token.';
  if (status === 403) return 'The token lacks a permission for this asset: check its scopes.';
  if (status === 429) return 'Too many calls: wait a little and retry.';
  if (status >= 500) return 'Meta is having trouble: retry in a few minutes.';
  return undefined;
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
    body = errorEnvelope().safeParse(JSON.parse(rawBody)).data?.error ?? {};
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
export function parseRetryAfter(
  value: string | null | undefined,
  now: number = Date.now(),
): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds;
  const date = Date.parse(value);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, (date - now) / 1000);
}

/**
 * The request got no answer (connection refused, DNS, TLS, reset, timeout). For a GET/DELETE that is safe to
 * retry; for a POST it is only thrown when the request certainly never reached the server (else UnknownOutcomeError).
 */
export class GraphNetworkError extends Error {
  readonly hint = 'Check your network connection and the Graph URL.';
  /** The system / undici error code, e.g. ECONNREFUSED. */
  readonly errorCode: string | undefined;
  constructor(message: string, options?: { cause?: unknown; code?: string | undefined }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GraphNetworkError';
    this.errorCode = options?.code;
  }
}

/**
 * A non-idempotent request (a message send) left with its body but no answer came back (timeout, reset).
 * Meta may or may not have accepted it: the caller must record it as unknown, never blindly re-send it.
 */
export class UnknownOutcomeError extends Error {
  readonly hint =
    'The request may or may not have been accepted: reconcile from status webhooks before re-sending.';
  /** The system / undici error code, e.g. ECONNRESET or UND_ERR_HEADERS_TIMEOUT (undefined when interrupted). */
  readonly errorCode: string | undefined;
  /** The call whose outcome is unknown. */
  readonly request: { method: string; path: string } | undefined;
  constructor(
    message: string,
    options?: { cause?: unknown; code?: string | undefined; request?: { method: string; path: string } },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'UnknownOutcomeError';
    this.errorCode = options?.code;
    this.request = options?.request;
  }
}

/**
 * A success answer (2xx) whose shape is not what wacx depends on: a field it reads is missing or of another
 * type (Meta changed the API, a proxy or a stand-in answered). Nothing is retried: the same call gives the same
 * answer. For a send or a create, the API may well have applied the request.
 */
export class UnexpectedAnswerError extends Error {
  readonly category = 'unexpected_answer' as const;
  readonly retryable = false;
  /** The HTTP status of the answer. */
  readonly status: number;
  /** The call, as `GET /v25.0/123/phone_numbers` (no query: ids only, never a secret). */
  readonly endpoint: string;
  /** Where in the answer, as `data[0].throughput.level`. */
  readonly field: string;
  /** What is wrong there, e.g. `expected string, received number`. */
  readonly problem: string;
  readonly fbtraceId: string | undefined;
  /** What fixes it, in Meta's terms (the cli layer adds wacx's own, see src/cli/hints.ts). */
  readonly hint =
    'The API answered in a shape this client does not know: check the Graph URL and API version (a proxy or an older or newer version may answer differently).';
  constructor(init: {
    status: number;
    endpoint: string;
    field: string;
    problem: string;
    fbtraceId?: string | undefined;
  }) {
    super(`Unexpected answer from ${init.endpoint}: ${init.field}: ${init.problem}.`);
    this.name = 'UnexpectedAnswerError';
    this.status = init.status;
    this.endpoint = init.endpoint;
    this.field = init.field;
    this.problem = init.problem;
    this.fbtraceId = init.fbtraceId;
  }
}
