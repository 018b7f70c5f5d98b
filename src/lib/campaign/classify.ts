import { errorCodeInfo } from '../graph/error-codes.js';
import { GraphApiError, GraphNetworkError, UnknownOutcomeError } from '../graph/errors.js';
import type { StopReason } from './types.js';

/**
 * What to do with a send that did not come back accepted. The Cloud API has no idempotency key, so a request is
 * repeated only when the answer proves the message was not accepted:
 * - a throttling answer (130429, 4, 80007, HTTP 429): global pause + slower rate, then again;
 * - 131056 (pair rate): only that recipient waits 4^n s;
 * - a Graph error envelope with a transient code on a 5xx (131000, 131016, 133004, 1, 2) or 131057: the API
 *   refused it explicitly: short global pause, then again (at most a few times, then `failed`);
 * - connection refused / DNS / TLS before anything was sent: pause, then again;
 * - no answer after the body left (reset, timeout), or a 5xx without a Graph envelope (a proxy's 502/504): unknown;
 * - codes that make every further send fail (token, spam limit, paused template, offboarded…): stop the run;
 * - anything else is this row's failure (bad number, opted out, …).
 */
export type Verdict =
  | { type: 'retry'; scope: 'throttle'; code: number; title: string; retryAfterMs: number | undefined }
  | { type: 'retry'; scope: 'pair'; code: number; title: string }
  | { type: 'retry'; scope: 'transient'; code: number | null; title: string; pauseMs: number }
  | { type: 'retry'; scope: 'network'; code: null; title: string }
  | { type: 'stop'; reason: StopReason }
  | { type: 'unknown'; message: string }
  | { type: 'failed'; code: number | null; title: string; message: string };

/** Codes after which no further message of the campaign can succeed: the run stops with a clear report. */
export const STOP_CODES: ReadonlySet<number> = new Set([
  0, // AuthException
  190, // token expired or revoked
  3, // API method (capability)
  10, // permission denied
  368, // blocked for policy violation
  131005, // access denied
  131031, // account locked
  131042, // payment issue
  131048, // spam rate limit
  131063, // marketing templates disabled on Cloud API
  131064, // messaging limit (template classification violations)
  132001, // template does not exist (deleted meanwhile)
  132015, // template paused
  132016, // template disabled
  133010, // number not registered (coexistence: offboarded)
]);

const THROTTLE_CODES: ReadonlySet<number> = new Set([130429, 4, 80007]);

/** A Graph error answer without the Graph envelope (a proxy or gateway page): the request may have been processed. */
function hasEnvelope(e: GraphApiError): boolean {
  return !(e.code === 0 && e.type === undefined);
}

export function classify(error: unknown): Verdict {
  if (error instanceof UnknownOutcomeError) return { type: 'unknown', message: error.message };
  if (error instanceof GraphNetworkError)
    return { type: 'retry', scope: 'network', code: null, title: error.message };
  if (!(error instanceof GraphApiError)) {
    return { type: 'unknown', message: error instanceof Error ? error.message : String(error) };
  }
  const e = error;
  const info = errorCodeInfo(e.code);
  const title = info?.title ?? e.message;
  if (!hasEnvelope(e)) {
    if (e.status === 429)
      return { type: 'retry', scope: 'throttle', code: 130429, title: 'HTTP 429', retryAfterMs: ms(e) };
    // a gateway or proxy answered (502, 504, an HTML page): the backend may have processed the request
    return { type: 'unknown', message: `HTTP ${e.status} without a Graph error body: ${e.message}` };
  }
  if (THROTTLE_CODES.has(e.code) || (e.status === 429 && e.code !== 131056)) {
    return { type: 'retry', scope: 'throttle', code: e.code, title, retryAfterMs: ms(e) };
  }
  if (e.code === 131056) return { type: 'retry', scope: 'pair', code: e.code, title };
  if (e.code === 131057) return { type: 'retry', scope: 'transient', code: e.code, title, pauseMs: 60_000 };
  if (STOP_CODES.has(e.code) || e.category === 'auth' || (e.code >= 200 && e.code <= 299)) {
    return {
      type: 'stop',
      reason: {
        kind: e.code === 133010 ? 'offboarded' : 'api',
        code: e.code,
        title,
        message: e.details ? `${e.message} (${e.details})` : e.message,
        hint: info?.hint ?? e.hint ?? null,
      },
    };
  }
  if (e.status >= 500 && (info?.retryable ?? e.retryable)) {
    return { type: 'retry', scope: 'transient', code: e.code, title, pauseMs: 1000 };
  }
  return {
    type: 'failed',
    code: e.code,
    title,
    message: e.details ? `${e.message} (${e.details})` : e.message,
  };
}

function ms(e: GraphApiError): number | undefined {
  return e.retryAfterSeconds === undefined ? undefined : Math.ceil(e.retryAfterSeconds * 1000);
}
