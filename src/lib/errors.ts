/**
 * Errors that carry their own exit code. Every other module throws one of these (or a GraphApiError);
 * `exitCodeFor` in ./exit-codes.ts is the single place that turns any error into a process exit code.
 */
export const ExitCode = {
  OK: 0,
  FAILED: 1,
  USAGE: 2,
  PARTIAL: 3,
  AUTH: 4,
  PENDING: 8,
  CANCELLED: 130,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export class WacxError extends Error {
  readonly exitCode: number = ExitCode.FAILED;
  /** One line telling the user what to do next. */
  readonly hint: string | undefined;
  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.hint = options.hint;
  }
}

/** Bad flag, bad file, bad input. Nothing was sent. Exit 2. */
export class UsageError extends WacxError {
  override readonly exitCode: number = ExitCode.USAGE;
  /** Where the problem is, e.g. `contacts.csv:12:3` or `--rate`. */
  readonly location: string | undefined;
  constructor(message: string, options: { hint?: string; location?: string; cause?: unknown } = {}) {
    const located = options.location && !message.startsWith(options.location);
    super(located ? `${options.location}: ${message}` : message, options);
    this.location = options.location;
  }
}

/** Missing token, expired token, missing permission, missing configuration. Exit 4. */
export class ConfigError extends WacxError {
  override readonly exitCode: number = ExitCode.AUTH;
}

/** Ctrl+C / SIGTERM. Exit 130. */
export class CancelledError extends WacxError {
  override readonly exitCode: number = ExitCode.CANCELLED;
  constructor(message = 'Cancelled.') {
    super(message);
  }
}

/** Something is still in progress (history import, template review) when we stopped waiting. Exit 8. */
export class PendingError extends WacxError {
  override readonly exitCode: number = ExitCode.PENDING;
}
