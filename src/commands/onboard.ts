import type { Command } from 'commander';
import { defineCommand } from '../cli/define.js';
import type { Deps } from '../cli/deps.js';
import { duration, phoneNumberIdOption, port, wabaIdOption } from '../cli/flags.js';
import { ConfigError, UsageError } from '../lib/errors.js';
import { DEFAULT_API_VERSION, DEFAULT_GRAPH_URL } from '../lib/graph/url.js';
import { formatExactDuration } from '../lib/io/format.js';
import type { Io, Spinner } from '../lib/io/io.js';
import type { OnboardEvents, OnboardResult } from '../lib/onboarding/run.js';

/** The onboarding (its steps, loopback server, Graph and store use): loaded when it runs, not for `--help`. */
type Onboarding = typeof import('../lib/onboarding/run.js');

export interface OnboardFlags {
  appId?: string;
  configId?: string;
  code?: string;
  redirectUri?: string;
  sessionInfo?: string;
  wabaId?: string;
  phoneNumberId?: string;
  sync?: boolean;
  syncWithoutWebhooks?: boolean;
  webhookTimeout?: string;
  timeout?: string;
  dialogUrl?: string;
  callbackPort?: string;
  callbackUrl?: string;
  qr?: boolean;
  restart?: boolean;
  yes?: boolean;
}

export default defineCommand({
  flags: (cmd: Command) => {
    cmd
      .description('Onboard a WhatsApp Business app number for coexistence, step by step (resumable)')
      .option('--app-id <id>', 'Meta app id (default: profile / WACX_APP_ID)')
      .option('--config-id <id>', 'Embedded Signup configuration id (default: profile / WACX_CONFIG_ID)')
      .option('--code <code>', 'scripted form: exchange this code (30 s life) instead of showing the QR code')
      .option('--redirect-uri <uri>', 'with --code: the redirect_uri the code was issued for, if any')
      .option(
        '--session-info <json>',
        'with --code: the WA_EMBEDDED_SIGNUP event your signup page received (names the WABA and number)',
      )
      .addOption(wabaIdOption('the WABA (default: from the business token’s granular scopes)'))
      .addOption(phoneNumberIdOption('the coexistence number (default: found in the WABA)'))
      .option('--no-sync', 'do not request the contact and history syncs now (within 24 h later)')
      .option(
        '--webhook-timeout <duration>',
        'before the syncs, how long to wait for a webhook to reach the store',
        '2m',
      )
      .option(
        '--sync-without-webhooks',
        'request the one-shot syncs even if no webhook was seen reaching the store (their import may be lost)',
      )
      .option('--timeout <duration>', 'how long to wait for the signup callback', '10m')
      .option('--dialog-url <url>', 'base URL of the OAuth dialog (default: https://www.facebook.com)')
      .option('--callback-port <port>', 'fixed port for the loopback callback (default: ephemeral)')
      .option(
        '--callback-url <url>',
        'sign up on a phone: the public https URL of `wacx webhooks serve`’s /onboard/callback route',
      )
      .option('--qr', 'show the QR code (with --callback-url) even when stderr is not a terminal')
      .option('--no-qr', 'never show the QR code (the URL is always printed)')
      .option('--restart', 'start a new onboarding instead of resuming the last one')
      .option(
        '-y, --yes',
        'accept what coexistence changes in the Business App without being asked (required when not on a terminal)',
      )
      .addHelpText(
        'after',
        `
Before the signup, onboard shows what coexistence changes in the WhatsApp Business app (group chats not
synchronized, disappearing messages, view once and live location off, broadcast lists read-only, companions
unlinked, API messages billed) and asks to continue; without a terminal pass --yes.

Steps (each saved; a re-run resumes at the first step not done):
  signup          Embedded Signup URL + QR code, loopback callback (state checked)
  exchange        code → business token (stored as the profile's secret)
  discover        WABA (granular scopes) and the coexistence number (never /register)
  subscribe       POST /{waba}/subscribed_apps, verified
  webhook_fields  the app's fields include history, smb_app_state_sync, smb_message_echoes, account_update
  webhook_delivery a webhook reached this profile's store (wacx webhooks serve): waits --webhook-timeout;
                  the syncs are requested only then, or with --sync-without-webhooks
  contact_sync    POST /{phone}/smb_app_data smb_app_state_sync (once, within 24 h)
  history_sync    POST /{phone}/smb_app_data history (once, within 24 h)
  profile         wabaId, phoneNumberId, appId, configId saved

Examples:
  $ wacx onboard
  $ wacx onboard --yes --no-qr                  # scripted: changes accepted, URL only
  $ wacx onboard --code AQB… --json
  $ wacx onboard --code AQB… --session-info '{"type":"WA_EMBEDDED_SIGNUP","event":"FINISH_WHATSAPP_BUSINESS_APP_ONBOARDING","data":{"waba_id":"…","phone_number_id":"…"}}'
  $ wacx onboard --no-sync        # then later: wacx onboard (resumes with the syncs)
  $ wacx onboard --restart --phone-number-id 1065…`,
      );
  },
  run: (deps, opts: OnboardFlags) => run(opts, deps),
});

