import type { Clock } from '../clock.js';
import { GraphApiError, GraphNetworkError } from './errors.js';

export interface RetryPolicy {
  /** Total attempts including the first. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /**
   * The longest Retry-After wait honoured; a server asking for more makes the call fail at once (with the
   * error, which carries retryAfterSeconds) instead of blocking a command for minutes.
   */
  maxRetryAfterMs?: number;
  /** Returns a number in [0, 1). Injectable for deterministic tests. */
  random: () => number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 4,
  baseDelayMs: 500,
  maxDelayMs: 30_000,
  maxRetryAfterMs: 60_000,
  random: Math.random,
};

/** Exponential backoff with full jitter: a uniform delay in [0, min(max, base * 2^attempt)). */
export function backoffDelay(policy: RetryPolicy, attempt: number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
  return Math.floor(policy.random() * ceiling);
}

/**
 * Whether an error of an idempotent request (GET/DELETE) is worth another attempt: network errors, and API
 * answers that are transient or throttling (429, 5xx, and the codes of error-codes.ts marked retryable).
 */
export function isRetryable(error: unknown): boolean {
  if (error instanceof GraphNetworkError) return true;
  if (error instanceof GraphApiError) return error.retryable;
  return false;
}

/**
 * Runs `attempt` until it succeeds, fails with a non-retryable error, or attempts run out.
 * A Retry-After given by the server replaces the computed delay; beyond maxRetryAfterMs the error is thrown.
 */
export async function withRetry<T>(
  attempt: (attemptNumber: number) => Promise<T>,
  options: {
    policy: RetryPolicy;
    clock: Clock;
    signal?: AbortSignal | undefined;
    shouldRetry?: (error: unknown) => boolean;
    onRetry?: (info: { attempt: number; delayMs: number; error: unknown }) => void;
  },
): Promise<T> {
  const shouldRetry = options.shouldRetry ?? isRetryable;
  for (let n = 0; ; n++) {
    try {
      return await attempt(n);
    } catch (error) {
      if (n + 1 >= options.policy.maxAttempts || !shouldRetry(error) || options.signal?.aborted) throw error;
      const retryAfter = error instanceof GraphApiError ? error.retryAfterSeconds : undefined;
      if (retryAfter !== undefined && retryAfter * 1000 > (options.policy.maxRetryAfterMs ?? 60_000))
        throw error;
      const delayMs =
        retryAfter !== undefined ? Math.ceil(retryAfter * 1000) : backoffDelay(options.policy, n);
      options.onRetry?.({ attempt: n + 1, delayMs, error });
      await options.clock.sleep(delayMs, options.signal);
    }
  }
}
