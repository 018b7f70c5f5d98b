import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/cli/registry.js';
import { fitColumns } from '../../src/lib/io/io.js';
import { tempHome } from '../helpers/cli.js';
import { run } from './support.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

describe('values are checked where they enter, and the message names the place', () => {
  const home = tempHome();
  afterAll(() => home.cleanup());

  it.each([
    [['templates', 'list', '--waba-id', 'abc'], '--waba-id: Invalid wabaId "abc"'],
    [['history', 'sync', '--phone-number-id', 'abc'], '--phone-number-id: Invalid phoneNumberId "abc"'],
    [
      [
        'eligibility',
        '+4915123456789',
        '--app-version',
        '2.25.1',
        '--active-since',
        '2026-01-01',
        '--phone-number-id',
        'abc',
      ],
      '--phone-number-id: Invalid phoneNumberId "abc"',
    ],
    [['doctor', '--api-version', 'v99.0'], '--api-version: Graph API v99.0 does not exist yet'],
  ])('wacx %j exits 2 before any request', async (args, message) => {
    const r = await run(args, {
      env: { ...home.env, WACX_TOKEN: 'EAAtoken', WACX_GRAPH_URL: 'http://127.0.0.1:9' },
    });
    expect(r.stderr).toContain(message);
    expect(r.code).toBe(2);
    expect(r.stderr).not.toMatch(/Eligible|ECONNREFUSED|network/i);
  });

  it('names the environment variable', async () => {
    const r = await run(['templates', 'list', '--sandbox'], {
      env: { ...home.env, WACX_API_VERSION: 'bogus' },
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('WACX_API_VERSION: Invalid API version "bogus"');
    const id = await run(['templates', 'list'], {
      env: { ...home.env, WACX_WABA_ID: '12ab', WACX_TOKEN: 't' },
    });
    expect(id.code).toBe(2);
    expect(id.stderr).toContain('WACX_WABA_ID: Invalid wabaId "12ab"');
  });

  it('a stored invalid value is an error naming the file, not silently unset; config list still shows it', async () => {
    const h = tempHome();
    try {
      expect((await run(['config', 'set', 'wabaId', '123'], { env: h.env })).code).toBe(0);
      const file = join(h.home, '.config', 'wacx', 'config.json');
      writeFileSync(file, readFileSync(file, 'utf8').replace('"123"', '"abc"'));
      const r = await run(['templates', 'list'], { env: { ...h.env, WACX_TOKEN: 't' } });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`${file} (profile "default", wabaId): Invalid wabaId "abc"`);
      const list = await run(['config', 'list'], { env: h.env });
      expect(list.code).toBe(0);
      expect(list.stdout).toContain('wabaId\tabc\tprofile');
    } finally {
      h.cleanup();
    }
  });

  it('config set refuses API versions that do not exist and Graph URLs that are not HTTP', async () => {
    const v = await run(['config', 'set', 'apiVersion', 'v99.0'], { env: home.env });
    expect(v.code).toBe(2);
    expect(v.stderr).toContain('Graph API v99.0 does not exist yet');
    const old = await run(['config', 'set', 'apiVersion', 'v12.0'], { env: home.env });
    expect(old.code).toBe(2);
    expect(old.stderr).toContain('has expired');
    const ok = await run(['config', 'set', 'apiVersion', '24'], { env: home.env });
    expect(ok.code).toBe(0);
    expect(ok.stderr).toContain('v24.0');
    const ftp = await run(['config', 'set', 'graphUrl', 'ftp://graph.example.com'], { env: home.env });
    expect(ftp.code).toBe(2);
    expect(ftp.stderr).toContain('ftp:// is not HTTP');
    expect(ftp.stderr).not.toContain('plain http');
  });

  it('an unknown or empty profile is an error, unless the command creates profiles', async () => {
    const typo = await run(['--profile', 'typo', 'templates', 'list'], { env: home.env });
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain('--profile: Profile "typo" does not exist.');
    const env = await run(['doctor'], { env: { ...home.env, WACX_PROFILE: 'typo' } });
    expect(env.code).toBe(2);
    expect(env.stderr).toContain('WACX_PROFILE: Profile "typo" does not exist.');
    const empty = await run(['--profile', '', 'config', 'list'], { env: home.env });
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain('--profile: Empty profile name.');
    const created = await run(['--profile', 'client2', 'config', 'set', 'wabaId', '42'], { env: home.env });
    expect(created.code).toBe(0);
    const nowKnown = await run(['--profile', 'client2', 'config', 'get', 'wabaId'], { env: home.env });
    expect(nowKnown).toMatchObject({ code: 0, stdout: '42\n' });
  });

  it('the webhook receiver and import create the profile they store into; it then exists for the others', async () => {
    const h = tempHome();
    try {
      const file = join(h.home, 'events.ndjson');
      writeFileSync(file, '');
      const ingest = await run(['--profile', 'receiver', 'webhooks', 'ingest', file], { env: h.env });
      expect(ingest.code, ingest.stderr).toBe(0);
      const status = await run(['--profile', 'receiver', 'history', 'status', '--json'], { env: h.env });
      expect(status.stderr).not.toContain('does not exist');
      expect(status.code).not.toBe(2);
    } finally {
      h.cleanup();
    }
  });

  it.each([
    [
      'WACX_CONFIG_DIR',
      { WACX_CONFIG_DIR: '/proc/wacx-config' },
      'Cannot create the configuration directory',
    ],
    ['WACX_CONFIG_DIR', { WACX_CONFIG_DIR: '/etc/passwd/wacx' }, 'a part of the path is not a directory'],
    [
      'WACX_SANDBOX_SCENARIO',
      { WACX_SANDBOX_SCENARIO: 'faults:error_rate=5' },
      'error_rate must be between 0 and 1',
    ],
  ])('a bad %s is a usage error naming it, at once', async (variable, extra, message) => {
    const args =
      variable === 'WACX_SANDBOX_SCENARIO' ? ['templates', 'list', '--sandbox'] : ['config', 'list'];
    const r = await run(args, { env: { ...home.env, ...extra } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${variable}: `);
    expect(r.stderr).toContain(message);
  });

  it.each([
    [['config', 'set', 'wabaId', '1']],
    [['config', 'unset', 'wabaId']],
    [['auth', 'logout']],
    [['auth', 'login', '--token', 'x']],
  ])('--sandbox is refused with %j, which changes a profile', async (args) => {
    const r = await run(['--sandbox', ...args], { env: home.env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--sandbox:');
    expect(r.stderr).not.toMatch(/^✓/m);
  });
});

describe('gh-like conveniences', () => {
  const home = tempHome();
  afterAll(() => home.cleanup());

  it('`wacx` alone and a noun alone print help on stdout and exit 0', async () => {
    const bare = await run([], { env: home.env });
    expect(bare.code).toBe(0);
    expect(bare.stdout).toContain('Usage: wacx [options] [command]');
    expect(bare.stderr).toBe('');
    const noun = await run(['templates'], { env: home.env });
    expect(noun.code).toBe(0);
    expect(noun.stdout).toContain('Usage: wacx templates');
    expect(noun.stderr).toBe('');
  });

  it('`wacx help CMD` prints exactly what `wacx CMD --help` prints, for every command', async () => {
    for (const spec of COMMANDS) {
      const viaHelp = await run(['help', ...spec.path], { env: home.env });
      const viaFlag = await run([...spec.path, '--help'], { env: home.env });
      expect(viaHelp.code, spec.path.join(' ')).toBe(0);
      expect(viaHelp.stdout, spec.path.join(' ')).toBe(viaFlag.stdout);
    }
    expect((await run(['help', 'send'], { env: home.env })).stdout).toContain('Exit codes:');
  });

  it('--json failures print a JSON error object on stdout, for usage and for runtime errors', async () => {
    const usage = await run(['templates', 'list', '--bogus', '--json'], { env: home.env });
    expect(usage.code).toBe(2);
    expect(JSON.parse(usage.stdout)).toEqual({
      error: {
        message: "unknown option '--bogus'",
        type: 'UsageError',
        exitCode: 2,
        location: null,
        hint: null,
        graph: null,
      },
    });
    const config = await run(['templates', 'list', '--json'], { env: home.env });
    expect(config.code).toBe(4);
    const e = JSON.parse(config.stdout).error;
    expect(e).toMatchObject({ type: 'ConfigError', exitCode: 4, location: null, graph: null });
    expect(e.message).toContain('No wabaId configured');
    expect(e.hint).toContain('--waba-id');
    // people still get the message on stderr
    expect(config.stderr).toContain('No wabaId configured');
  });

  it('--json failures from the API carry the Graph error', async () => {
    const r = await run(['templates', 'get', 'no_such_template', '--sandbox', '--json'], { env: home.env });
    expect(r.code).not.toBe(0);
    const e = JSON.parse(r.stdout).error;
    expect(Object.keys(e).sort()).toEqual(['exitCode', 'graph', 'hint', 'location', 'message', 'type']);
  });

  it('--jq filters the JSON output with jq itself, and implies --json', async () => {
    const r = await run(
      [
        'templates',
        'list',
        '--sandbox',
        '--jq',
        '[.[] | select(.category == "UTILITY") | .name] | sort | .[0]',
      ],
      {
        env: home.env,
      },
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('appointment_reminder\n');
    const lines = await run(['templates', 'list', '--sandbox', '--jq', '.[] | {name, status}'], {
      env: home.env,
    });
    expect(lines.code).toBe(0);
    const rows = lines.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(rows.length).toBeGreaterThan(2);
    expect(Object.keys(rows[0]).sort()).toEqual(['name', 'status']);
  });

  it('a --jq filter that does not compile is a usage error before anything runs', async () => {
    const r = await run(['templates', 'list', '--sandbox', '--jq', '.[] | '], { env: home.env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--jq: Invalid jq filter');
    expect(JSON.parse(r.stdout).error.location).toBe('--jq');
  });

  it("a --jq filter failing on the data exits 1 with jq's message", async () => {
    const r = await run(['templates', 'list', '--sandbox', '--jq', '.name'], { env: home.env });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/--jq: jq: error .*Cannot index array/);
  });

  it('tables fit the terminal with an ellipsis, and stay whole when piped', async () => {
    const narrow = await run(['templates', 'list', '--sandbox'], { env: home.env, tty: true, columns: 50 });
    expect(narrow.code).toBe(0);
    const lines = narrow.stdout.trimEnd().split('\n');
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(50);
    expect(narrow.stdout).toContain('…');
    const piped = await run(['templates', 'list', '--sandbox'], { env: home.env });
    expect(piped.stdout).not.toContain('…');
    expect(piped.stdout).toContain('appointment_reminder\t');
  });

  it('fitColumns shrinks the widest column first and never below a readable minimum', () => {
    expect(fitColumns([10, 40, 5], 80)).toEqual([10, 40, 5]);
    expect(fitColumns([10, 40, 5], 40)).toEqual([10, 21, 5]);
    expect(fitColumns([30, 30], 40)).toEqual([19, 19]);
    expect(fitColumns([10, 10, 10], 5)).toEqual([6, 6, 6]);
    expect(fitColumns([10, 40], undefined)).toEqual([10, 40]);
  });
});

describe('shell completion', () => {
  const home = tempHome();
  afterAll(() => home.cleanup());

  it.each(['bash', 'zsh', 'fish'])(
    '`wacx completion %s` prints a script that calls back `wacx complete`',
    async (shell) => {
      const r = await run(['completion', shell], { env: home.env });
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('wacx complete --');
    },
  );

  it('an unknown shell is a usage error', async () => {
    const r = await run(['completion', 'tcsh'], { env: home.env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Unknown shell "tcsh"');
  });

  it("completes nouns, verbs, a verb's own flags and profile names", async () => {
    const nouns = await run(['complete', '--', 'te'], { env: home.env });
    expect(nouns.stdout).toMatch(/^templates\t/m);
    const verbs = await run(['complete', '--', 'templates', 'p'], { env: home.env });
    expect(verbs.stdout.split('\n').map((l) => l.split('\t')[0])).toEqual(
      expect.arrayContaining(['plan', 'pull', 'push']),
    );
    const flags = await run(['complete', '--', 'send', '--ra'], { env: home.env });
    expect(flags.stdout).toMatch(/^--rate\t/m);
    expect((await run(['config', 'set', 'wabaId', '1', '--profile', 'agency'], { env: home.env })).code).toBe(
      0,
    );
    const profiles = await run(['complete', '--', 'doctor', '--profile', ''], { env: home.env });
    expect(profiles.stdout).toMatch(/^agency\t/m);
  });
});

describe('temporary sandboxes', () => {
  let tmp: string;
  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), 'wacx-tmp-'));
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('are removed even when stdout closes early (`wacx … --sandbox | head -1`)', async () => {
    const home = tempHome();
    try {
      for (let i = 0; i < 2; i++) {
        const code = await new Promise<number | null>((resolve) => {
          const child = spawn(
            process.execPath,
            [join(root, 'bin', 'wacx.js'), 'templates', 'list', '--sandbox'],
            {
              env: { ...home.env, TMPDIR: tmp },
              stdio: ['ignore', 'pipe', 'ignore'],
            },
          );
          // read one chunk, then close the pipe as `head -1` does
          child.stdout.once('data', () => child.stdout.destroy());
          child.on('exit', resolve);
        });
        expect(code).not.toBeNull();
      }
      expect(readdirSync(tmp).filter((n) => n.startsWith('wacx-sandbox-'))).toEqual([]);
    } finally {
      home.cleanup();
    }
  });
});