/** `--callback-url`: https (plain http only on loopback, e.g. the sandbox), ending with /onboard/callback. */
function relayCallbackUrl(raw: string, { RELAY_CALLBACK_PATH }: Onboarding): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`"${raw}" is not a URL.`, { location: '--callback-url' });
  }
  const loopback = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])$/i.test(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    throw new UsageError(`Refusing "${raw}": Meta redirects only to https (plain http only on loopback).`, {
      location: '--callback-url',
    });
  }
  if (!url.pathname.endsWith(RELAY_CALLBACK_PATH) || url.search || url.hash) {
    throw new UsageError(`"${raw}" is not the receiver's ${RELAY_CALLBACK_PATH} route.`, {
      location: '--callback-url',
      hint: `Pass the public address of \`wacx webhooks serve\` followed by ${RELAY_CALLBACK_PATH}, e.g. https://hooks.example.com${RELAY_CALLBACK_PATH} (and add it to the app's Valid OAuth Redirect URIs).`,
    });
  }
  return url.href;
}

export async function run(
  flags: OnboardFlags,
  deps: Deps,
  hooks: { onUrl?: (url: string) => void } = {},
): Promise<number> {
  const onboarding: Onboarding = await import('../lib/onboarding/run.js');
  const timeoutMs = duration('--timeout', { min: 1 })(flags.timeout ?? '10m');
  const webhookTimeoutMs = duration('--webhook-timeout')(flags.webhookTimeout ?? '2m');
  const callbackPort =
    flags.callbackPort === undefined ? undefined : port('--callback-port')(flags.callbackPort);
  const callbackUrl =
    flags.callbackUrl === undefined ? undefined : relayCallbackUrl(flags.callbackUrl, onboarding);
  if (callbackUrl && callbackPort !== undefined) {
    throw new UsageError('--callback-port is for the loopback callback; --callback-url replaces it.', {
      location: '--callback-port',
    });
  }
  if (flags.code !== undefined && !flags.code.trim())
    throw new UsageError('The code is empty.', { location: '--code' });
  for (const [flag, value] of [
    ['--redirect-uri', flags.redirectUri],
    ['--session-info', flags.sessionInfo],
  ] as const) {
    if (value && !flags.code) throw new UsageError(`${flag} goes with --code.`, { location: flag });
  }
  const session =
    flags.sessionInfo === undefined ? null : onboarding.parseSessionInfo(flags.sessionInfo, '--session-info');
  if (flags.sessionInfo !== undefined && !session) {
    throw new UsageError('The session info is not a finished WA_EMBEDDED_SIGNUP event with a waba_id.', {
      location: '--session-info',
    });
  }
  const config = deps.config().withFlags({ appId: flags.appId, configId: flags.configId });
  const appId = config.require('appId', '--app-id');
  const appSecret = (await config.secret('appSecret')).value;
  if (!appSecret) {
    throw new ConfigError(
      'No app secret: it is needed to exchange the code and to read the app’s webhook fields.',
      {
        hint: 'Export WACX_APP_SECRET=<your app secret> (App Dashboard › App settings › Basic); after onboarding `wacx auth login --app-secret` can store it.',
      },
    );
  }
  const graphUrl = config.get('graphUrl') ?? DEFAULT_GRAPH_URL;
  const apiVersion = config.get('apiVersion') ?? DEFAULT_API_VERSION;
  const dialogBase = onboarding.dialogBaseFor(graphUrl, flags.dialogUrl);
  const { io } = deps;

  const store = await deps.store();
  const state = new onboarding.OnboardingState(store);

  let result: OnboardResult;
  try {
    result = await onboarding.runOnboarding(
      {
        onEvent: progressRenderer(io, onboarding, { qr: flags.qr ?? io.stderrIsTTY, onUrl: hooks.onUrl }),
        clock: deps.clock,
        signal: deps.signal,
        prompter: deps.prompter,
        interactive: io.interactive,
        state,
        graph: (token) => deps.graph({ config, token: token ?? null, appSecret }),
        storeToken: async (token) => {
          const where = await config.setSecret('token', token);
          if (deps.env.WACX_TOKEN) {
            io.warn(
              'WACX_TOKEN is set in the environment: it takes precedence over the stored business token.',
            );
          }
          return where;
        },
        currentToken: async () => (await config.secret('token')).value,
        saveProfile: (ids) => {
          config.setSetting('appId', ids.appId);
          if (ids.configId) config.setSetting('configId', ids.configId);
          config.setSetting('wabaId', ids.wabaId);
          config.setSetting('phoneNumberId', ids.phoneNumberId);
        },
      },
      {
        appId,
        appSecret,
        configId: config.get('configId'),
        apiVersion,
        graphUrl,
        dialogBase,
        code: flags.code?.trim(),
        redirectUri: flags.redirectUri,
        session,
        wabaId: flags.wabaId,
        phoneNumberId: flags.phoneNumberId,
        sync: flags.sync !== false,
        syncWithoutWebhooks: Boolean(flags.syncWithoutWebhooks),
        webhookTimeoutMs,
        timeoutMs,
        callbackPort,
        callbackUrl,
        restart: Boolean(flags.restart),
        yes: Boolean(flags.yes),
      },
    );
  } catch (error) {
    if (error instanceof onboarding.OnboardingFailed) {
      const { recordedHint } = await import('../cli/hints.js');
      const failed = error.result.error;
      if (deps.globals.json)
        io.printJson({ ...error.result, error: failed && { ...failed, hint: recordedHint(failed) } });
      throw error.original;
    }
    throw error;
  }

  if (deps.globals.json) {
    io.printJson(result);
    return 0;
  }
  render(result, deps);
  return 0;
}

