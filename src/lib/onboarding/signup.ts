import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Clock } from '../clock.js';
import { CancelledError, UsageError, WacxError } from '../errors.js';
import { apiVersionState, suggestedVersion } from '../graph/versions.js';
import { formatExactDuration } from '../io/format.js';
import { parseSessionInfo, SESSION_INFO_PARAM, type SessionInfo } from './session.js';

export const DEFAULT_DIALOG_BASE = 'https://www.facebook.com';
export const CALLBACK_PATH = '/callback';

/**
 * The Embedded Signup `extras` for onboarding WhatsApp Business app users (meta-cloud-api.md §1.1), as Embedded
 * Signup v4 takes them: no `version` key (v2, deprecated on 2026-10-15, and v3 carried `extras.version`), the v4
 * featureType, session logging version 3. The v4 flow itself is chosen by the Login configuration (config_id).
 */
export const BUSINESS_APP_EXTRAS = {
  setup: {},
  featureType: 'whatsapp_business_app_onboarding',
  sessionInfoVersion: '3',
} as const;

const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])$/i;

/**
 * Where the OAuth dialog lives: `--dialog-url` when given; the Graph URL itself when it is a loopback sandbox
 * (the sandbox serves `/{version}/dialog/oauth`); else https://www.facebook.com.
 */
export function dialogBaseFor(graphUrl: string | undefined, override?: string): string {
  const pick = override ?? (graphUrl && isLoopback(graphUrl) ? graphUrl : DEFAULT_DIALOG_BASE);
  let url: URL;
  try {
    url = new URL(pick);
  } catch {
    throw new UsageError(`"${pick}" is not a URL.`, { location: '--dialog-url' });
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK.test(url.hostname))) {
    throw new UsageError(`Refusing dialog URL "${pick}": use https (plain http only on loopback).`, {
      location: '--dialog-url',
    });
  }
  return url.href.replace(/\/+$/, '');
}

function isLoopback(raw: string): boolean {
  try {
    return LOOPBACK.test(new URL(raw).hostname);
  } catch {
    return false;
  }
}

/** A random, URL-safe anti-CSRF `state`. */
export function newState(): string {
  return randomBytes(24).toString('base64url');
}

/**
 * The manual OAuth dialog URL for Business-App onboarding (meta-cloud-api.md §1.4 option (b)):
 * `${dialogBase}/${apiVersion}/dialog/oauth?client_id&redirect_uri&config_id&response_type=code
 *  &override_default_response_type=true&state&extras={"setup":{},"featureType":"whatsapp_business_app_onboarding","sessionInfoVersion":"3"}`
 */
export function buildSignupUrl(p: {
  dialogBase: string;
  apiVersion: string;
  appId: string;
  configId: string;
  redirectUri: string;
  state: string;
  /** For the version's end date (default: now). */
  now?: number;
}): string {
  // The dialog of an ended Graph version no longer opens: use a current one for the link itself.
  const version =
    apiVersionState(p.apiVersion, p.now ?? Date.now(), 0).state === 'expired'
      ? suggestedVersion(p.now ?? Date.now(), 0)
      : p.apiVersion;
  const url = new URL(`${p.dialogBase.replace(/\/+$/, '')}/${version}/dialog/oauth`);
  url.searchParams.set('client_id', p.appId);
  url.searchParams.set('redirect_uri', p.redirectUri);
  url.searchParams.set('config_id', p.configId);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('override_default_response_type', 'true');
  url.searchParams.set('state', p.state);
  url.searchParams.set('extras', JSON.stringify(BUSINESS_APP_EXTRAS));
  return url.href;
}

export interface CallbackResult {
  code: string;
  state: string;
  /** The signup's session info, when the redirect carried it. */
  session: SessionInfo | null;
}

/** The session info of a callback's query (a malformed one is ignored: the ids are then discovered). */
export function sessionOfQuery(q: URLSearchParams): SessionInfo | null {
  const raw = q.get(SESSION_INFO_PARAM);
  if (!raw) return null;
  try {
    return parseSessionInfo(raw, SESSION_INFO_PARAM);
  } catch {
    return null;
  }
}

export interface CallbackServer {
  redirectUri: string;
  port: number;
  /** Resolves with the code once a callback with the right state arrives; rejects on a wrong state, an
   *  error answer from the dialog, the timeout, or the signal. */
  wait(options: { timeoutMs: number; clock: Clock; signal?: AbortSignal }): Promise<CallbackResult>;
  close(): Promise<void>;
}

