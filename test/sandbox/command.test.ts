/** `wacx sandbox` and the in-process sandbox behind `--sandbox`. */
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { Deps } from '../../src/cli/deps.js';
import { run } from '../../src/commands/sandbox.js';
import { startInProcessSandbox } from '../../src/sandbox/in-process.js';
import { SEED } from '../../src/sandbox/seed.js';
import { runCli, tempHome } from '../helpers/cli.js';
import { freePort } from '../helpers/net.js';
import { graph, waitFor } from './util.js';

async function up(url: string): Promise<boolean> {
  try {
    return (await fetch(`${url}/__sandbox/health`)).ok;
  } catch {
    return false;
  }
}

describe('wacx sandbox', () => {
  it('prints the seeded world as JSON, serves until the signal, then stops', async () => {
    const home = tempHome();
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const ac = new AbortController();
    const done = runCli(['sandbox', '--port', String(port), '--json', '--quiet', '--review-delay', '10'], {
      env: home.env,
      signal: ac.signal,
    });
    await waitFor(() => up(url), 10_000);
    const waba = await graph(url).get(SEED.waba.id);
    expect(waba.body).toEqual({ id: SEED.waba.id, name: SEED.waba.name });
    ac.abort();
    const res = await done;
    home.cleanup();
    const world = JSON.parse(res.stdout);
    expect(world).toMatchObject({
      url,
      control_url: `${url}/__sandbox`,
      app: { id: SEED.app.id, secret: SEED.app.secret },
      business_id: SEED.businessId,
      waba: { id: SEED.waba.id },
      token: SEED.token,
      config_id: SEED.configId,
      verify_token: SEED.verifyToken,
      phone_numbers: {
        coexistence: { id: SEED.phoneNumbers.coex.id, mps: 20 },
        cloud_api: { id: SEED.phoneNumbers.cloud.id, mps: 80 },
      },
      env: { WACX_GRAPH_URL: url, WACX_TOKEN: SEED.token, WACX_PHONE_NUMBER_ID: SEED.phoneNumbers.coex.id },
    });
    expect(world.config_commands).toContain(`wacx config set graphUrl ${url} --profile sandbox`);
    expect(res.stderr).toContain('Sandbox stopped.');
    expect(await up(url)).toBe(false);
  });

  it('prints the world for people, logs requests on stderr, and run() returns 0 when stopped', async () => {
    const home = tempHome();
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    stdout.on('data', (d: Buffer) => out.push(d));
    stderr.on('data', (d: Buffer) => err.push(d));
    const ac = new AbortController();
    const deps = new Deps({
      env: home.env,
      streams: { stdin: Readable.from([]), stdout, stderr },
      signal: ac.signal,
    });
    const code = run({ port: String(port) }, deps);
    await waitFor(() => up(url), 10_000);
    await graph(url).get(`${SEED.phoneNumbers.coex.id}?fields=is_on_biz_app`);
    ac.abort();
    expect(await code).toBe(0);
    home.cleanup();
    const text = Buffer.concat(out).toString();
    expect(text).toMatch(new RegExp(`Graph URL\\s+${url}`));
    expect(text).toContain(`export WACX_TOKEN=${SEED.token}`);
    expect(text).toContain('Coexistence number  5000000000000001');
    const log = Buffer.concat(err).toString();
    expect(log).toContain(`Sandbox running at ${url}`);
    expect(log).toMatch(/GET \/v25\.0\/5000000000000001\?fields=is_on_biz_app -> 200/);
  });

  it.each([
    [['--port', 'abc'], /--port/],
    [['--port', '70000'], /--port/],
    [['--review-delay', '-1'], /--review-delay/],
    [['--scenario', 'bogus'], /Unknown scenario "bogus"/],
    [['--webhook-url', 'ftp://x'], /--webhook-url/],
    [['--app-secret', 'short'], /--app-secret/],
    [
      ['--port', '0', '--scenario', 'faults:error_rate=5'],
      /--scenario: error_rate must be between 0 and 1, got 5 \(in "faults:error_rate=5"\)\./,
    ],
    [
      ['--port', '0', '--scenario', 'faults:latency_ms=soon'],
      /--scenario: latency_ms must be a number, got "soon"/,
    ],
    [
      ['--port', '0', '--host', '192.0.2.1'],
      /--host: Cannot listen on "192.0.2.1": not an address of this machine\./,
    ],
  ])('refuses %j with a usage error (exit 2)', async (args, message) => {
    const home = tempHome();
    const res = await runCli(['sandbox', ...args], { env: home.env });
    home.cleanup();
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(message);
    expect(res.stdout).toBe('');
  });
});

