/** How an ended Graph API version is answered: Meta's error 2635, or served as the oldest available version. */
export type ExpiredVersionAnswer = 'error' | 'upgrade';
/** What editing an APPROVED template does to its status: it stays APPROVED while re-reviewed (Meta's docs), or goes back to PENDING. */
export type ApprovedEditAnswer = 'stays_approved' | 'review';
/**
 * A free-form message outside the 24-hour window: Meta documents an immediate 400 #131047 ('error'); some report
 * a 200 followed by a `failed` status webhook with 131047 ('failed_status').
 */
export type ReengagementAnswer = 'error' | 'failed_status';

/** Options of the sandbox (CONTRACTS.md) plus a few knobs of its own. */
export interface SandboxOptions {
  /** 0 = ephemeral (default). */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** POST webhooks here (signed X-Hub-Signature-256 with the app secret). Default: the sandbox's own receiver. */
  webhookUrl?: string;
  /** In-process delivery instead of HTTP (used by --sandbox); returns the HTTP status the receiver would answer. */
  webhookSink?: (rawBody: string, headers: Record<string, string>) => Promise<number>;
  /** Default SEED.app.secret. */
  appSecret?: string;
  /** Default SEED.verifyToken. */
  verifyToken?: string;
  /** A scenario applied at start: `name` or `name:key=value,key=value` (see scenarios.ts). */
  scenario?: string;
  /** Template review PENDING -> APPROVED/REJECTED (default 2000 ms). */
  reviewDelayMs?: number;
  /** Pacing of sent -> delivered -> read status webhooks (default 500 ms per step). */
  statusDelayMs?: number;
  /** Pacing of history / contact sync webhooks after smb_app_data (default 300 ms per chunk). */
  historyDelayMs?: number;
  requireAppSecretProof?: boolean;
  /** Emit an already-onboarded activity stream for the coexistence number at start (awaited). */
  seedActivity?: boolean;
  /** Seed the PAUSED and DISABLED templates (default true); the healthy world of --sandbox and the demo has none. */
  problemTemplates?: boolean;
  /** No log lines at all. */
  quiet?: boolean;
  /** Receives one line per request and event (default: none unless quiet === false, then stderr). */
  log?: (line: string) => void;
  /** HTTP status of throttling errors (130429, 131056, 80007): Meta documents 400; some report 429. */
  throttleStatus?: 400 | 429;
  /** Webhook retry backoff base (default 1000 ms, doubled per attempt) and attempts (default 6). */
  webhookRetryBaseMs?: number;
  webhookMaxAttempts?: number;
  /** Share of successful deliveries sent a second time (0..1, default 0). */
  webhookDuplicateRate?: number;
  /** Concurrent deliveries (default 1: deterministic order). */
  webhookConcurrency?: number;
  /** Seed of the sandbox's pseudo-random choices (faults, duplicates, challenges). */
  randomSeed?: number;
  /** Default 'error' (2635). */
  expiredVersion?: ExpiredVersionAnswer;
  /** Default 'stays_approved' (documented); 'review' sends an edited APPROVED template back to PENDING. */
  approvedEdit?: ApprovedEditAnswer;
  /** Default 'error' (400 #131047, documented); 'failed_status' accepts, then reports a failed status with 131047. */
  reengagement?: ReengagementAnswer;
}