function render(r: OnboardResult, deps: Deps): void {
  const { io } = deps;
  const s = io.style;
  const who = `${r.display_phone_number ?? r.phone_number_id} (phone number id ${r.phone_number_id}, WABA ${r.waba_id})`;
  if (r.complete) io.out(s.green(`Onboarded ${who}.`));
  else io.out(s.yellow(`Onboarded ${who}; syncs not requested yet.`));
  if (r.syncs.contacts)
    io.out(`Contact sync request id: ${r.syncs.contacts.request_id} (${r.syncs.contacts.requested_at})`);
  if (r.syncs.history)
    io.out(`History sync request id: ${r.syncs.history.request_id} (${r.syncs.history.requested_at})`);
  if (!r.complete)
    io.out('Request the syncs within 24 h of onboarding: run `wacx onboard` again (it resumes).');
  io.out('');
  io.out('Next steps:');
  const notes = ['follow the history import and contact sync', 'check tokens, webhooks, number health'];
  for (const [i, cmd] of r.next_steps.entries()) io.out(`  ${cmd.padEnd(30)} ${s.dim(notes[i] ?? '')}`);
}

/**
 * Renders the onboarding's progress on stderr as it happens: a spinner per step (plain lines when not on a
 * terminal), the signup's URL with its QR code, the waits, notices and warnings.
 */
