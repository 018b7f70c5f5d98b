/**
 * A sandbox for tests: `startTestSandbox()` starts `startSandbox()` on an ephemeral loopback port with fast
 * asynchronous pacing, plus a temporary HOME, and gives the CLI environment pointing at it.
 */

import { SEED } from '../../src/sandbox/seed.js';
import { type SandboxOptions, startSandbox } from '../../src/sandbox/server.js';
import { tempHome } from './cli.js';

export interface TestSandbox {
  url: string;
  seed: typeof SEED;
  /** tempHome env + WACX_GRAPH_URL, WACX_TOKEN, WACX_APP_ID, WACX_APP_SECRET, WACX_WABA_ID, WACX_PHONE_NUMBER_ID (coex), WACX_CONFIG_ID, WACX_BUSINESS_ID. */
  env(extra?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
  home: string;
  /** GET `/__sandbox/${path}` without a body, POST with one; returns the parsed JSON answer (throws on non-2xx). */
  // biome-ignore lint/suspicious/noExplicitAny: control answers are ad-hoc JSON read by tests
  control<T = any>(path: string, body?: unknown): Promise<T>;
  /** Runs pending asynchronous work (reviews, statuses, syncs, retries) to completion. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

export async function startTestSandbox(opts: SandboxOptions = {}): Promise<TestSandbox> {
  const sandbox = await startSandbox({
    reviewDelayMs: 50,
    statusDelayMs: 20,
    historyDelayMs: 10,
    quiet: true,
    ...opts,
  });
  const home = tempHome();
  const appSecret = opts.appSecret ?? SEED.app.secret;
  return {
    url: sandbox.url,
    seed: SEED,
    home: home.home,
    env: (extra = {}) => ({
      ...home.env,
      WACX_GRAPH_URL: sandbox.url,
      WACX_TOKEN: SEED.token,
      WACX_APP_ID: SEED.app.id,
      WACX_APP_SECRET: appSecret,
      WACX_WABA_ID: SEED.waba.id,
      WACX_PHONE_NUMBER_ID: SEED.phoneNumbers.coex.id,
      WACX_CONFIG_ID: SEED.configId,
      WACX_BUSINESS_ID: SEED.businessId,
      ...extra,
    }),
    control: async (path, body) => {
      const url = `${sandbox.url}/__sandbox/${path.replace(/^\/+/, '').replace(/^__sandbox\//, '')}`;
      const res = await fetch(url, {
        method: body === undefined ? 'GET' : 'POST',
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      if (!res.ok) throw new Error(`sandbox control ${path} -> HTTP ${res.status}: ${text}`);
      return text ? JSON.parse(text) : null;
    },
    flush: () => sandbox.flush(),
    close: async () => {
      await sandbox.close();
      home.cleanup();
    },
  };
}
