import type { Clock } from '../clock.js';
import { ExitCode, WacxError } from '../errors.js';
import { exitCodeFor } from '../exit-codes.js';
import { errorCodeInfo } from '../graph/error-codes.js';
import { GraphApiError } from '../graph/errors.js';
import { meaningOfCode, meaningOfSkip, type SendEvents, type Summary } from './events.js';
import { fileProblem } from './files.js';
import type { Campaign, Counts, Ledger } from './ledger.js';
import { writeReport } from './report.js';
import type { RunEnd } from './run.js';
import { INVALID_REASONS, type RowOutcome, type SkipReason, type StopReason } from './types.js';

/**
 * The end of a run, in one step: the final state (cancelled, stopped and why, rows left) becomes the campaign's
 * status, the report, the summary and the exit code. A stop on a Graph error exits with the code any other command
 * gives that error (exitCodeFor: its category, e.g. 4 for a missing permission or an expired token).
 */

/** The exit code of a run stopped for `stop`. */
export function stopExitCode(stop: StopReason): number {
  if (stop.kind !== 'api' || stop.code === null) return ExitCode.FAILED;
  // The engine stops on a code missing from Meta's table only when the answer was an auth failure (classify.ts).
  const status = errorCodeInfo(stop.code) ? 400 : 401;
  return exitCodeFor(
    new GraphApiError({ status, body: { code: stop.code, message: stop.message, type: 'OAuthException' } }),
  );
}

/** The status and exit code of a run's final state. */
export function verdict(
  end: { cancelled: boolean; stop: StopReason | null },
  counts: Counts,
  invalid: number,
): { status: Exclude<Summary['status'], 'dry_run'>; exitCode: number } {
  if (end.cancelled) return { status: 'cancelled', exitCode: ExitCode.CANCELLED };
  if (end.stop) return { status: 'stopped', exitCode: stopExitCode(end.stop) };
  if (counts.failed + counts.unknown + counts.pending + counts.in_flight + invalid > 0) {
    return { status: 'partial', exitCode: ExitCode.PARTIAL };
  }
  return { status: 'completed', exitCode: ExitCode.OK };
}

/** The exit code of a dry run: 3 when rows would be skipped as invalid. */
export function dryRunExitCode(cancelled: boolean, invalid: number): number {
  return cancelled ? ExitCode.CANCELLED : invalid > 0 ? ExitCode.PARTIAL : ExitCode.OK;
}

/** Rows skipped because their input was invalid (they make a run partial). */
export function invalidRows(ledger: Ledger, cid: number): number {
  return ledger
    .skipsByReason(cid)
    .filter((k) => INVALID_REASONS.has(k.reason as SkipReason))
    .reduce((n, k) => n + k.count, 0);
}

/**
 * The outcome of a run: the campaign's status in the ledger, `--report`, the summary (to `events`), and the exit
 * code. A report that cannot be written is thrown after the summary (the ledger has every row).
 */
export async function concludeRun(
  ledger: Ledger,
  campaign: Campaign,
  end: RunEnd,
  o: { rate: number; report: string | null },
  env: { events: SendEvents; clock: Clock },
): Promise<number> {
  const now = env.clock.now();
  const counts = ledger.counts(campaign.cid);
  const { status, exitCode } = verdict(end, counts, invalidRows(ledger, campaign.cid));
  const finished =
    counts.pending + counts.in_flight === 0 && (status === 'completed' || status === 'partial');
  ledger.setStatus(campaign.cid, status === 'partial' ? 'completed' : status, now, {
    stopReason: end.stop,
    activeMs: now - end.startedAt,
    finished,
  });
  let reportError: unknown;
  if (o.report) {
    await writeRunReport(
      o.report,
      ledger.allRows(campaign.cid),
      `The ledger has every row: \`wacx campaigns resume ${campaign.id} --report FILE\` with a writable FILE writes it (rows already sent are never sent again).`,
    ).catch((error: unknown) => {
      reportError = error;
    });
  }
  env.events.summary(
    buildSummary(ledger, campaign, counts, {
      status,
      exitCode,
      durationMs: now - end.startedAt,
      requests: end.requests,
      achievedRate: end.achievedRate,
      targetRate: o.rate,
      stop: end.stop,
      report: reportError ? null : o.report,
      ...(end.commits === undefined ? {} : { commits: end.commits }),
    }),
  );
  if (reportError) throw reportError;
  return exitCode;
}

/** Writes the report at the end of a run; a failure (rare after the check at the start) names --report and the path. */
export async function writeRunReport(path: string, rows: Iterable<RowOutcome>, retry: string): Promise<void> {
  try {
    await writeReport(path, rows);
  } catch (error) {
    throw new WacxError(`Cannot write the report --report ${path}: ${fileProblem(path, error)}.`, {
      cause: error,
      hint: retry,
    });
  }
}

export function buildSummary(
  ledger: Ledger,
  campaign: Campaign,
  counts: Counts,
  s: Pick<
    Summary,
    'status' | 'exitCode' | 'durationMs' | 'requests' | 'achievedRate' | 'targetRate' | 'stop' | 'report'
  > & {
    rendered?: number;
    commits?: number;
  },
): Summary {
  return {
    campaign: campaign.id,
    template: campaign.template,
    language: campaign.language,
    counts,
    failedByCode: ledger
      .failuresByCode(campaign.cid)
      .map((f) => ({ code: f.code, title: f.title, meaning: meaningOfCode(f.code), count: f.count })),
    skippedByReason: ledger
      .skipsByReason(campaign.cid)
      .map((k) => ({ reason: k.reason, meaning: meaningOfSkip(k.reason), count: k.count })),
    unknownRows: ledger.rowsInState(campaign.cid, 'unknown', 100),
    ...s,
  };
}
