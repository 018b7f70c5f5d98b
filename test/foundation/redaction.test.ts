import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/lib/clock.js';
import { Config } from '../../src/lib/config/config.js';
import { preloadConf } from '../../src/lib/config/profiles.js';
import { Redactor } from '../../src/lib/config/redact.js';
import { tempHome } from '../helpers/cli.js';
import {
  FakeKeychain,
  graphError,
  json,
  type RunResult,
  run,
  startServer,
  type TestServer,
} from './support.js';

// Deliberately NOT shaped like Meta tokens (no EAA prefix): only the registry of known secrets can catch them.
const ENV_TOKEN = 'envTOKEN_zq81Lm3Pw0';
const ENV_SECRET = 'envSECRET_Qa55Rt7Yu2';
const FILE_TOKEN = 'fileTOKEN_Hd72Kc9Xa1';
const FILE_SECRET = 'fileSECRET_Pp09Zz11';
const KC_TOKEN = 'kcTOKEN_Vb55Nr2Ty8';
const NEW_TOKEN = 'newTOKEN_Jk31Ls8Mq4';
const SECRETS = [ENV_TOKEN, ENV_SECRET, FILE_TOKEN, FILE_SECRET, KC_TOKEN, NEW_TOKEN];

describe('secrets never leak (env, profile file, keychain)', () => {
  const home = tempHome();
  const keychain = new FakeKeychain();
  let server: TestServer;
  let env: NodeJS.ProcessEnv;
  const outputs: { args: string[]; result: RunResult }[] = [];

  beforeAll(async () => {
    // A hostile server: it echoes the token it received in its error messages and answers.
    server = await startServer((req, res) => {
      const token = (req.headers.authorization ?? '').replace(/^Bearer /, '');
      const input = req.query.get('input_token');
      if (req.path.endsWith('/debug_token')) {
        json(res, 200, {
          data: {
            app_id: '1',
            type: 'SYSTEM_USER',
            application: `app for ${input}`,
            is_valid: false,
            expires_at: 0,
            scopes: [],
            error: { code: 190, message: `token ${input} expired; app token ${token}` },
          },
        });
      } else if (token === KC_TOKEN || token === NEW_TOKEN) {
        json(res, 200, { id: '9', name: `Hello ${token}` });
      } else {
        graphError(res, 401, {
          code: 190,
          message: `Invalid OAuth access token ${token} (proof ${req.query.get('appsecret_proof')})`,
        });
      }
    });
    env = { ...home.env, WACX_CONFIG_DIR: join(home.home, 'cfg'), WACX_GRAPH_URL: server.url };
    await preloadConf();
    const config = new Config({ env, keychain: null });
    config.profiles.update('filep', (p) => {
      p.settings.wabaId = '123';
      p.secrets = { token: FILE_TOKEN, appSecret: FILE_SECRET };
    });
    config.profiles.update('kcp', (p) => {
      p.settings.phoneNumberId = '456';
    });
    await keychain.set('kcp', 'token', KC_TOKEN);
  });
  afterAll(async () => {
    await server.close();
    home.cleanup();
  });

  const exec = async (
    args: string[],
    extra: { env?: NodeJS.ProcessEnv; stdin?: string; tty?: boolean } = {},
  ) => {
    const result = await run(args, {
      env: { ...env, ...extra.env },
      keychain,
      clock: new FakeClock(),
      ...(extra.stdin !== undefined ? { stdin: extra.stdin } : {}),
      ...(extra.tty ? { tty: true } : {}),
    });
    outputs.push({ args, result });
    return result;
  };
  const withEnv = { env: { WACX_TOKEN: ENV_TOKEN, WACX_APP_SECRET: ENV_SECRET } };

  it('runs every kind of command, success and error paths, with --verbose and --json', async () => {
    for (const profile of ['default', 'filep', 'kcp']) {
      for (const extra of [{}, withEnv]) {
        await exec(['--profile', profile, 'config', 'list'], extra);
        await exec(['--profile', profile, 'config', 'list', '--json'], extra);
        await exec(['--profile', profile, 'auth', 'status', '--verbose'], extra);
        await exec(['--profile', profile, 'auth', 'status', '--json', '--verbose'], extra);
      }
    }
    // 401 echoing the token, through reportError; and debug_token with the app credentials
    await exec(['auth', 'login', '--token', FILE_TOKEN, '--waba-id', '1', '--verbose']);
    await exec([
      'auth',
      'login',
      '--token',
      FILE_TOKEN,
      '--app-id',
      '1',
      '--app-secret',
      FILE_SECRET,
      '--verbose',
    ]);
    await exec(['auth', 'login', '--token-stdin', '--json', '--verbose'], {
      stdin: `${ENV_TOKEN}\n`,
      ...withEnv,
    });
    // a successful login whose answer echoes the token
    await exec(['--profile', 'newp', 'auth', 'login', '--token-stdin', '--verbose'], { stdin: NEW_TOKEN });
    // the same on a live terminal: the spinner (ora) writes the echoed token itself
    await exec(['--profile', 'newp', 'auth', 'login', '--token-stdin', '--no-input'], {
      stdin: NEW_TOKEN,
      tty: true,
      env: { CI: '' },
    });
    await exec(['--profile', 'kcp', 'auth', 'status', '--verbose'], {
      tty: true,
      env: { CI: '', NO_COLOR: '' },
    });
    // user input echoed back by error messages (commander and ours)
    for (const secret of [ENV_TOKEN, FILE_TOKEN, KC_TOKEN]) {
      await exec([secret], withEnv);
      await exec(['config', secret], withEnv);
      await exec(['config', 'get', secret], withEnv);
      await exec(['config', 'set', 'wabaId', secret], withEnv);
      await exec(['config', 'set', 'graphUrl', `https://u:${secret}@example.com`], withEnv);
      await exec(['--api-version', secret, 'config', 'list'], withEnv);
      await exec(['auth', 'login', '--bogus', secret], withEnv);
    }
    await exec(['--help']);
    await exec(['--version']);
    await exec(['help', 'exit-codes']);
    await exec(['--profile', 'kcp', 'auth', 'logout', '--verbose']);

    // The test is meaningful: the secrets did travel, and the outputs did mention them (redacted).
    const sent = server.requests.map((r) => `${r.headers.authorization} ${r.url}`).join('\n');
    for (const token of [ENV_TOKEN, FILE_TOKEN, KC_TOKEN, NEW_TOKEN]) expect(sent).toContain(token);
    const all = outputs.map((o) => o.result.stdout + o.result.stderr).join('\n');
    expect(all).toContain('kcTO…(redacted)');
    expect(all).toContain('file…(redacted)');
    expect(all).toContain('envT…(redacted)');
    expect(all).toContain('Invalid OAuth access token');
    expect(all).toContain('> authorization: Bearer ***');
    expect(outputs.some((o) => o.result.code === 4)).toBe(true);
    expect(outputs.some((o) => o.result.code === 2)).toBe(true);
  });

  it('no secret appears in any stdout or stderr', () => {
    expect(outputs.length).toBeGreaterThan(40);
    for (const { args, result } of outputs) {
      for (const secret of SECRETS) {
        expect(result.stdout, `stdout of wacx ${args.join(' ')}`).not.toContain(secret);
        expect(result.stderr, `stderr of wacx ${args.join(' ')}`).not.toContain(secret);
      }
    }
  });

  it('the successful login stored the new token in the keychain, not in the file', () => {
    expect(keychain.entries.get('newp:token')).toBe(NEW_TOKEN);
    expect(readFileSync(join(home.home, 'cfg', 'config.json'), 'utf8')).not.toContain(NEW_TOKEN);
  });
});

describe('Redactor', () => {
  it('masks registered secrets, bearer tokens, token query values and Meta-shaped tokens', () => {
    const r = new Redactor();
    r.add('my-app-secret-value');
    r.add('short');
    const text = [
      'secret my-app-secret-value here',
      'Authorization: Bearer abcdefgh12345678',
      'GET /x?access_token=zzz&input_token=yyy&client_secret=xxx&appsecret_proof=www&fields=id',
      'token EAAGm0PX4ZCpsBAKZCQ9w8zLQvZBk3NX9ZA in text',
    ].join('\n');
    const out = r.redact(text);
    expect(out).not.toContain('my-app-secret-value');
    expect(out).not.toContain('abcdefgh12345678');
    expect(out).not.toMatch(/access_token=zzz|input_token=yyy|client_secret=xxx|appsecret_proof=www/);
    expect(out).toContain('fields=id');
    expect(out).not.toContain('EAAGm0PX4ZCpsBAKZCQ9w8zLQvZBk3NX9ZA');
    // too short to be a secret: ordinary words stay readable
    expect(r.redact('a short word')).toBe('a short word');
  });
});
