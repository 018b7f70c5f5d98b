import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { BACKENDS, freshPostgresUrl } from '../helpers/postgres.js';
import { sandboxWithReceiver } from '../helpers/receiver.js';
import type { TestSandbox } from '../helpers/sandbox.js';

describe.each(BACKENDS)('end-to-end: sandbox → webhooks serve → history status (%s)', (backend) => {
  const setup = () => sandboxWithReceiver(backend === 'postgres' ? freshPostgresUrl() : undefined);
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
