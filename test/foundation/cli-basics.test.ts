import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, tempHome } from '../helpers/cli.js';
import { run, startServer } from './support.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const VERSION = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;

describe('cli basics', () => {
  const home = tempHome();
  afterAll(() => home.cleanup());

  it('prints help and exits 0', async () => {
    const r = await runCli(['--help'], { env: home.env });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: wacx');
    expect(r.stdout).toContain('templates');
    expect(r.stderr).toBe('');
  });

  it('help text (snapshot)', async () => {
    const top = await runCli(['--help'], { env: home.env });
    expect(top.stdout).toMatchSnapshot('wacx --help');
    for (const args of [
      ['auth', 'login', '--help'],
      ['auth', 'status', '--help'],
      ['auth', 'logout', '--help'],
      ['config', 'get', '--help'],
      ['config', 'set', '--help'],
    ]) {
      const r = await runCli(args, { env: home.env });
      expect(r.code).toBe(0);
      expect(r.stdout).toMatchSnapshot(`wacx ${args.join(' ')}`);
    }
  });

  it('lists the global options', async () => {
    const r = await runCli(['--help'], { env: home.env });
    for (const o of [
      '--profile <name>',
      '--json',
      '--no-color',
      '--no-input',
      '--verbose',
      '--api-version <vNN.0>',
      '--version',
    ]) {
      expect(r.stdout).toContain(o);
    }
  });

  it('prints the version', async () => {
    const r = await runCli(['--version'], { env: home.env });
    expect(r).toEqual({ code: 0, stdout: `${VERSION}\n`, stderr: '' });
  });

  it('exits 2 with the usage line on an unknown option', async () => {
    const r = await runCli(['--bogus'], { env: home.env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown option '--bogus'");
    expect(r.stderr).toContain('Usage: wacx');
    expect(r.stdout).toBe('');
  });

  it.each([
    [['config', 'set'], "missing required argument 'key'", 'Usage: wacx config set [options] <key> <value>'],
    [
      ['config', 'set', 'wabaId'],
      "missing required argument 'value'",
      'Usage: wacx config set [options] <key> <value>',
    ],
    [['config', 'get', 'a', 'b'], 'too many arguments', 'Usage: wacx config get [options] <key>'],
    [['auth', 'logout', '--nope'], "unknown option '--nope'", 'Usage: wacx auth logout [options]'],
    [['auth', 'login', '--token'], 'argument missing', 'Usage: wacx auth login [options]'],
    [
      ['config', 'set', 'apiVersion', 'v2'],
      'Invalid API version "v2"',
      'Usage: wacx config set [options] <key> <value>',
    ],
    [
      ['--api-version', 'latest', 'config', 'list'],
      'Invalid API version',
      'Usage: wacx config list [options]',
    ],
    [['nonsense'], "unknown command 'nonsense'", 'Usage: wacx [options] [command]'],
  ])('usage error: wacx %j exits 2 and prints the usage line', async (args, message, usage) => {
    const r = await runCli(args, { env: home.env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
    expect(r.stderr).toContain(usage);
    expect(r.stdout).toBe('');
  });

  it('prints the exit-code table', async () => {
    const r = await runCli(['help', 'exit-codes'], { env: home.env });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^130\tcancelled/m);
    const json = await runCli(['help', 'exit-codes', '--json'], { env: home.env });
    expect(JSON.parse(json.stdout).map((x: { code: number }) => x.code)).toEqual([0, 1, 2, 3, 4, 8, 130]);
  });

  it('`wacx help <command>` shows that command', async () => {
    const r = await runCli(['help', 'config', 'set'], { env: home.env });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: wacx config set [options] <key> <value>');
  });
});

describe('output rules', () => {
  const home = tempHome();
  afterAll(() => home.cleanup());

  it('--json puts only JSON on stdout; messages for people go to stderr', async () => {
    const r = await runCli(['config', 'set', 'wabaId', '5', '--json'], { env: home.env });
    expect(r.code).toBe(0);
    expect(() => JSON.parse(r.stdout)).not.toThrow();
    const list = await runCli(['config', 'list', '--json'], { env: home.env });
    const doc = JSON.parse(list.stdout);
    // keys always present, null rather than omitted
    for (const row of doc.settings)
      expect(Object.keys(row).sort()).toEqual(['key', 'secret', 'source', 'value']);
    expect(doc.settings.find((x: { key: string }) => x.key === 'configId').value).toBeNull();
  });

  it('tables are tab-separated when piped and aligned on a terminal', async () => {
    const piped = await run(['config', 'list'], { env: home.env });
    expect(piped.stdout).toContain('wabaId\t5\tprofile');
    const tty = await run(['config', 'list'], { env: home.env, tty: true });
    expect(tty.stdout).toMatch(/^KEY\s{2,}VALUE\s{2,}SOURCE/m);
    expect(tty.stdout).not.toContain('\t');
  });

  it('colour only on a TTY, never with NO_COLOR, --no-color or CLICOLOR=0', async () => {
    const env = { ...home.env, NO_COLOR: undefined, CI: undefined };
    const hasAnsi = (s: string) => s.includes('\u001b[');
    const args = ['config', 'set', 'wabaId', 'bad'];
    expect(hasAnsi((await run(args, { env, tty: true })).stderr)).toBe(true);
    expect(hasAnsi((await run(args, { env })).stderr)).toBe(false);
    expect(hasAnsi((await run(args, { env: { ...env, NO_COLOR: '1' }, tty: true })).stderr)).toBe(false);
    expect(hasAnsi((await run(['--no-color', ...args], { env, tty: true })).stderr)).toBe(false);
    expect(hasAnsi((await run(args, { env: { ...env, CLICOLOR: '0' }, tty: true })).stderr)).toBe(false);
  });

  it('no spinner frames when CI is set or stderr is not a terminal: plain lines', async () => {
    const server = await startServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"id":"333","name":"W"}');
    });
    try {
      const env = { ...home.env, WACX_GRAPH_URL: server.url };
      for (const r of [
        await run(['auth', 'login', '--token', 'EAAX0123456789abcdef', '--waba-id', '333'], {
          env,
          tty: true,
        }),
        await run(['auth', 'login', '--token', 'EAAX0123456789abcdef', '--waba-id', '333'], {
          env: { ...env, CI: '' },
        }),
      ]) {
        expect(r.code).toBe(0);
        expect(r.stderr).not.toMatch(/[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]/);
        expect(r.stderr).toContain('Token accepted');
      }
    } finally {
      await server.close();
    }
  });
});