function page(res: ServerResponse, status: number, title: string, text: string): void {
  const html = `<!doctype html><meta charset="utf-8"><title>wacx: ${title}</title>
<body style="font-family:system-ui,sans-serif;max-width:36em;margin:4em auto"><h1>${title}</h1><p>${text}</p></body>`;
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(html);
}

function sameState(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * A loopback HTTP server (127.0.0.1, ephemeral port unless `port`) receiving the OAuth redirect
 * `${redirectUri}?code=…&state=…` (or `?error=…&error_description=…`). Only the first callback counts.
 */
export async function startCallbackServer(options: {
  state: string;
  port?: number;
  host?: string;
}): Promise<CallbackServer> {
  const host = options.host ?? '127.0.0.1';
  let settle: { resolve: (r: CallbackResult) => void; reject: (e: Error) => void } | undefined;
  let outcome: { ok: CallbackResult } | { error: Error } | undefined;
  const finish = (o: { ok: CallbackResult } | { error: Error }) => {
    if (outcome) return;
    outcome = o;
    if (!settle) return;
    if ('ok' in o) settle.resolve(o.ok);
    else settle.reject(o.error);
  };

  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', `http://${host}`);
    if (req.method !== 'GET' || url.pathname !== CALLBACK_PATH) {
      page(res, 404, 'Not found', 'This is the wacx onboarding callback.');
      return;
    }
    if (outcome) {
      page(
        res,
        410,
        'Already handled',
        'This signup callback was already received. You can close this window.',
      );
      return;
    }
    const q = url.searchParams;
    const state = q.get('state') ?? '';
    if (!sameState(state, options.state)) {
      page(res, 400, 'Signup refused', 'The state does not match this wacx session. Nothing was exchanged.');
      finish({
        error: new WacxError(
          'The signup callback carried a wrong state: refused, nothing was exchanged (a stale browser tab, or a forged redirect).',
          { hint: 'Run `wacx onboard` again and open the new URL it shows.' },
        ),
      });
      return;
    }
    const error = q.get('error');
    if (error) {
      const why = q.get('error_description') ?? q.get('error_reason') ?? error;
      page(res, 200, 'Signup not completed', `Embedded Signup answered: ${why}. You can close this window.`);
      finish({
        error: new WacxError(`Embedded Signup did not complete: ${why} (${error}).`, {
          hint: 'Run `wacx onboard` again; in the flow choose "Connect your existing WhatsApp Business app".',
        }),
      });
      return;
    }
    const code = q.get('code');
    if (!code) {
      page(res, 400, 'Missing code', 'The callback carried no code.');
      finish({
        error: new WacxError('The signup callback carried no code.', { hint: 'Run `wacx onboard` again.' }),
      });
      return;
    }
    page(
      res,
      200,
      'Signup received',
      'wacx received the signup and is finishing the onboarding. You can close this window.',
    );
    finish({ ok: { code, state, session: sessionOfQuery(q) } });
  };

  const server: Server = createServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(
        e.code === 'EADDRINUSE'
          ? new UsageError(`Port ${options.port} is in use.`, { location: '--callback-port' })
          : e,
      ),
    );
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  let closed: Promise<void> | undefined;
  const close = () => {
    closed ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
    return closed;
  };

  return {
    redirectUri: `http://${host}:${port}${CALLBACK_PATH}`,
    port,
    close,
    wait({ timeoutMs, clock, signal }) {
      return new Promise<CallbackResult>((resolve, reject) => {
        const timer = new AbortController();
        const done = () => {
          timer.abort();
          signal?.removeEventListener('abort', onAbort);
        };
        const onAbort = () => {
          done();
          reject(new CancelledError('Cancelled while waiting for the signup.'));
        };
        settle = {
          resolve: (r) => {
            done();
            resolve(r);
          },
          reject: (e) => {
            done();
            reject(e);
          },
        };
        if (outcome) {
          if ('ok' in outcome) settle.resolve(outcome.ok);
          else settle.reject(outcome.error);
          return;
        }
        if (signal?.aborted) return onAbort();
        signal?.addEventListener('abort', onAbort, { once: true });
        clock.sleep(timeoutMs, timer.signal).then(
          () => {
            if (outcome) return;
            outcome = { error: new Error('timeout') };
            done();
            reject(
              new WacxError(`No signup callback within ${formatExactDuration(timeoutMs)}.`, {
                hint: 'Run `wacx onboard` again (it resumes), or raise --timeout.',
              }),
            );
          },
          () => undefined,
        );
      });
    },
  };
}
