import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/lib/clock.js';
import {
  type KeychainSystem,
  type KeyringModule,
  openKeychain,
  probeKeychain,
} from '../../src/lib/config/secrets.js';
import type { Prompter } from '../../src/lib/io/prompter.js';
import { tempHome } from '../helpers/cli.js';
import { FakeKeychain, graphError, json, run, startServer, type TestServer } from './support.js';

const VERSION = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;
const GOOD = 'EAAGOODTOKEN0123456789abcdef';
const APP_SECRET = 'app-secret-0123456789';

/** A fake Graph API: accepts GOOD, rejects anything else with 190; debug_token reports on the input token. */
async function fakeGraph(): Promise<TestServer> {
  return startServer((req, res) => {
    const bearer = (req.headers.authorization ?? '').replace(/^Bearer /, '');
    if (req.path.endsWith('/debug_token')) {
      if (bearer !== `111|${APP_SECRET}`) {
        graphError(res, 400, { code: 190, message: 'Invalid OAuth access token signature.' });
        return;
      }
      const ok = req.query.get('input_token') === GOOD;
      json(res, 200, {
        data: {
          app_id: '111',
          type: 'SYSTEM_USER',
          application: 'Test App',
          is_valid: ok,
          expires_at: 0,
          scopes: ['whatsapp_business_management', 'whatsapp_business_messaging'],
          granular_scopes: [{ scope: 'whatsapp_business_management', target_ids: ['333'] }],
          ...(ok ? {} : { error: { code: 190, message: 'Session has expired' } }),
        },
      });
      return;
    }
    if (bearer !== GOOD) {
      graphError(res, 401, { code: 190, message: 'Invalid OAuth access token - Cannot parse access token' });
      return;
    }
    if (req.path.endsWith('/444'))
      json(res, 200, { id: '444', display_phone_number: '+1 555-010-0001', verified_name: 'Shop' });
    else if (req.path.endsWith('/333')) json(res, 200, { id: '333', name: 'Test WABA' });
    else if (req.path.endsWith('/me')) json(res, 200, { id: '9', name: 'System User' });
    else graphError(res, 400, { code: 100, message: '(#100) Unsupported get request' });
  });
}

