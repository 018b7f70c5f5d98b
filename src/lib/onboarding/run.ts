import type { Clock } from '../clock.js';
import { CancelledError, ConfigError, UsageError, WacxError } from '../errors.js';
import { GraphApiError } from '../graph/errors.js';
import type { Graph } from '../graph/graph.js';
import {
  acceptedSync,
  alreadyRequestedError,
  requestSync,
  SYNC_LABEL,
  type SyncKind,
} from '../history/sync-requests.js';
import type { Prompter } from '../io/prompter.js';
import { type AppChange, appChangeLines, appChangesJson } from './app-changes.js';
import { seenDelivery, waitForDelivery } from './delivery.js';
import { describeNumber, discover } from './discover.js';
import type { OnboardEvent, OnboardEvents } from './events.js';
import { type RelayedCallback, relayedCallback } from './relay.js';
import { type SessionInfo, sessionDetail, sessionFromDetail } from './session.js';
import { buildSignupUrl, newState, startCallbackServer } from './signup.js';
import { isFinished, type OnboardingState, type RunState, STEP_TITLES, STEPS, type StepId } from './state.js';
import { checkWebhookFields, WebhookFieldsError, webhookFieldsFix } from './webhooks.js';

export * from './app-changes.js';
export * from './delivery.js';
export * from './discover.js';
export * from './events.js';
export * from './relay.js';
export * from './session.js';
export * from './signup.js';
export * from './state.js';
export * from './webhooks.js';

export const NEXT_STEPS = ['wacx history status --watch', 'wacx doctor'];

export interface OnboardContext {
  /** Where the run reports its progress (the command renders it). */
  onEvent: OnboardEvents;
  clock: Clock;
  signal: AbortSignal;
  prompter: Prompter;
  /** Prompts allowed (TTY, no --no-input). */
  interactive: boolean;
  state: OnboardingState;
  /** A Graph client with this token (null: none, for the code exchange). */
  graph(token: string | null): Promise<Graph>;
  /** Stores the business token as the profile's secret. */
  storeToken(token: string): Promise<'keychain' | 'file'>;
  /** The profile's token (for a resumed run whose exchange is done). */
  currentToken(): Promise<string | undefined>;
  /** Saves the ids in the profile. */
  saveProfile(ids: {
    appId: string;
    configId?: string | undefined;
    wabaId: string;
    phoneNumberId: string;
  }): void;
}

export interface OnboardOptions {
  appId: string;
  appSecret: string;
  configId?: string | undefined;
  apiVersion: string;
  graphUrl: string;
  dialogBase: string;
  /** Scripted form: a code obtained elsewhere; skips the QR code and the callback. */
  code?: string | undefined;
  /** redirect_uri to send with --code (only when the code came from a manual dialog with one). */
  redirectUri?: string | undefined;
  /** With --code: the signup's session info (which WABA and number it onboarded). */
  session?: SessionInfo | null;
  wabaId?: string | undefined;
  phoneNumberId?: string | undefined;
  sync: boolean;
  /** Request the syncs even when no webhook was seen reaching the store (the user accepts the risk). */
  syncWithoutWebhooks: boolean;
  /** How long to wait for a webhook to reach the store before the syncs. */
  webhookTimeoutMs: number;
  timeoutMs: number;
  callbackPort?: number | undefined;
  /** The public receiver's /onboard/callback URL: the signup can be finished on a phone. */
  callbackUrl?: string | undefined;
  restart: boolean;
  /** The App changes were accepted beforehand (--yes): no confirmation before the signup. */
  yes: boolean;
}

export interface StepReport {
  id: StepId;
  title: string;
  status: 'pending' | 'done' | 'skipped' | 'failed';
  /** Whether the step ran in this invocation (false: done earlier, or not reached). */
  ran: boolean;
  at: string | null;
  detail: Record<string, unknown>;
  error: string | null;
}

export interface OnboardResult {
  ok: boolean;
  run_id: number;
  resumed: boolean;
  complete: boolean;
  app_id: string | null;
  config_id: string | null;
  waba_id: string | null;
  phone_number_id: string | null;
  display_phone_number: string | null;
  onboarded_at: string | null;
  syncs: {
    contacts: { request_id: string; requested_at: string } | null;
    history: { request_id: string; requested_at: string } | null;
  };
  steps: StepReport[];
  /** What coexistence changes in the Business App (shown, and confirmed, before the signup). */
  app_changes: AppChange[];
  next_steps: string[];
  error: { message: string; hint: string | null; code: number | null } | null;
}

const SYNC_STEPS: Record<'contact_sync' | 'history_sync', SyncKind> = {
  contact_sync: 'smb_app_state_sync',
  history_sync: 'history',
};

