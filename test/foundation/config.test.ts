import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Config } from '../../src/lib/config/config.js';
import { configDir, preloadConf } from '../../src/lib/config/profiles.js';
import { openKeychain } from '../../src/lib/config/secrets.js';
import { normalizeKey, validateSetting } from '../../src/lib/config/settings.js';
import { tempHome } from '../helpers/cli.js';
import { FakeKeychain, run } from './support.js';

const mode = (path: string) => statSync(path).mode & 0o777;

describe('configuration file location', () => {
  it('derives the directory from the given env, never from the real HOME', () => {
    expect(configDir({ WACX_CONFIG_DIR: '/x/y' })).toBe('/x/y');
    expect(configDir({ HOME: '/h', XDG_CONFIG_HOME: '/h/xdg' }, 'linux')).toBe('/h/xdg/wacx');
    expect(configDir({ HOME: '/h' }, 'linux')).toBe('/h/.config/wacx');
    expect(configDir({ HOME: '/h' }, 'darwin')).toBe('/h/Library/Preferences/wacx');
    expect(configDir({ APPDATA: 'C:\\AppData' }, 'win32')).toBe(join('C:\\AppData', 'wacx'));
  });

  it('writes under the temporary HOME given to the CLI (XDG_CONFIG_HOME), mode 0600 in a 0700 directory', async () => {
    const home = tempHome();
    try {
      const realFile = join(homedir(), '.config', 'wacx', 'config.json');
      const before = existsSync(realFile) ? readFileSync(realFile, 'utf8') : null;
      const r = await run(['config', 'set', 'wabaId', '123'], { env: home.env });
      expect(r.code).toBe(0);
      const file = join(home.home, '.config', 'wacx', 'config.json');
      expect(JSON.parse(readFileSync(file, 'utf8')).profiles.default.settings.wabaId).toBe('123');
      expect(mode(file)).toBe(0o600);
      expect(mode(join(home.home, '.config', 'wacx'))).toBe(0o700);
      // the developer's real file is untouched
      expect(existsSync(realFile) ? readFileSync(realFile, 'utf8') : null).toBe(before);
    } finally {
      home.cleanup();
    }
  });
});

describe('precedence: flag > env > profile > default', () => {
  const home = tempHome();
  const env = { ...home.env, WACX_CONFIG_DIR: join(home.home, 'cfg') };
  afterAll(() => home.cleanup());

  it('resolves each layer in order, with its source', async () => {
    const get = async (extraEnv: NodeJS.ProcessEnv, args: string[] = []) => {
      const r = await run([...args, 'config', 'get', 'apiVersion', '--json'], {
        env: { ...env, ...extraEnv },
      });
      expect(r.code).toBe(0);
      return JSON.parse(r.stdout) as { value: string; source: string };
    };
    expect(await get({})).toMatchObject({ value: 'v25.0', source: 'default' });
    expect((await run(['config', 'set', 'apiVersion', 'v23.0'], { env })).code).toBe(0);
    expect(await get({})).toMatchObject({ value: 'v23.0', source: 'profile' });
    expect(await get({ WACX_API_VERSION: 'v22.0' })).toMatchObject({ value: 'v22.0', source: 'env' });
    expect(await get({ WACX_API_VERSION: 'v22.0' }, ['--api-version', 'v21.0'])).toMatchObject({
      value: 'v21.0',
      source: 'flag',
    });
  });

  it('applies the same precedence to every setting in `config list`', async () => {
    await run(['config', 'set', 'wabaId', '111'], { env });
    await run(['config', 'set', 'phoneNumberId', '222'], { env });
    const r = await run(['config', 'list', '--json'], {
      env: { ...env, WACX_PHONE_NUMBER_ID: '333', WACX_GRAPH_URL: 'http://127.0.0.1:9' },
    });
    const rows = JSON.parse(r.stdout).settings as { key: string; value: string | null; source: string }[];
    const by = Object.fromEntries(rows.map((x) => [x.key, x]));
    expect(by.wabaId).toMatchObject({ value: '111', source: 'profile' });
    expect(by.phoneNumberId).toMatchObject({ value: '333', source: 'env' });
    expect(by.graphUrl).toMatchObject({ value: 'http://127.0.0.1:9', source: 'env' });
    expect(by.configId).toMatchObject({ value: null, source: 'unset' });
    expect(by.token).toMatchObject({ value: null, source: 'unset' });
  });

  it('selects the profile with --profile over WACX_PROFILE over the default', async () => {
    await run(['--profile', 'p1', 'config', 'set', 'wabaId', '1001'], { env });
    await run(['--profile', 'p2', 'config', 'set', 'wabaId', '1002'], { env });
    const value = async (args: string[], e: NodeJS.ProcessEnv = {}) =>
      (await run([...args, 'config', 'get', 'wabaId'], { env: { ...env, ...e } })).stdout.trim();
    expect(await value([])).toBe('111');
    expect(await value([], { WACX_PROFILE: 'p1' })).toBe('1001');
    expect(await value(['--profile', 'p2'], { WACX_PROFILE: 'p1' })).toBe('1002');
  });
});