describe('auth login / status / logout', () => {
  let server: TestServer;
  let home: ReturnType<typeof tempHome>;
  let env: NodeJS.ProcessEnv;
  beforeEach(async () => {
    server = await fakeGraph();
    home = tempHome();
    env = { ...home.env, WACX_CONFIG_DIR: join(home.home, 'cfg') };
  });
  afterEach(async () => {
    await server.close();
    home.cleanup();
  });
  const file = () => JSON.parse(readFileSync(join(home.home, 'cfg', 'config.json'), 'utf8'));

  it('login checks the token with a read call before saving it (flags, stdin)', async () => {
    const r = await run(
      ['auth', 'login', '--token-stdin', '--graph-url', server.url, '--waba-id', '333', '--json'],
      {
        env,
        stdin: `${GOOD}\n`,
      },
    );
    expect(r.code).toBe(0);
    expect(server.requests.map((q) => q.path)).toEqual(['/v25.0/333']);
    expect(server.requests[0]!.headers['user-agent']).toBe(`wacx/${VERSION}`);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({
      profile: 'default',
      valid: true,
      stored: { token: 'file', appSecret: null },
    });
    expect(out.check).toMatchObject({ method: 'waba', subject: 'Test WABA' });
    expect(file().profiles.default).toEqual({
      settings: { graphUrl: server.url, wabaId: '333' },
      secrets: { token: GOOD },
    });
    expect(r.stderr).toContain('mode 0600');
  });

  it('login uses debug_token when app id and secret are known, and discovers the only WABA', async () => {
    const keychain = new FakeKeychain();
    const r = await run(
      [
        'auth',
        'login',
        '--token',
        GOOD,
        '--app-id',
        '111',
        '--app-secret',
        APP_SECRET,
        '--graph-url',
        server.url,
      ],
      { env, keychain },
    );
    expect(r.code).toBe(0);
    const q = server.requests[0]!;
    expect(q.path).toBe('/v25.0/debug_token');
    expect(q.query.get('input_token')).toBe(GOOD);
    expect(q.query.get('appsecret_proof')).toMatch(/^[0-9a-f]{64}$/);
    expect(r.stderr).toContain('SYSTEM_USER');
    expect(r.stderr).toContain('Using WABA 333');
    expect(keychain.entries.get('default:token')).toBe(GOOD);
    expect(keychain.entries.get('default:appSecret')).toBe(APP_SECRET);
    expect(file().profiles.default).toEqual({
      settings: { graphUrl: server.url, appId: '111', wabaId: '333' },
    });
  });

  it('login falls back to a direct read when debug_token refuses the app credentials', async () => {
    const r = await run(
      [
        'auth',
        'login',
        '--token',
        GOOD,
        '--app-id',
        '111',
        '--app-secret',
        'wrong-secret-000',
        '--phone-number-id',
        '444',
      ],
      { env: { ...env, WACX_GRAPH_URL: server.url } },
    );
    expect(r.code).toBe(0);
    expect(server.requests.map((q) => q.path)).toEqual(['/v25.0/debug_token', '/v25.0/444']);
    expect(r.stderr).toContain('debug_token with the app credentials failed');
    expect(r.stderr).toContain('+1 555-010-0001');
  });

  it('login refuses a token Meta rejects (exit 4) and saves nothing', async () => {
    const r = await run(['auth', 'login', '--token', 'EAABADTOKEN000000000000', '--graph-url', server.url], {
      env,
    });
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('The token is not valid (nothing was saved)');
    expect(server.requests.map((q) => q.path)).toEqual(['/v25.0/me']);
    expect(() => file()).toThrow();
  });

  it('login without a token and without a terminal is a usage error naming the flags', async () => {
    const r = await run(['auth', 'login', '--graph-url', server.url], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('pass --token or --token-stdin');
    expect(r.stderr).toContain('Usage: wacx auth login [options]');
    expect(server.requests).toHaveLength(0);
  });

  it('login validates ids and URLs before calling anyone', async () => {
    for (const args of [
      ['--waba-id', 'abc'],
      ['--graph-url', 'http://graph.example.com'],
      ['--token', GOOD, '--token-stdin'],
      ['--token', 'two words'],
    ]) {
      const r = await run(['auth', 'login', '--token', GOOD, ...args], { env });
      expect(r.code, args.join(' ')).toBe(2);
    }
    expect(server.requests).toHaveLength(0);
  });

  it('login prompts on a terminal for the token, app id, app secret, WABA and number', async () => {
    const asked: string[] = [];
    const answers: Record<string, string> = {
      '--token or --token-stdin': GOOD,
      '--app-id': '111',
      '--app-secret': APP_SECRET,
      '--waba-id': '',
      '--phone-number-id': '444',
    };
    const prompter: Prompter = {
      input: async (q) => {
        asked.push(q.flag);
        const a = answers[q.flag] ?? '';
        if (q.validate) expect(q.validate(a)).toBe(true);
        expect(q.validate?.('not-a-number')).toMatch(/Invalid/);
        return a;
      },
      password: async (q) => {
        asked.push(q.flag);
        return answers[q.flag] ?? '';
      },
      confirm: async () => true,
      select: async (q) => q.choices[0]!.value,
    };
    const r = await run(['auth', 'login'], {
      env: { ...env, CI: '', WACX_GRAPH_URL: server.url },
      tty: true,
      prompter,
    });
    expect(r.code).toBe(0);
    expect(asked).toEqual([
      '--token or --token-stdin',
      '--app-id',
      '--app-secret',
      '--waba-id',
      '--phone-number-id',
    ]);
    expect(file().profiles.default.settings).toEqual({ appId: '111', phoneNumberId: '444', wabaId: '333' });
    expect(file().profiles.default.secrets).toEqual({ token: GOOD, appSecret: APP_SECRET });
  });

  it('status shows each value with its source, the token redacted, and a live check (exit 0)', async () => {
    await run(['config', 'set', 'wabaId', '333'], { env });
    const r = await run(['auth', 'status', '--json'], {
      env: { ...env, WACX_TOKEN: GOOD, WACX_GRAPH_URL: server.url },
    });
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s.profile).toBe('default');
    expect(s.token).toMatchObject({
      present: true,
      source: 'env',
      value: 'EAAG…(redacted)',
      valid: true,
      checked: true,
    });
    expect(s.token.check).toMatchObject({ method: 'waba', subject: 'Test WABA' });
    const by = Object.fromEntries(s.settings.map((x: { key: string }) => [x.key, x]));
    expect(by.wabaId).toMatchObject({ value: '333', source: 'profile' });
    expect(by.graphUrl).toMatchObject({ value: server.url, source: 'env' });
    expect(by.apiVersion).toMatchObject({ value: 'v25.0', source: 'default' });
    expect(r.stdout).not.toContain(GOOD);
  });

  it('status exits 4 when the token is invalid or missing, 1 when the check cannot run', async () => {
    const base = { ...env, WACX_GRAPH_URL: server.url };
    const invalid = await run(['auth', 'status'], {
      env: { ...base, WACX_TOKEN: 'EAAEXPIRED0000000000000' },
    });
    expect(invalid.code).toBe(4);
    expect(invalid.stderr).toContain('Token is not valid');
    const missing = await run(['auth', 'status', '--json'], { env: base });
    expect(missing.code).toBe(4);
    expect(JSON.parse(missing.stdout).token).toMatchObject({ present: false, valid: null, source: 'unset' });
    const unchecked = await run(['auth', 'status', '--no-check'], { env: { ...base, WACX_TOKEN: GOOD } });
    expect(unchecked.code).toBe(0);
    await server.close();
    const down = await run(['auth', 'status'], {
      env: { ...base, WACX_TOKEN: GOOD },
      clock: new FakeClock(),
    });
    expect(down.code).toBe(1);
    expect(down.stderr).toContain('connection refused');
  });

  it('logout forgets the stored token; status then reports not logged in', async () => {
    await run(['auth', 'login', '--token', GOOD, '--graph-url', server.url], { env });
    const out = await run(['auth', 'logout'], { env });
    expect(out.code).toBe(0);
    expect(out.stderr).toContain('removed token (config file)');
    expect(file().profiles.default.secrets).toBeUndefined();
    expect(file().profiles.default.settings.graphUrl).toBe(server.url);
    const status = await run(['auth', 'status'], { env });
    expect(status.code).toBe(4);
    expect(status.stderr).toContain('Not logged in');
  });
});

