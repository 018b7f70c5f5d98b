import { join } from 'node:path';
import type { StoreLocation } from '../../src/lib/store/location.js';
import { storeEnv } from './backends.js';
import { runCli } from './cli.js';
import { freePort } from './net.js';
import { freshPostgresUrl, type TestBackend } from './postgres.js';
import { startTestSandbox, type TestSandbox } from './sandbox.js';

export interface SandboxWithReceiver {
  sb: TestSandbox;
  /** The CLI environment: the sandbox, and the receiver's store (WACX_DB, or WACX_DATABASE_URL). */
  env: NodeJS.ProcessEnv;
  db: string;
  location: StoreLocation;
  stop: () => Promise<{ code: number; stdout: string; stderr: string }>;
}

/**
 * A sandbox that delivers its webhooks to `wacx webhooks serve` (the built CLI's run, real HTTP on loopback), whose
 * store is `wacx.db` in the sandbox's HOME, or a PostgreSQL database: `store` is a backend ('postgres': a new
 * database) or a PostgreSQL URL. `scenario` starts the sandbox in one of its scenarios.
 */
export async function sandboxWithReceiver(
  store?: TestBackend | string,
  options: { scenario?: string } = {},
): Promise<SandboxWithReceiver> {
  const postgresUrl = store === 'postgres' ? freshPostgresUrl() : store === 'sqlite' ? undefined : store;
  const port = await freePort();
  const sb = await startTestSandbox({
    webhookUrl: `http://127.0.0.1:${port}/webhook`,
    ...(options.scenario ? { scenario: options.scenario } : {}),
  });
  const db = join(sb.home, 'wacx.db');
  const location: StoreLocation = postgresUrl
    ? { backend: 'postgres', url: postgresUrl }
    : { backend: 'sqlite', path: db };
  const env = sb.env(storeEnv(location));
  const controller = new AbortController();
  const serving = runCli(
    ['webhooks', 'serve', '--port', String(port), '--verify-token', sb.seed.verifyToken],
    {
      env,
      signal: controller.signal,
    },
  );
  const deadline = Date.now() + 5000;
  for (;;) {
    const ok = await fetch(
      `http://127.0.0.1:${port}/webhook?hub.mode=subscribe&hub.verify_token=${sb.seed.verifyToken}&hub.challenge=ok`,
    ).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) throw new Error('webhooks serve did not start');
    await new Promise((r) => setTimeout(r, 25));
  }
  return {
    sb,
    env,
    db,
    location,
    stop: async () => {
      controller.abort();
      return serving;
    },
  };
}