describe('config get / set / unset', () => {
  const home = tempHome();
  const env = { ...home.env, WACX_CONFIG_DIR: join(home.home, 'cfg') };
  const file = join(home.home, 'cfg', 'config.json');
  afterAll(() => home.cleanup());

  it('`config get` prints the bare value on stdout, and exits 1 when unset', async () => {
    const unset = await run(['config', 'get', 'wabaId'], { env });
    expect(unset.code).toBe(1);
    expect(unset.stdout).toBe('');
    expect(unset.stderr).toContain('wabaId is not set');
    await run(['config', 'set', 'waba-id', '106540352242922'], { env });
    const set = await run(['config', 'get', 'WACX_WABA_ID'], { env });
    expect(set).toMatchObject({ code: 0, stdout: '106540352242922\n' });
  });

  it('`config set` on a new profile creates it', async () => {
    const r = await run(['--profile', 'brand-new', 'config', 'set', 'phoneNumberId', '42', '--json'], {
      env,
    });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      profile: 'brand-new',
      key: 'phoneNumberId',
      value: '42',
      created: true,
      overriddenBy: null,
      effective: '42',
    });
    expect(JSON.parse(readFileSync(file, 'utf8')).profiles['brand-new'].settings).toEqual({
      phoneNumberId: '42',
    });
  });

  it('validates keys and values (usage error, exit 2, nothing written)', async () => {
    const before = readFileSync(file, 'utf8');
    for (const args of [
      ['apiVersion', 'latest'],
      ['apiVersion', 'v25.1'],
      ['graphUrl', 'http://graph.facebook.com'],
      ['graphUrl', 'https://user:pw@example.com'],
      ['wabaId', '12ab'],
      ['nope', '1'],
      ['token', 'EAAxxxxxxxxxxxxxxxxxxxxxxxxxx'],
    ]) {
      const r = await run(['config', 'set', ...args], { env });
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stdout).toBe('');
    }
    expect(readFileSync(file, 'utf8')).toBe(before);
  });

  it('normalises what it can: v-less versions, trailing slashes, key spellings', () => {
    expect(validateSetting('apiVersion', '24')).toBe('v24.0');
    expect(validateSetting('apiVersion', 'v24')).toBe('v24.0');
    expect(validateSetting('graphUrl', 'https://graph.facebook.com/')).toBe('https://graph.facebook.com');
    expect(validateSetting('graphUrl', 'http://127.0.0.1:8787')).toBe('http://127.0.0.1:8787');
    expect(normalizeKey('phone_number_id')).toBe('phoneNumberId');
    expect(normalizeKey('WACX_TOKEN')).toBe('token');
    expect(normalizeKey('colour')).toBeUndefined();
  });

  it('warns when the environment overrides what was just set', async () => {
    const r = await run(['config', 'set', 'apiVersion', 'v24.0'], {
      env: { ...env, WACX_API_VERSION: 'v23.0' },
    });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('WACX_API_VERSION is set in the environment and takes precedence (v23.0)');
  });

  it('`config unset` removes a setting and the default applies again', async () => {
    const r = await run(['config', 'unset', 'apiVersion', '--json'], { env });
    expect(JSON.parse(r.stdout)).toMatchObject({
      key: 'apiVersion',
      removed: true,
      value: 'v25.0',
      source: 'default',
    });
    const again = await run(['config', 'unset', 'apiVersion'], { env });
    expect(again.code).toBe(0);
    expect(again.stderr).toContain('nothing to do');
  });

  it('keeps the file at mode 0600 after every write, even if someone loosened it', async () => {
    chmodSync(file, 0o644);
    await run(['config', 'set', 'businessId', '77'], { env });
    expect(mode(file)).toBe(0o600);
  });

  it('reports a corrupt file as a configuration error with its path (exit 4)', async () => {
    const h = tempHome();
    const dir = join(h.home, 'bad');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'config.json'), '{ not json');
    const r = await run(['config', 'list'], { env: { ...h.env, WACX_CONFIG_DIR: dir } });
    expect(r.code).toBe(4);
    expect(r.stderr).toContain(join(dir, 'config.json'));
    // JSON, but not an object of profiles
    for (const text of ['null', '[]', '"x"']) {
      writeFileSync(join(dir, 'config.json'), text);
      const again = await run(['config', 'list'], { env: { ...h.env, WACX_CONFIG_DIR: dir } });
      expect(again.code).toBe(4);
      expect(again.stderr).toContain(`${join(dir, 'config.json')}: it is not a JSON object`);
    }
    h.cleanup();
  });
});

