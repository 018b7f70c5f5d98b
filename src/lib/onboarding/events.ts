import type { StepId } from './state.js';

/**
 * What `runOnboarding` reports while it runs, in order; the command renders it (lib/onboarding prints nothing).
 * A step is `step_started`, then `step_done` or `step_failed`; while it runs it may wait (`waiting_*`, ended by
 * `wait_ended`) and, for the signup, hand out the URL to open (`signup_url`).
 */
export type OnboardEvent =
  /** What coexistence changes in the Business App, before the signup (then confirmed, or accepted with --yes). */
  | { type: 'app_changes'; lines: string[] }
  | { type: 'already_complete'; number: string; completedAt: string }
  | { type: 'resuming'; runId: number; startedAt: string; next: StepId | null }
  | { type: 'step_started'; step: StepId }
  /** `text` says what the step did. */
  | { type: 'step_done'; step: StepId; text: string }
  /** A resumed run passes a step finished by an earlier run. */
  | { type: 'step_done_earlier'; step: StepId }
  | { type: 'step_skipped'; step: StepId; reason: '--code given' | '--no-sync' }
  /** `fix`: what to change before running again, line by line (empty when nothing to add to the error). */
  | { type: 'step_failed'; step: StepId; cancelled: boolean; fix: string[] }
  /**
   * The signup to open: through the public receiver (`relay`: a phone can open `startUrl`, or scan it) or back
   * to a loopback callback on this computer (`loopback`: a phone cannot reach it).
   */
  | { type: 'signup_url'; via: 'relay'; url: string; startUrl: string; redirectUri: string }
  | { type: 'signup_url'; via: 'loopback'; url: string; redirectUri: string }
  | { type: 'waiting_for_signup'; timeoutMs: number }
  | { type: 'waiting_for_webhook'; timeoutMs: number }
  | { type: 'wait_ended' }
  | { type: 'notice'; text: string }
  | { type: 'warning'; text: string };

/** Receives the events; the run waits for each (the renderer may start a spinner) before it goes on. */
export type OnboardEvents = (event: OnboardEvent) => void | Promise<void>;
