import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { freePort } from '../helpers/net.js';
import { startTestSandbox, type TestSandbox } from '../helpers/sandbox.js';

/** The sandbox delivers to `wacx webhooks serve` (in-process, real HTTP on loopback). */
async function setup(): Promise<{
  sb: TestSandbox;
  env: NodeJS.ProcessEnv;
  stop: () => Promise<{ code: number; stdout: string; stderr: string }>;
}> {
  const port = await freePort();
  const sb = await startTestSandbox({ webhookUrl: `http://127.0.0.1:${port}/webhook` });
  const env = sb.env({ WACX_DB: join(sb.home, 'wacx.db') });
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
    stop: async () => {
      controller.abort();
      return serving;
    },
  };
}

describe('end-to-end: sandbox → webhooks serve → history status', () => {
  let sb: TestSandbox | undefined;
  afterEach(async () => {
    await sb?.close();
    sb = undefined;
  });

  it('history sync, then the history arrives; status reaches 100 and exits 0', async () => {
    const s = await setup();
    sb = s.sb;
    const before = await runCli(['history', 'status'], { env: s.env });
    expect(before.code).toBe(1); // nothing requested yet

    const sync = await runCli(['history', 'sync'], { env: s.env });
    expect(sync.stderr).toMatch(/Contact sync requested[\s\S]*History sync requested/);
    expect(sync.code).toBe(0);

    // follow it live while the sandbox delivers the chunks (out of order, progress 100 last)
    const watching = runCli(['history', 'status', '--watch', '--interval', '0.05'], { env: s.env });
    await s.sb.flush();
    const watched = await watching;
    expect(watched.code).toBe(0);
    expect(watched.stdout.trim().split('\n').at(-1)).toMatch(/history complete 100%/);

    const status = await runCli(['history', 'status', '--json'], { env: s.env });
    expect(status.code).toBe(0);
    const j = JSON.parse(status.stdout);
    expect(j.history).toMatchObject({ state: 'complete', progress: 100, done: true, missing_chunks: [] });
    expect(j.history.request_id).toEqual(expect.any(String));
    expect(j.history.chunks).toBeGreaterThan(1);
    expect(j.history.messages).toBeGreaterThan(0);
    expect(j.contacts.added).toBeGreaterThan(0);
    expect(j.window_left_seconds).toBeGreaterThan(0);

    // a second request is refused locally, without spending a call
    const again = await runCli(['history', 'sync', '--history'], { env: s.env });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('2593107');

    const served = await s.stop();
    expect(served.code).toBe(0);
    expect(served.stderr).toMatch(/history phase \d chunk \d+ progress 100%/);
    expect(served.stderr).toMatch(/contact add/);
  });

  it('declined history (2593109): status explains it and exits 1', async () => {
    const s = await setup();
    sb = s.sb;
    await s.sb.control('scenario', { name: 'history_declined' });
    expect((await runCli(['history', 'sync', '--history'], { env: s.env })).code).toBe(0);
    await s.sb.flush();
    const status = await runCli(['history', 'status'], { env: s.env });
    expect(status.code).toBe(1);
    expect(status.stdout).toMatch(/state\s+declined/);
    expect(status.stdout).toContain('2593109');
    expect(status.stdout).toContain('past messages will not be imported');
    await s.stop();
  });
});
