import { existsSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/lib/clock.js';
import { Store } from '../../src/lib/store/store.js';
import { ingestPayload } from '../../src/lib/webhooks/storage.js';
import { SEED } from '../../src/sandbox/seed.js';
import type { SandboxOptions } from '../../src/sandbox/server.js';
import { runCli, tempHome } from '../helpers/cli.js';
import { startTestSandbox, type TestSandbox } from '../helpers/sandbox.js';
import { DAY, HOUR, seedHealthy } from './fixtures.js';

interface JsonCheck {
  id: string;
  group: string;
  status: 'pass' | 'warn' | 'fail' | 'skip';
  title: string;
  detail: string;
  fix: string | null;
}

interface World {
  sb: TestSandbox;
  store: Store;
  dbPath: string;
  env: NodeJS.ProcessEnv;
}

const open: World[] = [];
afterEach(async () => {
  for (const w of open.splice(0)) {
    w.store.close();
    await w.sb.close();
  }
});

/**
 * A sandbox whose webhooks land in a real webhook store (the receiver's ingestPayload, signature checked),
 * the CLI pointed at both. The seeded templates that are PAUSED / DISABLED on purpose are approved, so that
 * the starting point is all green.
 */
async function world(
  opts: SandboxOptions = {},
  { activity = true, receiverSecret = SEED.app.secret as string } = {},
): Promise<World> {
  let store: Store | undefined;
  const pending: { raw: string; sig: string }[] = [];
  const sb = await startTestSandbox({
    seedActivity: activity,
    ...opts,
    webhookSink: async (raw, headers) => {
      if (!store) {
        pending.push({ raw, sig: headers['x-hub-signature-256'] ?? '' });
        return 200;
      }
      return ingestPayload(store.db, raw, {
        signature: headers['x-hub-signature-256'],
        appSecret: receiverSecret,
      }).httpStatus;
    },
  });
  const dbPath = join(sb.home, 'wacx.db');
  store = Store.open(dbPath);
  for (const p of pending) ingestPayload(store.db, p.raw, { signature: p.sig, appSecret: receiverSecret });
  for (const t of SEED.templates) {
    if (t.status !== 'APPROVED') await sb.control(`templates/${t.id}`, { status: 'APPROVED' });
  }
  const env = sb.env({ WACX_DB: dbPath });
  // A saved profile (0600 config file), as after `wacx onboard`.
  const set = await runCli(['config', 'set', 'apiVersion', 'v25.0'], { env });
  expect(set.code, set.stderr).toBe(0);
  const w = { sb, store, dbPath, env };
  open.push(w);
  return w;
}

async function doctor(w: World, args: string[] = [], clock?: FakeClock) {
  const r = await runCli(['doctor', '--json', ...args], { env: w.env, ...(clock ? { clock } : {}) });
  let checks: JsonCheck[];
  try {
    checks = JSON.parse(r.stdout) as JsonCheck[];
  } catch {
    throw new Error(`doctor printed no JSON (exit ${r.code}): ${r.stdout}\n${r.stderr}`);
  }
  return { ...r, checks, by: new Map(checks.map((c) => [c.id, c])) };
}

/** Checks that depend on the machine running the tests rather than on the account. */
const MACHINE_DEPENDENT = new Set(['setup.node']);

describe('wacx doctor against the sandbox', () => {
  it('all green: every check passes and it exits 0, also with --strict', async () => {
    const w = await world();
    const r = await doctor(w, ['--strict']);
    const notPassing = r.checks.filter((c) => c.status !== 'pass' && !MACHINE_DEPENDENT.has(c.id));
    expect(notPassing).toEqual([]);
    if (r.by.get('setup.node')!.status === 'pass') expect(r.code).toBe(0);
    const plain = await doctor(w);
    expect(plain.code).toBe(0);
    expect(r.by.get('number.coexistence')!.detail).toContain('is_on_biz_app true, platform_type CLOUD_API');
    expect(r.by.get('sync.history')!.detail).toMatch(/^complete: /);
    expect(r.by.get('sync.echo_age')!.detail).toMatch(/^last message echo from the App /);
    expect(r.by.get('waba.webhook_fields')!.detail).toContain(
      'history, smb_app_state_sync, smb_message_echoes',
    );
  });

  it('--json shape: one object per check, stable ids and groups, keys always present', async () => {
    const w = await world();
    const r = await doctor(w);
    const shape = r.checks.map((c) => ({
      id: c.id,
      group: c.group,
      status: MACHINE_DEPENDENT.has(c.id) ? '<machine>' : c.status,
      title: c.title,
      keys: Object.keys(c).join(','),
      detail: typeof c.detail,
      fix: MACHINE_DEPENDENT.has(c.id) ? '<machine>' : c.fix === null ? null : typeof c.fix,
    }));
    expect(shape).toMatchSnapshot();
  });

  it('text on a TTY: grouped ✓ lines, a summary, colour only when allowed', async () => {
    const w = await world();
    const plain = await runCli(['doctor'], { env: w.env, tty: true });
    expect(plain.stdout).toMatch(/^Set-up$/m);
    expect(plain.stdout).toMatch(/^ {2}✓ Coexistence active: is_on_biz_app true, platform_type CLOUD_API/m);
    expect(plain.stdout).toMatch(/passed · \d+ warnings? · 0 failed · 0 skipped\. No problems found\.$/m);
    expect(plain.stdout).not.toContain('\u001b[');
    const { NO_COLOR: _drop, ...colourEnv } = w.env;
    const colour = await runCli(['doctor'], { env: colourEnv, tty: true });
    expect(colour.stdout).toContain('\u001b[32m✓\u001b[39m');
  });

  it('lists what coexistence changed in the Business App as information for a coexistence number only', async () => {
    const w = await world();
    const r = await runCli(['doctor'], { env: w.env });
    const at = r.stdout.indexOf('Information: what coexistence changes in the WhatsApp Business app');
    expect(at).toBeGreaterThan(r.stdout.indexOf('No problems found.'));
    const info = r.stdout.slice(at);
    expect(info).toMatch(/i Group chats: not synchronized/);
    expect(info).toMatch(/i Disappearing messages: turned off/);
    expect(info).toMatch(/i Broadcast lists: .*read-only/);
    expect(info).toMatch(/i Linked devices: .*Windows and WearOS/);
    expect(info).toMatch(/i Pricing: .*free.*billed/);
    // information, not checks: the --json array and the counts are unchanged by it
    expect((await doctor(w)).checks.some((c) => c.id.includes('group'))).toBe(false);

    const cloud = await runCli(['doctor', '--phone-number-id', SEED.phoneNumbers.cloud.id], { env: w.env });
    expect(cloud.stdout).not.toContain('what coexistence changes');
  });

  it('revoked token: token.valid fails with the fix, the API checks are skipped, exit 1', async () => {
    const w = await world();
    await w.sb.control('scenario', { name: 'token_revoked' });
    const r = await doctor(w);
    expect(r.code).toBe(1);
    expect(r.by.get('token.valid')).toMatchObject({ status: 'fail' });
    expect(r.by.get('token.valid')!.fix).toContain('wacx auth login');
    for (const id of ['waba.subscribed', 'number.coexistence', 'templates.paused']) {
      expect(r.by.get(id)).toMatchObject({
        status: 'skip',
        detail: 'the token is not valid (see token.valid)',
      });
    }
    // the local checks still ran
    expect(r.by.get('sync.echo_age')!.status).toBe('pass');
  });

  it('a wrong app secret: token.valid fails naming the app secret, the other API checks are skipped', async () => {
    const w = await world();
    const r = await doctor({ ...w, env: { ...w.env, WACX_APP_SECRET: 'not-the-app-secret-0000000000' } });
    expect(r.code).toBe(1);
    expect(r.by.get('token.valid')!.status).toBe('fail');
    expect(r.by.get('token.valid')!.detail).toMatch(/appsecret_proof/);
    expect(r.by.get('token.valid')!.fix).toContain('WACX_APP_SECRET');
    expect(r.by.get('waba.reachable')).toMatchObject({ status: 'skip' });
    expect(r.stdout).not.toContain('not-the-app-secret-0000000000');
  });

  it('app not subscribed: waba.subscribed fails', async () => {
    const w = await world();
    await w.sb.control('scenario', { name: 'app_unsubscribed' });
    const r = await doctor(w);
    expect(r.code).toBe(1);
    expect(r.by.get('waba.subscribed')).toMatchObject({ status: 'fail' });
    expect(r.by.get('waba.subscribed')!.fix).toContain(`/${SEED.waba.id}/subscribed_apps`);
  });

  it('missing webhook fields: waba.webhook_fields fails naming them', async () => {
    const w = await world();
    await w.sb.control('scenario', {
      name: 'missing_webhook_fields',
      fields: ['history', 'smb_message_echoes'],
    });
    const r = await doctor(w);
    expect(r.code).toBe(1);
    expect(r.by.get('waba.webhook_fields')).toMatchObject({
      status: 'fail',
      detail: 'missing history, smb_message_echoes',
    });
  });

  it('PRIMARY_INACTIVITY: the PARTNER_REMOVED webhook fails sync.account_update with its meaning and fix', async () => {
    const w = await world();
    await w.sb.control('scenario', { name: 'primary_inactivity' });
    const r = await doctor(w);
    expect(r.code).toBe(1);
    const u = r.by.get('sync.account_update')!;
    expect(u.status).toBe('fail');
    expect(u.detail).toMatch(
      /^PARTNER_REMOVED .*\(PRIMARY_INACTIVITY, initiated by SYSTEM\): the Business App was not opened/,
    );
    expect(u.fix).toContain('wacx onboard');
    expect(r.by.get('number.status')).toMatchObject({ status: 'fail' });
    expect(r.by.get('number.coexistence')).toMatchObject({ status: 'fail' });
  });

  it('offboarded without reconnect fails; after ACCOUNT_RECONNECTED it passes again', async () => {
    const w = await world();
    await w.sb.control('scenario', { name: 'device_change', reconnect_after_ms: 60_000 });
    const off = await doctor(w);
    expect(off.code).toBe(1);
    expect(off.by.get('sync.account_update')!.status).toBe('fail');
    expect(off.by.get('sync.account_update')!.detail).toMatch(
      /^ACCOUNT_OFFBOARDED .*no ACCOUNT_RECONNECTED since/,
    );
    await w.sb.flush();
    const back = await doctor(w);
    expect(back.by.get('sync.account_update')).toMatchObject({ status: 'pass' });
    expect(back.by.get('sync.account_update')!.detail).toMatch(/^last: ACCOUNT_RECONNECTED/);
  });

  it('history declined: sync.history fails with 2593109', async () => {
    const w = await world({ scenario: 'history_declined' });
    const r = await doctor(w);
    expect(r.code).toBe(1);
    expect(r.by.get('sync.history')!.status).toBe('fail');
    expect(r.by.get('sync.history')!.detail).toMatch(/^declined by the business \(2593109/);
  });

  it('a paused template: templates.paused fails naming every paused language', async () => {
    const w = await world();
    await w.sb.control('scenario', { name: 'template_paused', value: 'order_update' });
    const r = await doctor(w);
    expect(r.code).toBe(1);
    expect(r.by.get('templates.paused')).toMatchObject({
      status: 'fail',
      detail: 'order_update (en_US): quality RED; order_update (pt_BR): quality RED',
    });
    expect(r.by.get('templates.counts')!.detail).toContain('2 PAUSED');
  });

  it('stale echoes: 13.5 days later (FakeClock) sync.echo_age fails; thresholds are flags', async () => {
    const w = await world();
    const later = new FakeClock(Date.now() + 13.5 * DAY);
    const r = await doctor(w, [], later);
    expect(r.code).toBe(1);
    expect(r.by.get('sync.echo_age')).toMatchObject({ status: 'fail' });
    expect(r.by.get('sync.echo_age')!.detail).toMatch(/^last message echo from the App 13 days ago/);
    const relaxed = await doctor(
      w,
      ['--activity-warn-days', '20', '--activity-fail-days', '30'],
      new FakeClock(Date.now() + 13.5 * DAY),
    );
    expect(relaxed.by.get('sync.echo_age')!.status).toBe('pass');
  });

  it('stale echoes from the store: events received 11 days ago warn (exit 0), --strict exits 1', async () => {
    const w = await world({}, { activity: false });
    seedHealthy(w.store.db, Date.now() - 11 * DAY);
    const r = await doctor(w);
    expect(r.by.get('sync.echo_age')).toMatchObject({ status: 'warn' });
    expect(r.by.get('sync.echo_age')!.detail).toMatch(/^last message echo from the App 11 days ago/);
    const failing = r.checks.filter((c) => c.status === 'fail');
    expect(failing).toEqual([]);
    expect(r.code).toBe(0);
    expect((await doctor(w, ['--strict'])).code).toBe(1);
  });

  it('no webhook received: sync.webhooks fails, history window reported from last_onboarded_time', async () => {
    const w = await world({}, { activity: false });
    await w.sb.control(`numbers/${SEED.phoneNumbers.coex.id}`, {
      last_onboarded_time: Date.now() - 2 * HOUR,
    });
    // A profile whose database does not exist yet: nothing was ever received (and the doctor does not create it).
    const empty = join(w.sb.home, 'never-received.db');
    const r = await doctor({ ...w, env: { ...w.env, WACX_DB: empty } });
    expect(existsSync(empty)).toBe(false);
    expect(r.by.get('sync.webhooks')).toMatchObject({ status: 'fail' });
    expect(r.by.get('sync.webhooks')!.detail).toContain('never-received.db');
    expect(r.by.get('sync.webhooks')!.fix).toContain('wacx webhooks serve');
    expect(r.by.get('sync.history')).toMatchObject({ status: 'warn' });
    expect(r.by.get('sync.history')!.detail).toContain('21 h left in the 24-hour window');
  });

  it('a receiver with the wrong app secret: every delivery is rejected, sync.signatures fails', async () => {
    const w = await world({}, { receiverSecret: 'the-wrong-secret-000000000000' });
    seedHealthy(w.store.db, Date.now() - HOUR); // what was stored before the secret changed
    await w.sb.control('emit', { field: 'smb_message_echoes', value: {} });
    const r = await doctor(w);
    const sig = r.by.get('sync.signatures')!;
    expect(r.code).toBe(1);
    expect(sig.status).toBe('fail');
    expect(sig.detail).toMatch(/deliveries rejected for a bad signature.*nothing accepted since/);
    expect(sig.fix).toContain('WACX_APP_SECRET');
  });

  it('--sandbox: runs against the in-process sandbox with no set-up at all', async () => {
    const h = tempHome();
    try {
      const r = await runCli(['doctor', '--sandbox', '--json'], { env: h.env });
      const checks = JSON.parse(r.stdout) as JsonCheck[];
      const by = new Map(checks.map((c) => [c.id, c]));
      for (const id of [
        'setup.api',
        'token.valid',
        'token.waba_access',
        'waba.subscribed',
        'waba.webhook_fields',
        'number.coexistence',
      ]) {
        expect(by.get(id)!.status, `${id}: ${by.get(id)!.detail}`).toBe('pass');
      }
      expect(r.code).toBe(checks.some((c) => c.status === 'fail') ? 1 : 0);
    } finally {
      h.cleanup();
    }
  });

  it('is read-only: only GET requests reach the API, and the sandbox world is unchanged', async () => {
    const w = await world();
    const before = await w.sb.control('world');
    const seen: { method: string; path: string }[] = [];
    const target = new URL(w.sb.url);
    const proxy: Server = createServer((req, res) => {
      seen.push({ method: req.method ?? '?', path: (req.url ?? '').split('?')[0]! });
      const up = httpRequest(
        { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
        (r) => {
          res.writeHead(r.statusCode ?? 502, r.headers);
          r.pipe(res);
        },
      );
      req.pipe(up);
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
    try {
      const port = (proxy.address() as { port: number }).port;
      const r = await runCli(['doctor', '--json'], {
        env: { ...w.env, WACX_GRAPH_URL: `http://127.0.0.1:${port}` },
      });
      expect(r.code).toBe(0);
      expect(seen.length).toBeGreaterThanOrEqual(6);
      expect(seen.filter((s) => s.method !== 'GET')).toEqual([]);
      const paths = seen.map((s) => s.path.replace(/^\/v\d+\.0\//, ''));
      for (const p of [
        'debug_token',
        SEED.waba.id,
        `${SEED.waba.id}/subscribed_apps`,
        `${SEED.app.id}/subscriptions`,
        SEED.phoneNumbers.coex.id,
        `${SEED.waba.id}/message_templates`,
      ]) {
        expect(paths).toContain(p);
      }
    } finally {
      await new Promise<void>((r) => proxy.close(() => r()));
    }
    const after = await w.sb.control('world');
    expect(normaliseWorld(after)).toEqual(normaliseWorld(before));
  });
});

/** The sandbox world without its request counters and clocks (reading moves those). */
function normaliseWorld(v: unknown): unknown {
  return JSON.parse(
    JSON.stringify(v, (k, val) =>
      /(count|usage|calls|requests|now|clock|at$|_at$)/i.test(k) ? undefined : val,
    ),
  );
}