describe('auth with an environment token', () => {
  const home = tempHome();
  afterAll(() => home.cleanup());
  it('warns on logout that WACX_TOKEN is still set', async () => {
    const r = await run(['auth', 'logout'], { env: { ...home.env, WACX_TOKEN: GOOD } });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('WACX_TOKEN is still set in the environment');
  });
});

/**
 * A stand-in for @napi-rs/keyring. `store: 'keyutils'` behaves like its Linux fallback to the kernel keyring,
 * which accepts every read and write but rejects the Secret Service "target" modifier.
 */
function keyringSystem(
  platform: NodeJS.Platform,
  store: 'keyutils' | 'native',
): KeychainSystem & { loads: number } {
  const saved = new Map<string, string>();
  class Entry {
    constructor(
      private readonly service: string,
      private readonly account: string,
    ) {}
    static withTarget(_target: string, service: string, account: string): Entry {
      if (store === 'keyutils') throw new Error("Value of 'target' is invalid: unknown key");
      return new Entry(service, account);
    }
    getPassword(): string | null {
      return saved.get(`${this.service}/${this.account}`) ?? null;
    }
    setPassword(password: string): void {
      saved.set(`${this.service}/${this.account}`, password);
    }
    deletePassword(): boolean {
      return saved.delete(`${this.service}/${this.account}`);
    }
  }
  const system = {
    platform,
    loads: 0,
    load: async (): Promise<KeyringModule> => {
      system.loads++;
      return { Entry };
    },
  };
  return system;
}