describe('Ctrl+C', () => {
  const home = tempHome();
  afterAll(() => home.cleanup());

  it('an interrupted command exits 130 (in-process: deps.signal aborts the request)', async () => {
    const server = await startServer(() => {
      // never answers
    });
    try {
      const controller = new AbortController();
      const pending = run(['auth', 'status'], {
        env: { ...home.env, WACX_TOKEN: 'EAAHANG0123456789abcd', WACX_GRAPH_URL: server.url },
        signal: controller.signal,
      });
      while (server.requests.length === 0) await new Promise((r) => setTimeout(r, 5));
      controller.abort(Object.assign(new Error('Interrupted by SIGINT'), { name: 'AbortError' }));
      const r = await pending;
      expect(r.code).toBe(130);
      expect(r.stderr).toContain('Cancelled.');
    } finally {
      await server.close();
    }
  });

  it('SIGINT to the real process (bin/wacx.js) exits 130', async () => {
    const server = await startServer(() => {
      // never answers
    });
    try {
      const child = spawn(process.execPath, [join(root, 'bin', 'wacx.js'), 'auth', 'status'], {
        env: { ...home.env, WACX_TOKEN: 'EAAHANG0123456789abcd', WACX_GRAPH_URL: server.url },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
      });
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      const deadline = Date.now() + 15_000;
      while (server.requests.length === 0 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 20));
      expect(server.requests.length).toBe(1);
      child.kill('SIGINT');
      expect(await exited).toBe(130);
      expect(stderr).toContain('Cancelled.');
    } finally {
      await server.close();
    }
  });
});
