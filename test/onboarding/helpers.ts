import { request } from 'node:http';
import { PassThrough, Readable } from 'node:stream';
import type { DepsInit } from '../../src/cli/deps.js';
import { main } from '../../src/cli/main.js';
import type { TestSandbox } from '../helpers/sandbox.js';

export interface LiveCli {
  /** Resolves with the first stderr/stdout text matching `re` (the match), while the command keeps running. */
  waitFor(re: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  stdout(): string;
  stderr(): string;
  done: Promise<{ code: number; stdout: string; stderr: string }>;
}

/** Runs the real `main()` in-process and lets the test read its output while it runs (to "scan" the URL). */
export function startCli(
  args: string[],
  options: {
    env: NodeJS.ProcessEnv;
    signal?: AbortSignal;
    clock?: DepsInit['clock'];
    tty?: boolean;
    /** Terminal width (with tty). */
    columns?: number;
  },
): LiveCli {
  const stdout = new PassThrough() as PassThrough & { isTTY?: boolean; columns?: number };
  const stderr = new PassThrough() as PassThrough & { isTTY?: boolean; columns?: number };
  const stdin = Readable.from([]) as Readable & { isTTY?: boolean };
  if (options.tty) {
    stdout.isTTY = true;
    stderr.isTTY = true;
    stdin.isTTY = true;
    stdout.columns = options.columns ?? 80;
    stderr.columns = options.columns ?? 80;
  }
  let out = '';
  let err = '';
  const waiters: { re: RegExp; resolve: (m: RegExpMatchArray) => void }[] = [];
  const check = () => {
    for (const w of [...waiters]) {
      const m = err.match(w.re) ?? out.match(w.re);
      if (m) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(m);
      }
    }
  };
  stdout.on('data', (d: Buffer) => {
    out += d.toString('utf8');
    check();
  });
  stderr.on('data', (d: Buffer) => {
    err += d.toString('utf8');
    check();
  });
  const done = main(args, {
    env: options.env,
    streams: { stdin, stdout, stderr },
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
  }).then((code) => ({ code, stdout: out, stderr: err }));
  return {
    stdout: () => out,
    stderr: () => err,
    done,
    waitFor(re, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`timed out waiting for ${re}; stderr so far:\n${err}\nstdout:\n${out}`)),
          timeoutMs,
        );
        waiters.push({
          re,
          resolve: (m) => {
            clearTimeout(timer);
            resolve(m);
          },
        });
        check();
        void done.then(() => {
          check();
          if (waiters.some((w) => w.re === re)) {
            clearTimeout(timer);
            reject(new Error(`the command ended before ${re}; stderr:\n${err}\nstdout:\n${out}`));
          }
        });
      });
    },
  };
}

/** A plain HTTP GET that does not follow redirects. */
export function httpGet(url: string): Promise<{ status: number; location: string | null; body: string }> {
  return new Promise((resolve, reject) => {
    request(url, { agent: false }, (res) => {
      let body = '';
      res.on('data', (d) => {
        body += d;
      });
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          location: (res.headers.location as string | undefined) ?? null,
          body,
        }),
      );
    })
      .on('error', reject)
      .end();
  });
}

/** "Scanning the QR code": GET the signup URL (the sandbox completes the signup), then follow its redirect. */
export async function scan(url: string): Promise<{ callback: string; callbackStatus: number }> {
  const dialog = await httpGet(url);
  if (dialog.status !== 302 || !dialog.location)
    throw new Error(`dialog answered ${dialog.status}: ${dialog.body}`);
  const cb = await httpGet(dialog.location);
  return { callback: dialog.location, callbackStatus: cb.status };
}

/**
 * A signup in the sandbox's dialog (as a browser flow elsewhere would do), without a running wacx: the code
 * and the session info (the WA_EMBEDDED_SIGNUP event) the redirect carried.
 */
export async function signup(
  sb: TestSandbox,
  phoneNumberId?: string,
): Promise<{ code: string; session: string }> {
  const u = new URL(`${sb.url}/v25.0/dialog/oauth`);
  u.searchParams.set('client_id', sb.seed.app.id);
  u.searchParams.set('redirect_uri', 'https://example.com/cb');
  u.searchParams.set('config_id', sb.seed.configId);
  u.searchParams.set('response_type', 'code');
  u.searchParams.set('state', 'test');
  if (phoneNumberId) u.searchParams.set('sandbox_phone_number_id', phoneNumberId);
  const res = await httpGet(u.href);
  const q = res.location ? new URL(res.location).searchParams : null;
  const code = q?.get('code');
  const session = q?.get('session_info');
  if (!code || !session) throw new Error(`no code from the dialog: ${res.status} ${res.body}`);
  return { code, session };
}

/** Env of a user who has only the app's credentials (no token, no WABA / number yet) and a known database. */
export function freshUserEnv(sb: TestSandbox, db: string): NodeJS.ProcessEnv {
  const { WACX_TOKEN: _t, WACX_WABA_ID: _w, WACX_PHONE_NUMBER_ID: _p, ...env } = sb.env();
  return { ...env, WACX_DB: db };
}