describe('secrets: env > keychain > 0600 file', () => {
  const home = tempHome();
  const env = { ...home.env, WACX_CONFIG_DIR: join(home.home, 'cfg') };
  beforeAll(() => preloadConf());
  afterAll(() => home.cleanup());
  let keychain: FakeKeychain;
  beforeEach(() => {
    keychain = new FakeKeychain();
  });

  it('stores in the keychain when there is one, and reads back in order env > keychain > file', async () => {
    const warnings: string[] = [];
    const config = new Config({ env, keychain, warn: (m) => warnings.push(m) });
    expect(await config.setSecret('token', 'KEYCHAIN-TOKEN-123')).toBe('keychain');
    expect(keychain.entries.get('default:token')).toBe('KEYCHAIN-TOKEN-123');
    expect(config.profile()?.secrets).toBeUndefined();
    expect(warnings).toEqual([]);
    expect(await config.secret('token')).toEqual({ value: 'KEYCHAIN-TOKEN-123', source: 'keychain' });

    const withEnv = new Config({ env: { ...env, WACX_TOKEN: 'ENV-TOKEN-456789' }, keychain });
    expect(await withEnv.secret('token')).toEqual({ value: 'ENV-TOKEN-456789', source: 'env' });

    // a file secret is used only when neither env nor keychain has one
    config.profiles.update('default', (p) => {
      p.secrets = { appSecret: 'FILE-APP-SECRET-1' };
    });
    expect(await config.secret('appSecret')).toEqual({ value: 'FILE-APP-SECRET-1', source: 'file' });
    expect(await config.secret('token')).toMatchObject({ source: 'keychain' });
  });

  it('falls back to the 0600 file with a single warning when the keychain refuses', async () => {
    keychain.failWrites = true;
    const warnings: string[] = [];
    const config = new Config({
      env: { ...env },
      flags: { profile: 'fallback' },
      createsProfile: true,
      keychain,
      warn: (m) => warnings.push(m),
    });
    expect(await config.setSecret('token', 'FALLBACK-TOKEN-1')).toBe('file');
    expect(await config.setSecret('appSecret', 'FALLBACK-SECRET-1')).toBe('file');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('mode 0600');
    expect(mode(config.profiles.path)).toBe(0o600);
    expect(await config.secret('token')).toEqual({ value: 'FALLBACK-TOKEN-1', source: 'file' });
  });

  it('WACX_KEYCHAIN=0 disables the OS keychain', async () => {
    expect(await openKeychain({ WACX_KEYCHAIN: '0' })).toBeUndefined();
    expect(await openKeychain({ WACX_KEYCHAIN: 'false' })).toBeUndefined();
  });

  it('`auth logout` removes the secrets of the profile from keychain and file; --all from every profile', async () => {
    const config = new Config({ env, keychain });
    await config.setSecret('token', 'KEYCHAIN-TOKEN-123');
    config.profiles.update('other', (p) => {
      p.secrets = { token: 'OTHER-FILE-TOKEN-9' };
    });
    const one = await run(['auth', 'logout', '--json'], { env, keychain });
    expect(one.code).toBe(0);
    expect(JSON.parse(one.stdout).profiles).toEqual([
      {
        profile: 'default',
        removed: [
          { key: 'token', from: 'keychain' },
          { key: 'appSecret', from: 'file' },
        ],
      },
    ]);
    expect(keychain.entries.size).toBe(0);
    expect(config.profiles.get('other')?.secrets?.token).toBe('OTHER-FILE-TOKEN-9');
    const all = await run(['auth', 'logout', '--all'], { env, keychain });
    expect(all.code).toBe(0);
    expect(all.stderr).toContain('Profile "other": removed token (config file)');
    expect(config.profiles.get('other')?.secrets).toBeUndefined();
    expect(readFileSync(config.profiles.path, 'utf8')).not.toContain('OTHER-FILE-TOKEN-9');
  });
});