const iso = (ms: number | null | undefined) =>
  ms === null || ms === undefined ? null : new Date(ms).toISOString();

function syncOf(
  run: RunState,
  step: 'contact_sync' | 'history_sync',
): { request_id: string; requested_at: string } | null {
  const s = run.steps.find((x) => x.id === step);
  if (s?.status !== 'done') return null;
  return { request_id: String(s.detail.request_id ?? ''), requested_at: String(s.detail.requested_at ?? '') };
}

export function buildResult(
  run: RunState,
  ran: Set<StepId>,
  resumed: boolean,
  error?: unknown,
): OnboardResult {
  const complete = run.completedAt !== null;
  const err =
    error === undefined
      ? null
      : {
          message: error instanceof Error ? error.message : String(error),
          hint: (error as { hint?: string }).hint ?? null,
          code: error instanceof GraphApiError ? error.code : ((error as { code?: number }).code ?? null),
        };
  return {
    ok: error === undefined,
    run_id: run.id,
    resumed,
    complete,
    app_id: run.appId,
    config_id: run.configId,
    waba_id: run.wabaId,
    phone_number_id: run.phoneNumberId,
    display_phone_number: run.displayPhoneNumber,
    onboarded_at: iso(run.onboardedAt),
    syncs: { contacts: syncOf(run, 'contact_sync'), history: syncOf(run, 'history_sync') },
    steps: run.steps.map((s) => ({
      id: s.id,
      title: STEP_TITLES[s.id],
      status: s.status,
      ran: ran.has(s.id),
      at: iso(s.updatedAt),
      detail: s.detail,
      error: s.error,
    })),
    app_changes: appChangesJson(),
    next_steps: NEXT_STEPS,
    error: err,
  };
}

/** Thrown when the onboarding fails: carries the result (for --json) and the original error (for the exit code). */
export class OnboardingFailed extends Error {
  constructor(
    readonly result: OnboardResult,
    readonly original: unknown,
  ) {
    super(original instanceof Error ? original.message : String(original));
  }
}

/**
 * Before the signup changes the Business App: shows what changes, and asks on a terminal; without one the
 * user must have accepted with --yes. Declining changes nothing.
 */
async function confirmAppChanges(ctx: OnboardContext, opts: OnboardOptions): Promise<void> {
  await ctx.onEvent({ type: 'app_changes', lines: appChangeLines() });
  if (opts.yes) return;
  if (!ctx.interactive) {
    throw new UsageError('The signup changes the WhatsApp Business app (above): confirm with --yes.', {
      location: '--yes',
      hint: 'Read the changes above, then run again with --yes (or on a terminal, to be asked).',
    });
  }
  const ok = await ctx.prompter.confirm({
    message: 'Continue with the signup (these changes apply once the phone confirms)?',
    flag: '--yes',
    default: false,
  });
  if (!ok) {
    await ctx.onEvent({ type: 'notice', text: 'Onboarding not started: nothing was changed.' });
    throw new CancelledError('Onboarding not started: nothing was changed.');
  }
}

/**
 * The whole coexistence onboarding, step by step, each step's state saved so that a re-run resumes at the
 * first step not done (a completed exchange or sync is never repeated).
 */
