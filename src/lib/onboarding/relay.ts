import { randomBytes } from 'node:crypto';
import type { Clock } from '../clock.js';
import { CancelledError, WacxError } from '../errors.js';
import type { Db } from '../store/store.js';
import { type SessionInfo, sessionDetail, sessionFromDetail } from './session.js';
import { sessionOfQuery } from './signup.js';

/**
 * The signup for a phone: the redirect goes to the public webhook receiver (`wacx webhooks serve`), whose
 * `/onboard/callback` route records the code in this profile's store for the `wacx onboard` waiting on it.
 * `/onboard/start?s=…` redirects to the full signup URL, so the QR code holds a short link and stays small.
 * Only a state a waiting `wacx onboard` registered is accepted; the code is deleted once taken (it lives 30 s,
 * works once, and needs the app secret).
 */
export const RELAY_CALLBACK_PATH = '/onboard/callback';
export const RELAY_START_PATH = '/onboard/start';

export interface RelayPage {
  status: number;
  title: string;
  text: string;
  /** For /onboard/start: where to send the browser. */
  location?: string;
  /** Whether the request recorded something (for the receiver's log). */
  recorded: boolean;
}

interface Row {
  state: string;
  signup_url: string;
  expires_at: number;
  code: string | null;
  session_info: string | null;
  error: string | null;
}

/** Registers a waiting signup; returns the id of its short start link. */
export function openRelay(
  db: Db,
  p: { state: string; signupUrl: string; now: number; ttlMs: number },
): string {
  const startId = randomBytes(12).toString('base64url');
  db.prepare('DELETE FROM onboarding_callbacks WHERE expires_at < ?').run(p.now);
  db.prepare(
    `INSERT INTO onboarding_callbacks (state, start_id, signup_url, created_at, expires_at)
     VALUES (?, ?, ?, ?, ?)`,
  ).run(p.state, startId, p.signupUrl, p.now, p.now + p.ttlMs);
  return startId;
}

/** The short link's URL on the receiver that serves `callbackUrl`. */
export function startUrlOf(callbackUrl: string, startId: string): string {
  const u = new URL(callbackUrl);
  u.pathname = u.pathname.endsWith(RELAY_CALLBACK_PATH)
    ? `${u.pathname.slice(0, -RELAY_CALLBACK_PATH.length)}${RELAY_START_PATH}`
    : RELAY_START_PATH;
  u.search = '';
  u.searchParams.set('s', startId);
  return u.href;
}

const expired: RelayPage = {
  status: 410,
  title: 'Link expired',
  text: 'No wacx onboarding is waiting for this signup any more. Run `wacx onboard` again and scan the new code.',
  recorded: false,
};

/** `GET /onboard/start?s=…`: the redirect to the full signup URL of a waiting onboarding. */
export function relayStart(db: Db, query: URLSearchParams, now: number): RelayPage {
  const row = db
    .prepare('SELECT signup_url, expires_at FROM onboarding_callbacks WHERE start_id = ?')
    .get(query.get('s') ?? '') as Pick<Row, 'signup_url' | 'expires_at'> | undefined;
  if (!row || row.expires_at < now) return expired;
  return {
    status: 302,
    title: 'Signup',
    text: 'Continue to the signup.',
    location: row.signup_url,
    recorded: false,
  };
}

/** `GET /onboard/callback?code&state[&session_info]` (or `?error…&state`): recorded for the waiting terminal. */
export function relayCallback(db: Db, query: URLSearchParams, now: number): RelayPage {
  const state = query.get('state') ?? '';
  const row = db.prepare('SELECT * FROM onboarding_callbacks WHERE state = ?').get(state) as Row | undefined;
  if (!row || row.expires_at < now) {
    return {
      status: 400,
      title: 'Signup not recognised',
      text: 'No wacx onboarding is waiting for this signup (unknown or expired state). Nothing was recorded.',
      recorded: false,
    };
  }
  if (row.code !== null || row.error !== null) {
    return {
      status: 410,
      title: 'Already handled',
      text: 'This signup was already received.',
      recorded: false,
    };
  }
  const error = query.get('error');
  const code = query.get('code');
  if (error || !code) {
    const why = query.get('error_description') ?? query.get('error_reason') ?? error ?? 'no code';
    db.prepare('UPDATE onboarding_callbacks SET error = ?, received_at = ? WHERE state = ?').run(
      why,
      now,
      state,
    );
    return {
      status: error ? 200 : 400,
      title: 'Signup not completed',
      text: `Embedded Signup answered: ${why}. Run \`wacx onboard\` again.`,
      recorded: true,
    };
  }
  const session = sessionDetail(sessionOfQuery(query));
  db.prepare(
    'UPDATE onboarding_callbacks SET code = ?, session_info = ?, received_at = ? WHERE state = ?',
  ).run(code, session ? JSON.stringify(session) : null, now, state);
  return {
    status: 200,
    title: 'Signup received',
    text: 'wacx received the signup and is finishing the onboarding in the terminal. You can close this window.',
    recorded: true,
  };
}

export interface RelayedCallback {
  redirectUri: string;
  /** The short link to show (as a QR code): it redirects to the signup URL. */
  startUrl: string;
  wait(options: { timeoutMs: number; clock: Clock; signal?: AbortSignal }): Promise<{
    code: string;
    session: SessionInfo | null;
  }>;
  close(): Promise<void>;
}

export const RELAY_POLL_MS = 500;

/** Waits in the store for the callback the receiver records for `state`. */
export function relayedCallback(p: {
  db: Db;
  state: string;
  callbackUrl: string;
  signupUrl: string;
  now: number;
  ttlMs: number;
}): RelayedCallback {
  const startId = openRelay(p.db, { state: p.state, signupUrl: p.signupUrl, now: p.now, ttlMs: p.ttlMs });
  const read = () =>
    p.db.prepare('SELECT * FROM onboarding_callbacks WHERE state = ?').get(p.state) as Row | undefined;
  return {
    redirectUri: p.callbackUrl,
    startUrl: startUrlOf(p.callbackUrl, startId),
    async wait({ timeoutMs, clock, signal }) {
      const deadline = clock.now() + timeoutMs;
      for (;;) {
        const row = read();
        if (row?.error) {
          throw new WacxError(`Embedded Signup did not complete: ${row.error}.`, {
            hint: 'Run `wacx onboard` again; in the flow choose "Connect your existing WhatsApp Business app".',
          });
        }
        if (row?.code) {
          // taken: the code is not kept in the store
          p.db
            .prepare('UPDATE onboarding_callbacks SET code = NULL, error = ? WHERE state = ?')
            .run('taken', p.state);
          return {
            code: row.code,
            session: sessionFromDetail(row.session_info ? JSON.parse(row.session_info) : null),
          };
        }
        const left = deadline - clock.now();
        if (left <= 0) {
          throw new WacxError(
            `No signup callback reached the receiver within ${Math.round(timeoutMs / 1000)} s.`,
            {
              hint: 'Check that `wacx webhooks serve` runs with this profile behind --callback-url, then run `wacx onboard` again (it resumes), or raise --timeout.',
            },
          );
        }
        try {
          await clock.sleep(Math.min(RELAY_POLL_MS, left), signal);
        } catch (error) {
          if (signal?.aborted) throw new CancelledError('Cancelled while waiting for the signup.');
          throw error;
        }
      }
    },
    async close() {
      p.db.prepare('DELETE FROM onboarding_callbacks WHERE state = ?').run(p.state);
    },
  };
}