function progressRenderer(
  io: Io,
  { RELAY_CALLBACK_PATH, STEP_TITLES }: Onboarding,
  options: { qr: boolean; onUrl?: ((url: string) => void) | undefined },
): OnboardEvents {
  const s = io.style;
  let stepSpinner: Spinner | undefined;
  let waitSpinner: Spinner | undefined;

  /** The QR code when asked for and when it fits the terminal; else how to get one that fits. */
  const showQr = async (url: string) => {
    if (!options.qr) return;
    const { default: qrcode } = await import('qrcode-terminal');
    const qr = await new Promise<string>((resolve) => qrcode.generate(url, { small: true }, resolve));
    const width = Math.max(...qr.split('\n').map((l) => [...l].length));
    const columns = io.streams.stderr.isTTY ? io.streams.stderr.columns : undefined;
    if (columns && width > columns) {
      io.info(
        `The QR code needs ${width} columns and this terminal has ${columns}: widen the window (or make the font smaller) and run \`wacx onboard\` again, or open the link below on the phone.`,
      );
      return;
    }
    io.info(qr);
  };

  return async (event) => {
    switch (event.type) {
      case 'app_changes':
        for (const line of event.lines) io.info(line);
        io.info('');
        return;
      case 'already_complete':
        io.success(`Onboarding of ${event.number} already complete (${event.completedAt}): nothing to do.`);
        return;
      case 'resuming':
        io.info(
          `Resuming onboarding run ${event.runId} (started ${event.startedAt})${event.next ? ` at: ${STEP_TITLES[event.next]}` : ''}.`,
        );
        return;
      case 'step_started':
        stepSpinner = await io.spinner(`${STEP_TITLES[event.step]}…`);
        return;
      case 'step_done':
        stepSpinner?.succeed(event.text);
        stepSpinner = undefined;
        if (event.step === 'history_sync') {
          io.info(
            s.dim(
              '  Keep the WhatsApp Business app open on the phone while it syncs (it can take several minutes).',
            ),
          );
        }
        return;
      case 'step_done_earlier':
        io.info(`${s.green('✓')} ${STEP_TITLES[event.step]} (done earlier)`);
        return;
      case 'step_skipped':
        io.info(
          event.reason === '--code given'
            ? `${s.dim('-')} ${STEP_TITLES[event.step]}: skipped (--code given)`
            : `${s.dim('-')} ${STEP_TITLES[event.step]}: skipped (--no-sync).${event.step === 'webhook_delivery' ? '' : ' Request it within 24 h of onboarding: `wacx onboard` or `wacx history sync`.'}`,
        );
        return;
      case 'step_failed':
        stepSpinner?.fail(`${STEP_TITLES[event.step]}: ${event.cancelled ? 'cancelled' : 'failed'}`);
        stepSpinner = undefined;
        for (const line of event.fix) io.info(`  ${line}`);
        return;
      case 'signup_url':
        stepSpinner?.stop();
        if (event.via === 'relay') {
          io.info(
            'Scan the QR code with the phone (or open the link on any device), log in to Facebook, choose',
          );
          io.info(
            `"Connect your existing WhatsApp Business app" and confirm in the App. The signup comes back to ${event.redirectUri}`,
          );
          io.info('(`wacx webhooks serve` with this profile), which hands it to this terminal.');
          io.info('');
          await showQr(event.startUrl);
          io.info(`  ${event.startUrl}`);
          io.info('');
          io.info(s.dim(`Full signup URL: ${event.url}`));
        } else {
          io.info(
            `Open this URL in a browser on this computer (the signup comes back to ${event.redirectUri}),`,
          );
          io.info(
            'log in to Facebook, choose "Connect your existing WhatsApp Business app", then confirm on the phone:',
          );
          io.info('');
          io.info(`  ${event.url}`);
          io.info('');
          if (options.qr) {
            io.info(
              s.dim(
                `No QR code: its signup would come back to ${event.redirectUri}, which a phone cannot reach. To sign up from a phone, run \`wacx webhooks serve\` at a public https address and pass --callback-url https://…${RELAY_CALLBACK_PATH}.`,
              ),
            );
          }
        }
        options.onUrl?.(event.url);
        return;
      case 'waiting_for_signup':
        waitSpinner = await io.spinner(
          `Waiting for the signup to finish (timeout ${formatExactDuration(event.timeoutMs)}; Ctrl+C to stop)…`,
        );
        return;
      case 'waiting_for_webhook':
        stepSpinner?.stop();
        io.info(
          `The contact and history syncs can be requested only once and their import arrives only by webhook: waiting up to ${formatExactDuration(event.timeoutMs)} for a webhook to reach this profile's store (\`wacx webhooks serve\` behind the app's callback URL).`,
        );
        waitSpinner = await io.spinner('Waiting for a webhook delivery (Ctrl+C to stop)…');
        return;
      case 'wait_ended':
        waitSpinner?.stop();
        waitSpinner = undefined;
        return;
      case 'notice':
        io.info(event.text);
        return;
      case 'warning':
        io.warn(event.text);
        return;
    }
  };
}
