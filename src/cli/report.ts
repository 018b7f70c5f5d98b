import { CommanderError } from 'commander';
import { UsageError, WacxError } from '../lib/errors.js';
import { exitCodeFor } from '../lib/exit-codes.js';
import {
  GraphApiError,
  GraphNetworkError,
  UnexpectedAnswerError,
  UnknownOutcomeError,
} from '../lib/graph/errors.js';
import type { Deps } from './deps.js';
import { hintFor } from './hints.js';

/**
 * Errors for people and for machines. Loaded only when a run fails: the error classes, Meta's error table and
 * wacx's hints are not start-up's business.
 */
export { exitCodeFor };

/** The fix to show: wacx's own (naming its commands) where it has one, else the error's. */
function userHint(error: unknown): string | undefined {
  const own = (error as { hint?: unknown }).hint;
  return hintFor(error) ?? (typeof own === 'string' && own ? own : undefined);
}

/** Prints an error for people on stderr: what happened, the API details, and what to do next. */
export function reportError(deps: Deps, error: unknown): void {
  const io = deps.io;
  const message = error instanceof Error ? error.message : String(error);
  io.error(message);
  if (error instanceof GraphApiError) {
    const parts = [`code ${error.code}`, error.category];
    if (error.subcode !== undefined) parts.push(`subcode ${error.subcode}`);
    parts.push(`HTTP ${error.status}`);
    if (error.fbtraceId) parts.push(`fbtrace_id ${error.fbtraceId}`);
    io.info(io.style.dim(`  ${parts.join(' · ')}`));
    if (error.details) io.info(io.style.dim(`  ${error.details}`));
  }
  const hint = userHint(error);
  if (typeof hint === 'string' && hint) io.info(`  ${io.style.cyan('→')} ${hint}`);
  // A stack trace helps only with errors nobody planned for; the others already say what to do.
  const expected =
    error instanceof WacxError ||
    error instanceof GraphApiError ||
    error instanceof GraphNetworkError ||
    error instanceof UnknownOutcomeError;
  if (io.verbose && !expected && error instanceof Error && error.stack) io.info(io.style.dim(error.stack));
}

/** The error as data, on stdout with --json (as gh does): every key present, null when it does not apply. */
export function errorJson(error: unknown, exitCode: number) {
  const graph = error instanceof GraphApiError || error instanceof UnexpectedAnswerError ? error : undefined;
  const api = graph instanceof GraphApiError ? graph : undefined;
  const message = error instanceof Error ? error.message : String(error);
  return {
    error: {
      message: error instanceof CommanderError ? message.replace(/^error:\s*/, '') : message,
      type: error instanceof CommanderError ? 'UsageError' : error instanceof Error ? error.name : 'Error',
      exitCode,
      location: error instanceof UsageError ? (error.location ?? null) : null,
      hint: userHint(error) ?? null,
      graph: graph
        ? {
            status: graph.status,
            code: api?.code ?? null,
            subcode: api?.subcode ?? null,
            type: api?.type ?? null,
            category: graph.category,
            fbtraceId: graph.fbtraceId ?? null,
          }
        : null,
    },
  };
}

/** Straight to stdout, redacted: the error object is not the output a --jq filter was written for. */
export function printErrorJson(deps: Deps, error: unknown, exitCode: number): void {
  const text = `${JSON.stringify(errorJson(error, exitCode), null, 2)}\n`;
  deps.io.streams.stdout.write(deps.redactor.redact(text));
}