describe('wacx sandbox on a port already in use', () => {
  it('is a usage error naming --port (exit 2), and says how to pick another', async () => {
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', () => r()));
    const port = (busy.address() as { port: number }).port;
    const home = tempHome();
    try {
      const res = await runCli(['sandbox', '--port', String(port), '--quiet'], { env: home.env });
      expect(res.code).toBe(2);
      expect(res.stderr).toContain(`--port: Port ${port} on 127.0.0.1 is already in use.`);
      expect(res.stderr).toContain('--port 0 for any free port');
      expect(res.stdout).toBe('');
    } finally {
      home.cleanup();
      await new Promise<void>((r) => busy.close(() => r()));
    }
  });
});

describe('in-process sandbox (--sandbox)', () => {
  it('starts on an ephemeral loopback port with the seeded profile, already onboarded, and cleans up', async () => {
    const sb = await startInProcessSandbox({ env: {} });
    expect(sb.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(sb.settings).toEqual({
      graphUrl: sb.url,
      appId: SEED.app.id,
      wabaId: SEED.waba.id,
      phoneNumberId: SEED.phoneNumbers.coex.id,
      configId: SEED.configId,
      businessId: SEED.businessId,
    });
    expect(sb.secrets).toEqual({
      token: SEED.token,
      appSecret: SEED.app.secret,
      verifyToken: SEED.verifyToken,
    });
    expect(existsSync(sb.configDir)).toBe(true);
    const hooks = (await (await fetch(`${sb.url}/__sandbox/webhooks`)).json()) as {
      field: string;
      state: string;
    }[];
    expect(hooks.map((h: { field: string }) => h.field)).toContain('history');
    expect(hooks.every((h: { state: string }) => h.state === 'delivered')).toBe(true);
    await sb.close();
    expect(existsSync(sb.configDir)).toBe(false);
    expect(await up(sb.url)).toBe(false);
  });

  it('delivers the seeded activity to a webhookSink and honours WACX_SANDBOX_SCENARIO', async () => {
    const raws: string[] = [];
    const sb = await startInProcessSandbox({
      env: { WACX_SANDBOX_SCENARIO: 'history_declined' },
      webhookSink: async (raw) => {
        raws.push(raw);
        return 200;
      },
    });
    try {
      const history = raws.map((r) => JSON.parse(r).entry[0].changes[0]).filter((c) => c.field === 'history');
      expect(history).toHaveLength(1);
      expect(history[0].value.history[0].errors[0].code).toBe(2593109);
    } finally {
      await sb.close();
    }
  });

  it('powers the global --sandbox option', async () => {
    const home = tempHome();
    const res = await runCli(['config', 'list', '--sandbox', '--json'], { env: home.env });
    home.cleanup();
    expect(res.code).toBe(0);
    const settings = Object.fromEntries(
      (JSON.parse(res.stdout).settings as { key: string; value: string }[]).map((s) => [s.key, s.value]),
    );
    expect(settings.graphUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(settings.phoneNumberId).toBe(SEED.phoneNumbers.coex.id);
    expect(settings.wabaId).toBe(SEED.waba.id);
  });
});