export async function runOnboarding(ctx: OnboardContext, opts: OnboardOptions): Promise<OnboardResult> {
  const { clock, state } = ctx;
  const emit = (event: OnboardEvent) => ctx.onEvent(event);
  let run = state.latest();
  let resumed = false;
  if (run && !opts.restart) {
    if (run.completedAt !== null) {
      const conflict =
        (opts.phoneNumberId && opts.phoneNumberId !== run.phoneNumberId) ||
        (opts.wabaId && opts.wabaId !== run.wabaId);
      if (conflict || opts.code) {
        throw new UsageError(
          `The onboarding of ${run.displayPhoneNumber ?? run.phoneNumberId} is already complete (${iso(run.completedAt)}).`,
          {
            location: '--restart',
            hint: 'Pass --restart to onboard again (after the business re-did Embedded Signup).',
          },
        );
      }
      await emit({
        type: 'already_complete',
        number: String(run.displayPhoneNumber ?? run.phoneNumberId),
        completedAt: new Date(run.completedAt).toISOString(),
      });
      return buildResult(run, new Set(), true);
    }
    resumed = true;
    const done = (id: StepId) => isFinished(run!.steps.find((s) => s.id === id)!);
    if (done('discover')) {
      for (const [flag, value, stored] of [
        ['--phone-number-id', opts.phoneNumberId, run.phoneNumberId],
        ['--waba-id', opts.wabaId, run.wabaId],
      ] as const) {
        if (value && value !== stored) {
          throw new UsageError(`This onboarding (run ${run.id}) is for ${stored}, not ${value}.`, {
            location: flag,
            hint: 'Run without the flag to resume it, or pass --restart to start over.',
          });
        }
      }
    }
    if (opts.code && done('exchange')) {
      await emit({
        type: 'warning',
        text: 'The code exchange is already done for this onboarding: --code is ignored (a code works only once).',
      });
    }
    const next = run.steps.find((s) => !isFinished(s) && !(s.status === 'skipped' && !opts.sync));
    await emit({
      type: 'resuming',
      runId: run.id,
      startedAt: new Date(run.startedAt).toISOString(),
      next: next?.id ?? null,
    });
  }
  // The QR code / URL is shown only after the changes in the App were shown and accepted.
  const exchanged = resumed && isFinished(run!.steps.find((s) => s.id === 'exchange')!);
  if (!opts.code && !exchanged) await confirmAppChanges(ctx, opts);
  if (!resumed || !run) run = state.create(clock.now(), { appId: opts.appId, configId: opts.configId });
  const runId = run.id;
  const ran = new Set<StepId>();
  const appToken = `${opts.appId}|${opts.appSecret}`;

  // values carried from one step to the next
  let code: string | undefined;
  let redirectUri: string | undefined = opts.redirectUri;
  let token: string | undefined;
  let biz: Graph | undefined;
  let session: SessionInfo | null = opts.session ?? null;

  const stepOf = (id: StepId) => state.get(runId).steps.find((s) => s.id === id)!;
  const needBiz = async (): Promise<Graph> => {
    if (biz) return biz;
    token ??= await ctx.currentToken();
    if (!token) {
      throw new ConfigError('The business token of this onboarding is no longer in the profile.', {
        hint: 'Run `wacx onboard --restart` to sign up again.',
      });
    }
    biz = await ctx.graph(token);
    return biz;
  };

  const handlers: Record<StepId, () => Promise<{ detail: Record<string, unknown>; text: string }>> = {
    signup: async () => {
      if (!opts.configId) {
        throw new ConfigError('No Embedded Signup configuration id (configId).', {
          hint: 'Pass --config-id, set WACX_CONFIG_ID, or run `wacx config set configId ID` (or give a code with --code).',
        });
      }
      const oauthState = newState();
      const signupUrl = (redirect: string) =>
        buildSignupUrl({
          dialogBase: opts.dialogBase,
          apiVersion: opts.apiVersion,
          appId: opts.appId,
          configId: opts.configId!,
          redirectUri: redirect,
          state: oauthState,
        });
      let source: Pick<RelayedCallback, 'wait' | 'close'>;
      if (opts.callbackUrl) {
        // a phone can finish the signup: the public receiver records the code for this terminal
        redirectUri = opts.callbackUrl;
        const url = signupUrl(redirectUri);
        const relay = relayedCallback({
          db: state.db,
          state: oauthState,
          callbackUrl: redirectUri,
          signupUrl: url,
          now: clock.now(),
          ttlMs: opts.timeoutMs,
        });
        source = relay;
        await emit({ type: 'signup_url', via: 'relay', url, startUrl: relay.startUrl, redirectUri });
      } else {
        const server = await startCallbackServer({ state: oauthState, port: opts.callbackPort });
        source = server;
        redirectUri = server.redirectUri;
        await emit({ type: 'signup_url', via: 'loopback', url: signupUrl(redirectUri), redirectUri });
      }
      try {
        await emit({ type: 'waiting_for_signup', timeoutMs: opts.timeoutMs });
        try {
          const got = await source.wait({ timeoutMs: opts.timeoutMs, clock, signal: ctx.signal });
          code = got.code;
          session = got.session;
        } finally {
          await emit({ type: 'wait_ended' });
        }
      } finally {
        await source.close();
      }
      return {
        detail: {
          redirect_uri: redirectUri,
          callback_at: iso(clock.now()),
          session_info: sessionDetail(session),
        },
        text: 'Embedded Signup finished: callback received',
      };
    },

    exchange: async () => {
      if (!code) throw new WacxError('No code to exchange.', { hint: 'Run `wacx onboard` again.' });
      let accessToken: string;
      try {
        const res = await (await ctx.graph(null)).oauth.exchangeCode({
          appId: opts.appId,
          appSecret: opts.appSecret,
          code,
          redirectUri,
        });
        accessToken = res.access_token;
      } catch (error) {
        if (error instanceof GraphApiError && error.status < 500) {
          throw new WacxError(
            `Meta refused the code (${error.message}): a code lives 30 seconds and works once.`,
            {
              hint: opts.code
                ? 'Get a fresh code and pass it at once with --code, or run `wacx onboard` without --code to use the QR code flow.'
                : 'Run `wacx onboard` again and finish the signup; wacx exchanges the code the moment it arrives.',
              cause: error,
            },
          );
        }
        throw error;
      } finally {
        code = undefined;
      }
      if (!accessToken) throw new WacxError('The code exchange returned no access token.');
      token = accessToken;
      const where = await ctx.storeToken(accessToken);
      return {
        detail: { token_stored_in: where },
        text: `Business token received and stored in the ${where === 'keychain' ? 'OS keychain' : 'profile file (0600)'}`,
      };
    },

    discover: async () => {
      const graph = await needBiz();
      const found = await discover(
        {
          graph,
          appToken,
          businessToken: token!,
          prompter: ctx.prompter,
          interactive: ctx.interactive,
          signal: ctx.signal,
        },
        {
          wabaId: opts.wabaId ?? run!.wabaId ?? undefined,
          phoneNumberId: opts.phoneNumberId,
          // saved with the signup step, so that a resumed run still knows what the signup onboarded
          session: session ?? sessionFromDetail(stepOf('signup').detail.session_info),
        },
      );
      const n = found.number;
      state.setIds(runId, clock.now(), {
        wabaId: found.wabaId,
        phoneNumberId: n.id,
        displayPhoneNumber: n.display_phone_number ?? n.id,
        onboardedAt: found.onboardedAt,
      });
      return {
        detail: {
          waba_id: found.wabaId,
          waba_from: found.wabaFrom,
          phone_number_id: n.id,
          display_phone_number: n.display_phone_number ?? null,
          verified_name: n.verified_name ?? null,
          is_on_biz_app: n.is_on_biz_app ?? null,
          platform_type: n.platform_type ?? null,
          last_onboarded_time: n.last_onboarded_time ?? null,
          picked_by: found.pickedBy,
        },
        text: `Coexistence number ${describeNumber(n)} in WABA ${found.wabaId} (is_on_biz_app, CLOUD_API; no /register)`,
      };
    },

    subscribe: async () => {
      const graph = await needBiz();
      const wabaId = state.get(runId).wabaId!;
      await graph.waba.subscribeApp(wabaId);
      const apps = await graph.waba.subscribedApps(wabaId);
      const ids = apps.map((a) => a.whatsapp_business_api_data.id);
      if (!ids.includes(opts.appId)) {
        throw new WacxError(
          `The app ${opts.appId} is not listed in WABA ${wabaId}'s subscribed apps after subscribing (found: ${ids.join(', ') || 'none'}).`,
          { hint: 'Check that the token belongs to this app, then run `wacx onboard` again.' },
        );
      }
      return {
        detail: { subscribed_apps: ids },
        text: `App ${opts.appId} subscribed to WABA ${wabaId}'s webhooks`,
      };
    },

    webhook_fields: async () => {
      const graph = await needBiz();
      const r = await checkWebhookFields(graph, opts.appId, appToken);
      if (r.missing.length > 0) {
        throw new WebhookFieldsError(
          r.missing,
          webhookFieldsFix({
            appId: opts.appId,
            missing: r.missing,
            present: r.fields,
            callbackUrl: r.callbackUrl,
            graphUrl: opts.graphUrl,
            apiVersion: opts.apiVersion,
          }),
        );
      }
      return {
        detail: { fields: r.fields, callback_url: r.callbackUrl, active: r.active },
        text: `Webhook fields ok: ${r.fields.filter((f) => ['history', 'smb_app_state_sync', 'smb_message_echoes', 'account_update'].includes(f)).join(', ')}`,
      };
    },

    webhook_delivery: async () => {
      const r = state.get(runId);
      const where = { since: r.startedAt, wabaId: r.wabaId, phoneNumberId: r.phoneNumberId };
      let seen = seenDelivery(state.db, where);
      if (!seen && opts.syncWithoutWebhooks) {
        await emit({
          type: 'warning',
          text: "No webhook has reached this profile's store, and --sync-without-webhooks was given: requesting the one-shot syncs anyway. If webhooks do not arrive, their import is lost and cannot be requested again.",
        });
        return {
          detail: { seen: null, accepted_risk: true },
          text: 'No webhook seen: syncs requested anyway (--sync-without-webhooks)',
        };
      }
      if (!seen) {
        await emit({ type: 'waiting_for_webhook', timeoutMs: opts.webhookTimeoutMs });
        try {
          seen = await waitForDelivery({
            db: state.db,
            clock,
            signal: ctx.signal,
            timeoutMs: opts.webhookTimeoutMs,
            ...where,
          });
        } finally {
          await emit({ type: 'wait_ended' });
        }
      }
      return {
        detail: {
          seen: {
            field: seen.field,
            kind: seen.kind,
            summary: seen.summary,
            received_at: iso(seen.receivedAt),
          },
          accepted_risk: false,
        },
        text: `Webhooks reach the store (${seen.summary}, received ${iso(seen.receivedAt)}): the syncs' imports will be kept`,
      };
    },

    contact_sync: () => syncStep('contact_sync'),
    history_sync: () => syncStep('history_sync'),

    profile: async () => {
      const r = state.get(runId);
      ctx.saveProfile({
        appId: opts.appId,
        configId: opts.configId,
        wabaId: r.wabaId!,
        phoneNumberId: r.phoneNumberId!,
      });
      return {
        detail: {
          app_id: opts.appId,
          config_id: opts.configId ?? null,
          waba_id: r.wabaId,
          phone_number_id: r.phoneNumberId,
        },
        text: 'Profile saved (appId, configId, wabaId, phoneNumberId)',
      };
    },
  };

  async function syncStep(step: 'contact_sync' | 'history_sync') {
    const type = SYNC_STEPS[step];
    const r = state.get(runId);
    const graph = await needBiz();
    // Already requested for this onboarding (by an interrupted run, or `wacx history sync`): Meta allows one
    // call per type, so a second one is refused locally (no API call) and the earlier request is kept.
    const earlier = acceptedSync(ctx.state.db, r.phoneNumberId!, type, r.onboardedAt ?? r.startedAt);
    if (earlier) {
      await emit({
        type: 'warning',
        text: `${alreadyRequestedError(type, earlier).message} Not requesting it again.`,
      });
      return {
        detail: {
          sync_type: type,
          request_id: earlier.requestId,
          requested_at: iso(earlier.requestedAt),
          reused: true,
        },
        text: `${capital(SYNC_LABEL[type])} already requested (request id ${earlier.requestId}): not repeated`,
      };
    }
    const res = await requestSync({ graph, db: ctx.state.db, clock }, r.phoneNumberId!, type, {
      ...(r.onboardedAt !== null ? { onboardedAt: r.onboardedAt } : {}),
      signal: ctx.signal,
    });
    return {
      detail: {
        sync_type: type,
        request_id: res.requestId,
        requested_at: iso(res.requestedAt),
        reused: false,
      },
      text: `${capital(SYNC_LABEL[type])} requested (request id ${res.requestId})`,
    };
  }

  for (const id of STEPS) {
    const current = stepOf(id);
    // signup and exchange go together: the code is never stored, so an unfinished exchange redoes the signup
    if (id === 'signup') {
      if (isFinished(stepOf('exchange'))) {
        if (resumed) await emit({ type: 'step_done_earlier', step: id });
        continue;
      }
      if (opts.code) {
        code = opts.code;
        state.setStep(runId, id, 'skipped', clock.now(), {
          via: '--code',
          session_info: sessionDetail(session),
        });
        ran.add(id);
        await emit({ type: 'step_skipped', step: id, reason: '--code given' });
        continue;
      }
    } else if (isFinished(current)) {
      if (resumed) await emit({ type: 'step_done_earlier', step: id });
      continue;
    }
    if ((id === 'webhook_delivery' || id === 'contact_sync' || id === 'history_sync') && !opts.sync) {
      state.setStep(runId, id, 'skipped', clock.now(), { reason: '--no-sync' });
      ran.add(id);
      await emit({ type: 'step_skipped', step: id, reason: '--no-sync' });
      continue;
    }
    ran.add(id);
    await emit({ type: 'step_started', step: id });
    try {
      const { detail, text } = await handlers[id]();
      state.setStep(runId, id, 'done', clock.now(), detail, null);
      await emit({ type: 'step_done', step: id, text });
    } catch (error) {
      const cancelled = ctx.signal.aborted;
      state.setStep(
        runId,
        id,
        cancelled ? 'pending' : 'failed',
        clock.now(),
        undefined,
        cancelled ? null : errText(error),
      );
      await emit({
        type: 'step_failed',
        step: id,
        cancelled,
        fix: error instanceof WebhookFieldsError ? error.fix : [],
      });
      throw new OnboardingFailed(buildResult(state.get(runId), ran, resumed, error), error);
    }
  }

  const final = state.get(runId);
  if (final.steps.every(isFinished)) state.complete(runId, clock.now());
  return buildResult(state.get(runId), ran, resumed);
}

function capital(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function errText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