describe('secrets: only a persistent OS keychain counts as one', () => {
  const home = tempHome();
  const { WACX_KEYCHAIN: _off, ...keychainOn } = home.env;
  const cfg = join(home.home, 'cfg');
  const env = { ...keychainOn, WACX_CONFIG_DIR: cfg };
  afterAll(() => home.cleanup());

  it('on Linux, the kernel keyring the library falls back to (no Secret Service) is not used', async () => {
    const probe = await probeKeychain(env, keyringSystem('linux', 'keyutils'));
    expect(probe.backend).toBeUndefined();
    expect(probe.why).toBe('no persistent keychain on this machine (no Secret Service: no D-Bus session)');
    const withBus = await probeKeychain(
      { ...env, DBUS_SESSION_BUS_ADDRESS: 'unix:path=/run/user/1000/bus' },
      keyringSystem('linux', 'keyutils'),
    );
    expect(withBus.why).toContain('no Secret Service answers on the D-Bus session bus');
    expect(await openKeychain(env, keyringSystem('linux', 'keyutils'))).toBeUndefined();
  });

  it('Secret Service on Linux, the macOS Keychain and the Windows Credential Manager are used, by name', async () => {
    for (const [platform, name] of [
      ['linux', 'Secret Service (D-Bus)'],
      ['darwin', 'macOS Keychain'],
      ['win32', 'Windows Credential Manager'],
    ] as const) {
      const { backend } = await probeKeychain(env, keyringSystem(platform, 'native'));
      expect(backend?.name).toBe(name);
      await backend!.set('default', 'token', GOOD);
      expect(await backend!.get('default', 'token')).toBe(GOOD);
    }
  });

  it('WACX_KEYCHAIN=0 still disables the keychain without loading the library', async () => {
    const system = keyringSystem('darwin', 'native');
    const probe = await probeKeychain({ ...env, WACX_KEYCHAIN: '0' }, system);
    expect(probe).toEqual({ backend: undefined, why: 'the OS keychain is disabled (WACX_KEYCHAIN=0)' });
    expect(system.loads).toBe(0);
  });

  it('login on headless Linux keeps the token in the 0600 file with the warning; status says where and why', async () => {
    const keychain = await probeKeychain(env, keyringSystem('linux', 'keyutils'));
    const server = await fakeGraph();
    try {
      const login = await run(['auth', 'login', '--token', GOOD, '--graph-url', server.url], {
        env,
        keychain,
      });
      expect(login.code).toBe(0);
      expect(login.stderr).toContain(
        `are kept in ${join(cfg, 'config.json')} (mode 0600) because no persistent keychain on this machine (no Secret Service: no D-Bus session)`,
      );
      expect(JSON.parse(readFileSync(join(cfg, 'config.json'), 'utf8')).profiles.default.secrets).toEqual({
        token: GOOD,
      });

      const status = await run(['auth', 'status', '--no-check'], { env, keychain });
      expect(status.code).toBe(0);
      expect(status.stderr).toContain(
        `Secrets: file ${join(cfg, 'config.json')} (0600) — no persistent keychain on this machine (no Secret Service: no D-Bus session)`,
      );
      const json = await run(['auth', 'status', '--no-check', '--json'], { env, keychain });
      expect(JSON.parse(json.stdout).secrets).toEqual({
        storage: 'file',
        path: join(cfg, 'config.json'),
        keychain: null,
        why: 'no persistent keychain on this machine (no Secret Service: no D-Bus session)',
      });
    } finally {
      await server.close();
    }
  });

  it('status names the keychain when there is one, and the switch when WACX_KEYCHAIN=0', async () => {
    const keychain = await probeKeychain(env, keyringSystem('darwin', 'native'));
    const status = await run(['auth', 'status', '--no-check', '--json'], { env, keychain });
    expect(JSON.parse(status.stdout).secrets).toEqual({
      storage: 'keychain',
      path: null,
      keychain: 'macOS Keychain',
      why: null,
    });
    const off = await run(['auth', 'status', '--no-check'], { env: { ...env, WACX_KEYCHAIN: '0' } });
    expect(off.stderr).toContain('— the OS keychain is disabled (WACX_KEYCHAIN=0)');
  });
});
