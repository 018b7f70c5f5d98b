import type { GatherError, Gathered, Outcome } from '../types.js';

export const pass = (detail: string): Outcome => ({ status: 'pass', detail, fix: null });
export const warn = (detail: string, fix: string | null): Outcome => ({ status: 'warn', detail, fix });
export const fail = (detail: string, fix: string | null): Outcome => ({ status: 'fail', detail, fix });
export const skip = (detail: string, fix: string | null = null): Outcome => ({ status: 'skip', detail, fix });

/** "message (code 190)" */
export function describeError(e: GatherError): string {
  const parts: string[] = [];
  if (e.code !== null) parts.push(`code ${e.code}`);
  if (e.status !== null && !e.network) parts.push(`HTTP ${e.status}`);
  return parts.length ? `${e.message} (${parts.join(', ')})` : e.message;
}

/**
 * For a check that depends on a gathered fact that is not there: skipped (with the gather's reason) or,
 * when the read failed, skipped pointing at the check that reports the failure.
 */
export function unavailable(
  g: Exclude<Gathered<unknown>, { state: 'ok' }>,
  what: string,
  seeId: string,
): Outcome {
  if (g.state === 'skipped') return skip(g.reason, g.fix);
  return skip(`${what} could not be read (see ${seeId})`);
}

/** A fix for a failed Graph read, after the error code. */
export function fixForError(e: GatherError, subject: string, idHint: string): string {
  if (e.network)
    return 'Check the network and the Graph URL (`wacx config get graphUrl`), then run `wacx doctor` again.';
  if (e.code === 190 || e.code === 0)
    return 'The token expired or was revoked: run `wacx auth login` with a new token.';
  if (e.code === 10 || (e.code !== null && e.code >= 200 && e.code <= 299)) {
    return `The token has no permission on ${subject}: give the system user access to it (Business Settings › System users › Assign assets), then \`wacx auth login\`.`;
  }
  if (e.code === 100 || e.code === 33 || e.status === 404) {
    return `Check the ${subject} id: ${idHint}`;
  }
  if (e.code === 4 || e.code === 80007 || e.status === 429)
    return 'Rate limited: wait a few minutes and run `wacx doctor` again.';
  return 'Run `wacx doctor --verbose` to see the request, then retry later.';
}
