import { errorCodeInfo } from '../graph/error-codes.js';
import type { EngineNotice } from './engine.js';
import type { Counts } from './ledger.js';
import { type RowOutcome, SKIP_REASON_TEXT, type SkipReason, type StopReason } from './types.js';

/** Everything a finished run reports, for people (stdout table) and for `--json` (one summary line). */
export interface Summary {
  campaign: string;
  template: string;
  language: string;
  status: 'completed' | 'stopped' | 'cancelled' | 'partial' | 'dry_run';
  exitCode: number;
  counts: Counts;
  failedByCode: { code: number | null; title: string | null; meaning: string | null; count: number }[];
  skippedByReason: { reason: string; meaning: string | null; count: number }[];
  unknownRows: RowOutcome[];
  durationMs: number;
  /** Requests answered per second while sending (this run). */
  achievedRate: number | null;
  targetRate: number | null;
  requests: number;
  stop: StopReason | null;
  report: string | null;
  /** Dry run: messages rendered. */
  rendered?: number;
  /** Group commits written to the ledger during this run. */
  commits?: number;
}

/** The state of a run while it sends, taken whenever the one rendering it asks. */
export interface Snapshot {
  counts: Counts;
  outstanding: number;
  /** Messages answered per second over the last few seconds. */
  rate: number;
  targetRate: number;
  ingesting: boolean;
}

/** What a run is about to send, and how fast. */
export interface SendStart {
  campaign: string;
  template: string;
  language: string;
  csvName: string;
  rate: number;
  /** Where the rate comes from (the number's throughput, --rate …). */
  rateSource: string;
  /** Requests in flight at most. */
  window: number;
}

/**
 * What `send` and `campaigns resume` report while they run; the cli layer renders it (lib/campaign prints nothing).
 * Methods rather than one event object each: a 1,000,000-row send reports a million row outcomes.
 */
export interface SendEvents {
  /** A line for people: what the run does (resuming, taking over, rows reconciled). */
  info(text: string): void;
  /** Something people must know (rows not re-sent, unreadable --exclude lines). */
  warn(text: string): void;
  /** Sending starts; `snapshot` gives its progress until `sendingEnded`. */
  sending(start: SendStart, snapshot: () => Snapshot): void;
  sendingEnded(): void;
  /** One row's outcome as it reaches the ledger (sent, failed, unknown, or skipped with why). */
  row(campaign: string, outcome: RowOutcome, csvName: string): void;
  /** Throttling and retries (at `now`, the run's clock). */
  notice(notice: EngineNotice, now: number): void;
  /** Dry run: rendered messages (NDJSON lines, or a few previews); resolves when the output takes more. */
  rendered(lines: readonly string[]): Promise<void>;
  /** The run's end. */
  summary(summary: Summary): void;
}

/** What a failure code adds for a campaign, beyond the API's general hint. */
const CAMPAIGN_NOTE: Partial<Record<number, string>> = {
  // Meta documents an immediate 400; some accounts accept the message and report a failed status instead.
  131047:
    'a campaign row with it was not delivered: the API may accept the message and report this failure later, by a failed status webhook (settled by `wacx campaigns reconcile`)',
};

export function meaningOfCode(code: number | null): string | null {
  if (code === null) return null;
  const info = errorCodeInfo(code);
  if (!info) return null;
  const note = CAMPAIGN_NOTE[code];
  return `${info.title}: ${info.hint}${note ? ` (${note})` : ''}`;
}

export function meaningOfSkip(reason: string): string | null {
  return SKIP_REASON_TEXT[reason as SkipReason] ?? null;
}
