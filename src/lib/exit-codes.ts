import { ExitCode, WacxError } from './errors.js';
import {
  GraphApiError,
  GraphNetworkError,
  UnexpectedAnswerError,
  UnknownOutcomeError,
} from './graph/errors.js';

/** The one table of exit codes, printed by `wacx help exit-codes` and documented in the README. */
export const EXIT_CODE_TABLE: ReadonlyArray<readonly [number, string]> = [
  [ExitCode.OK, 'success (also "nothing to do", "no results")'],
  [
    ExitCode.FAILED,
    'operation failed (Graph API error or unexpected answer, network, a doctor check failed, not eligible)',
  ],
  [ExitCode.USAGE, 'usage or input error (bad flag, invalid CSV or template file); nothing was sent'],
  [ExitCode.PARTIAL, 'partial failure (a bulk send finished, some rows failed; see the ledger and report)'],
  [ExitCode.AUTH, 'authentication or configuration (no token, token expired (190), missing permission)'],
  [ExitCode.PENDING, 'pending (history import or template review still in progress)'],
  [ExitCode.CANCELLED, 'cancelled (Ctrl+C); state checkpointed first'],
];

/** The single mapping from any thrown value to a process exit code. */
export function exitCodeFor(error: unknown): number {
  if (error instanceof WacxError) return error.exitCode;
  if (error instanceof GraphApiError) return error.category === 'auth' ? ExitCode.AUTH : ExitCode.FAILED;
  if (error instanceof GraphNetworkError || error instanceof UnknownOutcomeError) return ExitCode.FAILED;
  // The API answered, in a shape wacx cannot use: the operation failed (not the user's input, not the token).
  if (error instanceof UnexpectedAnswerError) return ExitCode.FAILED;
  if (error instanceof Error && error.name === 'ExitPromptError') return ExitCode.CANCELLED;
  if (error instanceof Error && error.name === 'AbortError') return ExitCode.CANCELLED;
  return ExitCode.FAILED;
}
