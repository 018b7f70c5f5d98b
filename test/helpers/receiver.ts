import { join } from 'node:path';
import { runCli } from './cli.js';
import { freePort } from './net.js';
import { startTestSandbox, type TestSandbox } from './sandbox.js';

export interface SandboxWithReceiver {
  sb: TestSandbox;
  /** The CLI environment: the sandbox, and WACX_DB = the receiver's store. */
  env: NodeJS.ProcessEnv;
  db: string;
  stop: () => Promise<{ code: number; stdout: string; stderr: string }>;
}

/** A sandbox that delivers its webhooks to `wacx webhooks serve` (the built CLI's run, real HTTP on loopback). */
export async function sandboxWithReceiver(): Promise<SandboxWithReceiver> {
  const port = await freePort();
  const sb = await startTestSandbox({ webhookUrl: `http://127.0.0.1:${port}/webhook` });
  const db = join(sb.home, 'wacx.db');
  const env = sb.env({ WACX_DB: db });
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
    stop: async () => {
      controller.abort();
      return serving;
    },
  };
}
