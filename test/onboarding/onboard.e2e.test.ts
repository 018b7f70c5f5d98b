import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/lib/clock.js';
import type { Prompter } from '../../src/lib/io/prompter.js';
import type { StoreLocation } from '../../src/lib/store/location.js';
import { Store } from '../../src/lib/store/store.js';
import { startWebhookServer } from '../../src/lib/webhooks/server.js';
import { ingestPayload } from '../../src/lib/webhooks/storage.js';
import { SEED } from '../../src/sandbox/seed.js';
import { readStore, storeEnv } from '../helpers/backends.js';
import { runCli } from '../helpers/cli.js';
import { BACKENDS, freshLocation, type TestBackend } from '../helpers/postgres.js';
import { startTestSandbox, type TestSandbox } from '../helpers/sandbox.js';
import { freshUserEnv, httpGet, scan, signup, startCli } from './helpers.js';

let sb: TestSandbox;
let env: NodeJS.ProcessEnv;
let dbPath: string;
/** The profile's store: the SQLite file at dbPath, or, in the PostgreSQL describe, a new PostgreSQL database. */
let location: StoreLocation;
let backend: TestBackend = 'sqlite';
/** This profile's store as `wacx webhooks serve` writes it: the sandbox's webhooks land here while `delivering`. */
let receiverStore: Store | undefined;
let delivering: boolean;
/** A request trace line (--verbose) calling /register. */
const REGISTER_CALL = /^> \w+ \S*\/register\b/m;
const URL_RE = /(http:\/\/127\.0\.0\.1:\d+\/v\d+\.0\/dialog\/oauth\?\S+)/;

beforeEach(async () => {
  delivering = true;
  sb = await startTestSandbox({
    webhookSink: async (raw, headers) => {
      if (!delivering) return 503;
      receiverStore ??= Store.open(location);
      return ingestPayload(receiverStore.db, raw, {
        signature: headers['x-hub-signature-256'],
        appSecret: SEED.app.secret,
      }).httpStatus;
    },
  });
  dbPath = join(sb.home, 'wacx.db');
  location = freshLocation(backend, dbPath);
  env = { ...freshUserEnv(sb, dbPath), ...storeEnv(location) };
});
afterEach(async () => {
  await sb.close();
  receiverStore?.close();
  receiverStore = undefined;
});

const PENDING = () => sb.seed.phoneNumbers.pending.id;
const world = () =>
  sb.control<{ numbers: { id: string; sync_requests: Record<string, { requestId: string }> }[] }>('world');
const syncsAt = async (id: string) => (await world()).numbers.find((n) => n.id === id)!.sync_requests;
const profileFile = () => {
  const path = join(sb.home, '.config', 'wacx', 'config.json');
  return existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) : {};
};
/** How many rows `table` of the profile's store holds (0 when nothing created it). */
const countIn = (table: string) =>
  readStore(location, table, (db) => db.prepare(`SELECT count(*) FROM ${table}`).pluck().get(), 0);
const localSyncs = () =>
  readStore(
    location,
    'sync_requests',
    (db) =>
      db
        .prepare('SELECT phone_number_id, sync_type, outcome, request_id FROM sync_requests ORDER BY id')
        .all() as {
        phone_number_id: string;
        sync_type: string;
        outcome: string;
        request_id: string | null;
      }[],
    [],
  );
/**
 * The worst case for telling numbers apart by time: the sandbox's clock stands still, and its seeded
 * coexistence number was onboarded at the very millisecond the signup will onboard the pending one.
 */
const sameSecond = async () => {
  const { now } = await sb.control<{ now: number }>('clock', { freeze: true });
  await sb.control(`numbers/${sb.seed.phoneNumbers.coex.id}`, { last_onboarded_time: now });
};

describe.each(BACKENDS)('wacx onboard end to end (sandbox, %s)', (on) => {
  beforeAll(() => {
    backend = on;
  });
  afterAll(() => {
    backend = 'sqlite';
  });

  it('QR scan → exchange → discover → subscribe → webhook fields → contact + history sync → profile', async () => {
    await sameSecond();
    const cli = startCli(['onboard', '--yes', '--json', '--qr', '--verbose'], { env });
    const [, url] = await cli.waitFor(URL_RE);
    const u = new URL(url!);
    expect(u.searchParams.get('client_id')).toBe(sb.seed.app.id);
    expect(u.searchParams.get('config_id')).toBe(sb.seed.configId);
    expect(u.searchParams.get('response_type')).toBe('code');
    expect(u.searchParams.get('override_default_response_type')).toBe('true');
    expect(JSON.parse(u.searchParams.get('extras')!)).toEqual({
      setup: {},
      featureType: 'whatsapp_business_app_onboarding',
      sessionInfoVersion: '3',
    });
    expect(u.searchParams.get('state')).toMatch(/^[A-Za-z0-9_-]{32}$/);
    const redirect = u.searchParams.get('redirect_uri')!;
    expect(redirect).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback$/);
    // loopback: no QR code, a phone could not reach 127.0.0.1; it says how to sign up from a phone
    await cli.waitFor(/No QR code: its signup would come back to http:\/\/127\.0\.0\.1:\d+\/callback/);
    expect(cli.stderr()).toContain('--callback-url https://…/onboard/callback');
    expect(cli.stderr()).not.toMatch(/[▄▀█]{8}/);

    const { callbackStatus } = await scan(url!);
    expect(callbackStatus).toBe(200);
    const r = await cli.done;
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({
      ok: true,
      complete: true,
      resumed: false,
      app_id: sb.seed.app.id,
      config_id: sb.seed.configId,
      waba_id: sb.seed.waba.id,
      phone_number_id: PENDING(),
      display_phone_number: sb.seed.phoneNumbers.pending.display,
      next_steps: ['wacx history status --watch', 'wacx doctor'],
      error: null,
    });
    expect(
      out.steps.map((s: { id: string; status: string; ran: boolean }) => [s.id, s.status, s.ran]),
    ).toEqual([
      ['signup', 'done', true],
      ['exchange', 'done', true],
      ['discover', 'done', true],
      ['subscribe', 'done', true],
      ['webhook_fields', 'done', true],
      ['webhook_delivery', 'done', true],
      ['contact_sync', 'done', true],
      ['history_sync', 'done', true],
      ['profile', 'done', true],
    ]);
    expect(out.steps[0].detail.session_info).toEqual({
      event: 'FINISH_WHATSAPP_BUSINESS_APP_ONBOARDING',
      waba_id: sb.seed.waba.id,
      phone_number_id: PENDING(),
    });
    expect(out.steps[2].detail).toMatchObject({
      waba_from: 'signup',
      picked_by: 'signup',
      is_on_biz_app: true,
      platform_type: 'CLOUD_API',
    });

    // the sandbox received exactly one request of each sync, with the ids wacx reports and recorded
    const remote = await syncsAt(PENDING());
    expect(out.syncs.contacts.request_id).toBe(remote.smb_app_state_sync!.requestId);
    expect(out.syncs.history.request_id).toBe(remote.history!.requestId);
    expect(localSyncs()).toEqual([
      {
        phone_number_id: PENDING(),
        sync_type: 'smb_app_state_sync',
        outcome: 'accepted',
        request_id: out.syncs.contacts.request_id,
      },
      {
        phone_number_id: PENDING(),
        sync_type: 'history',
        outcome: 'accepted',
        request_id: out.syncs.history.request_id,
      },
    ]);
    // never /register (the --verbose traces show every call); contacts before history
    expect(r.stderr).toMatch(/^> POST \S*\/subscribed_apps/m);
    expect(r.stderr).not.toMatch(REGISTER_CALL);
    expect(r.stderr.indexOf('Contact sync requested')).toBeLessThan(
      r.stderr.indexOf('History sync requested'),
    );

    // the business token is the profile's secret (file: no keychain in tests), ids saved; token never printed
    const profile = profileFile().profiles.default;
    expect(profile.secrets.token).toMatch(/^EAASANDBOXBIZ/);
    expect(profile.settings).toMatchObject({
      appId: sb.seed.app.id,
      configId: sb.seed.configId,
      wabaId: sb.seed.waba.id,
      phoneNumberId: PENDING(),
    });
    expect(r.stdout + r.stderr).not.toContain(profile.secrets.token);
    // the callback server is closed
    await expect(httpGet(redirect)).rejects.toThrow(/ECONNREFUSED/);

    // re-running changes nothing: no exchange, no second sync
    const again = await runCli(['onboard', '--json'], { env });
    expect(again.code).toBe(0);
    const second = JSON.parse(again.stdout);
    expect(second).toMatchObject({ complete: true, resumed: true, phone_number_id: PENDING() });
    expect(second.steps.every((s: { ran: boolean }) => !s.ran)).toBe(true);
    expect(again.stderr).toContain('already complete');
    expect(await syncsAt(PENDING())).toEqual(remote);
    expect(localSyncs()).toHaveLength(2);
  });

  it('scripted, same second: the number comes from --session-info; without it nothing is guessed (exit 2)', async () => {
    await sameSecond();
    const first = await signup(sb);
    const guess = await runCli(['onboard', '--code', first.code, '--json'], { env });
    expect(guess.code).toBe(2);
    expect(guess.stderr).toContain('--phone-number-id');
    expect(guess.stderr).toContain('several coexistence numbers');
    expect(await syncsAt(PENDING())).toEqual({});

    const r = await runCli(['onboard', '--session-info', first.session, '--json'], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--session-info goes with --code');
    const again = await runCli(['onboard', '--phone-number-id', PENDING(), '--json'], { env });
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ phone_number_id: PENDING(), complete: true });
  });

  it('a malformed --session-info is a usage error naming the flag, before any request', async () => {
    const { code } = await signup(sb);
    const r = await runCli(['onboard', '--code', code, '--session-info', '{"type":'], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--session-info');
    expect(r.stderr).toContain('not JSON');
  });

  it('shows what changes in the Business App before the URL; without a terminal it needs --yes (exit 2, nothing started)', async () => {
    const r = await runCli(['onboard', '--json'], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('What changes in the WhatsApp Business app with coexistence:');
    expect(r.stderr).toMatch(/Group chats: not synchronized/);
    expect(r.stderr).toContain('--yes');
    expect(r.stderr).not.toMatch(URL_RE);
    // nothing was started: no onboarding run in the store
    expect(countIn('onboarding_runs')).toBe(0);

    const cli = startCli(['onboard', '--yes', '--json'], { env });
    const [, url] = await cli.waitFor(URL_RE);
    const before = cli.stderr().indexOf(url!);
    expect(cli.stderr().indexOf('Disappearing messages: turned off')).toBeGreaterThan(-1);
    expect(cli.stderr().indexOf('Disappearing messages: turned off')).toBeLessThan(before);
    await scan(url!);
    const done = await cli.done;
    expect(done.code, done.stderr).toBe(0);
    const out = JSON.parse(done.stdout);
    expect(out.app_changes.map((c: { id: string }) => c.id)).toContain('broadcast_lists');
  });

  it('on a terminal asks before the signup; declining changes nothing (exit 130)', async () => {
    const asked: string[] = [];
    const prompter: Prompter = {
      input: async () => '',
      password: async () => '',
      select: async () => {
        throw new Error('no choice expected');
      },
      async confirm(q) {
        asked.push(`${q.message} [${q.flag}]`);
        return false;
      },
    };
    const { CI: _ci, ...ttyEnv } = env;
    const r = await runCli(['onboard', '--no-qr'], { env: ttyEnv, tty: true, prompter });
    expect(r.code).toBe(130);
    expect(asked).toEqual([
      'Continue with the signup (these changes apply once the phone confirms)? [--yes]',
    ]);
    expect(r.stderr).toContain('Live location: turned off');
    expect(r.stderr).toContain('nothing was changed');
    expect(r.stderr).not.toMatch(URL_RE);
  });

  it('no webhook reached the store: the one-shot syncs are not requested, it says why; the re-run resumes once one arrives', async () => {
    delivering = false; // the receiver is down: PARTNER_ADDED reaches nobody
    const { code, session } = await signup(sb);
    const r = await runCli(
      ['onboard', '--code', code, '--session-info', session, '--webhook-timeout', '300ms', '--json'],
      { env },
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('can be requested only once and their import arrives only by webhook');
    expect(r.stderr).toContain('waiting up to 300 ms');
    expect(r.stderr).toContain("No webhook reached this profile's store within");
    expect(r.stderr).toContain('--sync-without-webhooks');
    const out = JSON.parse(r.stdout);
    expect(out.steps.find((x: { id: string }) => x.id === 'webhook_delivery').status).toBe('failed');
    expect(await syncsAt(PENDING())).toEqual({});
    expect(localSyncs()).toEqual([]);
    expect(countIn('onboarding_runs')).toBe(1);

    // the receiver is back; the sandbox sends a webhook; the re-run resumes at this step and requests the syncs
    delivering = true;
    await sb.control('emit', {
      field: 'account_update',
      value: { event: 'PARTNER_APP_INSTALLED', waba_info: { waba_id: sb.seed.waba.id } },
    });
    const again = await runCli(['onboard', '--json'], { env });
    expect(again.code, again.stderr).toBe(0);
    const done = JSON.parse(again.stdout);
    expect(done.complete).toBe(true);
    expect(done.steps.find((x: { id: string }) => x.id === 'webhook_delivery').detail).toMatchObject({
      accepted_risk: false,
      seen: { field: 'account_update' },
    });
    expect(Object.keys(await syncsAt(PENDING())).sort()).toEqual(['history', 'smb_app_state_sync']);
    // the re-run resumed the run in the store, whichever the store is (on PostgreSQL no SQLite file appears)
    expect(countIn('onboarding_runs')).toBe(1);
    expect(localSyncs().map((x) => x.sync_type)).toEqual(['smb_app_state_sync', 'history']);
    expect(existsSync(dbPath)).toBe(backend === 'sqlite');
  });

  it('waits for the first delivery, then requests the syncs', async () => {
    delivering = false;
    const { code, session } = await signup(sb);
    const cli = startCli(['onboard', '--code', code, '--session-info', session, '--json'], { env });
    await cli.waitFor(/Waiting for a webhook delivery|waiting up to 2 min/);
    expect(await syncsAt(PENDING())).toEqual({});
    delivering = true;
    await sb.control('emit', {
      field: 'account_update',
      value: { event: 'PARTNER_APP_INSTALLED', waba_info: { waba_id: sb.seed.waba.id } },
    });
    const r = await cli.done;
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).complete).toBe(true);
    expect(Object.keys(await syncsAt(PENDING())).sort()).toEqual(['history', 'smb_app_state_sync']);
  });

  it('--sync-without-webhooks: the user accepts the risk; it warns and requests the syncs', async () => {
    delivering = false;
    const { code, session } = await signup(sb);
    const r = await runCli(
      ['onboard', '--code', code, '--session-info', session, '--sync-without-webhooks', '--json'],
      { env },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('--sync-without-webhooks was given: requesting the one-shot syncs anyway');
    expect(r.stderr).toContain('their import is lost and cannot be requested again');
    const out = JSON.parse(r.stdout);
    expect(out.steps.find((x: { id: string }) => x.id === 'webhook_delivery').detail).toEqual({
      seen: null,
      accepted_risk: true,
    });
    expect(Object.keys(await syncsAt(PENDING())).sort()).toEqual(['history', 'smb_app_state_sync']);
  });

  it('--callback-url: a phone scans a small QR code; the public receiver records the code for this terminal', async () => {
    receiverStore ??= Store.open(location);
    const receiver = await startWebhookServer({ db: receiverStore.db, appSecret: SEED.app.secret });
    try {
      const callbackUrl = receiver.url.replace(/\/webhook$/, '/onboard/callback');
      const cli = startCli(['onboard', '--yes', '--callback-url', callbackUrl, '--json'], {
        env,
        tty: true,
        columns: 60,
      });
      const [start] = await cli.waitFor(/http:\/\/127\.0\.0\.1:\d+\/onboard\/start\?s=[\w-]+/);
      const [, full] = await cli.waitFor(URL_RE);
      expect(new URL(full!).searchParams.get('redirect_uri')).toBe(callbackUrl);
      // the QR code (of the short link) is shown, and fits the 60-column terminal
      const qr = cli
        .stderr()
        .split('\n')
        .filter((l) => /[▄▀█]/.test(l));
      expect(qr.length).toBeGreaterThan(10);
      expect(Math.max(...qr.map((l) => [...l].length))).toBeLessThanOrEqual(60);

      // the phone: short link → signup dialog → redirect to the public receiver
      const hop = await httpGet(start!);
      expect(hop.status).toBe(302);
      expect(hop.location).toBe(full);
      const { callback, callbackStatus } = await scan(hop.location!);
      expect(callback.startsWith(`${callbackUrl}?`)).toBe(true);
      expect(callbackStatus).toBe(200);
      const r = await cli.done;
      expect(r.code, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout);
      expect(out).toMatchObject({ complete: true, phone_number_id: PENDING() });
      expect(out.steps[0].detail).toMatchObject({
        redirect_uri: callbackUrl,
        session_info: { phone_number_id: PENDING() },
      });
      // the code does not stay in the store; the link is dead after use
      expect(countIn('onboarding_callbacks')).toBe(0);
      expect((await httpGet(start!)).status).toBe(410);
    } finally {
      await receiver.close();
    }
  });

  it('a QR code wider than the terminal is not printed: it says how to enlarge it and gives the link', async () => {
    const cli = startCli(
      [
        'onboard',
        '--yes',
        '--callback-url',
        'https://hooks.example.com/onboard/callback',
        '--timeout',
        '300ms',
      ],
      { env, tty: true, columns: 20 },
    );
    const r = await cli.done;
    expect(r.stderr).toMatch(/The QR code needs \d+ columns and this terminal has 20: widen the window/);
    expect(r.stderr).toMatch(/https:\/\/hooks\.example\.com\/onboard\/start\?s=[\w-]+/);
    expect(r.stderr).not.toMatch(/[▄▀█]{8}/);
    expect(r.code).toBe(1); // nobody scanned it
    expect(r.stderr).toContain('No signup callback reached the receiver within');
  });

  it('prints the next steps for people (no --json)', async () => {
    const { code, session } = await signup(sb);
    const r = await runCli(['onboard', '--code', code, '--session-info', session], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(
      `Onboarded ${sb.seed.phoneNumbers.pending.display} (phone number id ${PENDING()}`,
    );
    expect(r.stdout).toMatch(/Contact sync request id: \w+/);
    expect(r.stdout).toContain('wacx history status --watch');
    expect(r.stdout).toContain('wacx doctor');
    expect(r.stderr).toContain('skipped (--code given)');
  });

  it('a wrong state is refused: nothing exchanged, no token stored', async () => {
    const cli = startCli(['onboard', '--yes', '--json'], { env });
    const [, url] = await cli.waitFor(URL_RE);
    const dialog = await httpGet(url!);
    expect(dialog.status).toBe(302);
    const forged = new URL(dialog.location!);
    const code = forged.searchParams.get('code')!;
    forged.searchParams.set('state', 'forged-state');
    expect((await httpGet(forged.href)).status).toBe(400);
    const r = await cli.done;
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('wrong state');
    const out = JSON.parse(r.stdout);
    expect(out.ok).toBe(false);
    expect(out.steps.find((s: { id: string }) => s.id === 'signup').status).toBe('failed');
    expect(out.steps.find((s: { id: string }) => s.id === 'exchange').status).toBe('pending');
    expect(profileFile().profiles?.default?.secrets?.token).toBeUndefined();
    // the code was never spent: it can still be exchanged
    const exchange = await httpGet(
      `${sb.url}/v25.0/oauth/access_token?client_id=${sb.seed.app.id}&client_secret=${sb.seed.app.secret}&code=${code}`,
    );
    expect(exchange.status).toBe(200);
  });

  it('an expired code (31 s later) is explained; nothing stored; the exchange stays to do', async () => {
    const { code, session } = await signup(sb);
    await sb.control('clock', { advance_ms: 31_000 });
    const r = await runCli(['onboard', '--code', code, '--session-info', session, '--json'], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Meta refused the code \(.*expired.*\): a code lives 30 seconds and works once/);
    expect(r.stderr).toContain('Get a fresh code');
    const out = JSON.parse(r.stdout);
    expect(out.steps.find((s: { id: string }) => s.id === 'exchange')).toMatchObject({
      status: 'failed',
      ran: true,
    });
    expect(out.error.message).toContain('expired');
    expect(profileFile().profiles?.default?.secrets?.token).toBeUndefined();
  });

  it('a non-coexistence number stops with a clear message, never registers it; a re-run resumes after the exchange', async () => {
    const { code, session } = await signup(sb);
    const cloud = sb.seed.phoneNumbers.cloud.id;
    const r = await runCli(
      [
        'onboard',
        '--code',
        code,
        '--session-info',
        session,
        '--phone-number-id',
        cloud,
        '--json',
        '--verbose',
      ],
      {
        env,
      },
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${sb.seed.phoneNumbers.cloud.display} (${cloud}`);
    expect(r.stderr).toContain('is not a coexistence number (is_on_biz_app false, platform_type CLOUD_API)');
    expect(r.stderr).toContain('Cloud API-only number');
    expect(r.stderr).not.toMatch(REGISTER_CALL);
    const out = JSON.parse(r.stdout);
    expect(out.steps.map((s: { status: string }) => s.status)).toEqual([
      'skipped',
      'done',
      'failed',
      'pending',
      'pending',
      'pending',
      'pending',
      'pending',
      'pending',
    ]);
    expect(await syncsAt(cloud)).toEqual({});

    // resume with the right number: the exchange (a spent code) is not repeated
    const again = await runCli(['onboard', '--phone-number-id', PENDING(), '--json'], { env });
    expect(again.code, again.stderr).toBe(0);
    const done = JSON.parse(again.stdout);
    expect(done).toMatchObject({
      resumed: true,
      complete: true,
      phone_number_id: PENDING(),
      run_id: out.run_id,
    });
    expect(done.steps.filter((s: { ran: boolean }) => s.ran).map((s: { id: string }) => s.id)).toEqual([
      'discover',
      'subscribe',
      'webhook_fields',
      'webhook_delivery',
      'contact_sync',
      'history_sync',
      'profile',
    ]);
    expect(again.stderr).toContain('Resuming onboarding run');
  });

  it('a second sync attempt is refused locally (no API call) and the earlier request is kept', async () => {
    const { code, session } = await signup(sb);
    // the contact sync was already requested for this onboarding (e.g. by `wacx history sync`), same store
    const { requestSync } = await import('../../src/lib/history/sync-requests.js');
    const { Graph } = await import('../../src/lib/graph/graph.js');
    const { Store } = await import('../../src/lib/store/store.js');
    const store = Store.open(location);
    const graph = Graph.create({ baseUrl: sb.url, token: sb.seed.token });
    // made at the sandbox's time (its clock ran ahead a little with the signup)
    const at = (await sb.control<{ now: number }>('world')).now + 500;
    const clock = { now: () => at, sleep: async () => {} };
    const first = await requestSync({ graph, db: store.db, clock }, PENDING(), 'smb_app_state_sync');
    await graph.close();
    store.close();

    const r = await runCli(['onboard', '--code', code, '--session-info', session, '--json'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(
      /The contact sync was already requested for this number on .* \(request id \w+\); Meta allows it only once per onboarding \(it would answer 2593107\)\. Not requesting it again\./,
    );
    const out = JSON.parse(r.stdout);
    expect(out.syncs.contacts.request_id).toBe(first.requestId);
    expect(out.steps.find((s: { id: string }) => s.id === 'contact_sync').detail.reused).toBe(true);
    expect(out.steps.find((s: { id: string }) => s.id === 'history_sync').detail.reused).toBe(false);
    const remote = await syncsAt(PENDING());
    expect(remote.smb_app_state_sync!.requestId).toBe(first.requestId);
    expect(localSyncs().filter((s) => s.sync_type === 'smb_app_state_sync')).toHaveLength(1);
  });

  it('--no-sync, then a sync after 24 h: the API refusal (2593108) is explained', async () => {
    const { code, session } = await signup(sb);
    const r1 = await runCli(['onboard', '--code', code, '--session-info', session, '--no-sync', '--json'], {
      env,
    });
    expect(r1.code, r1.stderr).toBe(0);
    const o1 = JSON.parse(r1.stdout);
    expect(o1.complete).toBe(false);
    expect(
      o1.steps.filter((s: { status: string }) => s.status === 'skipped').map((s: { id: string }) => s.id),
    ).toEqual(['signup', 'webhook_delivery', 'contact_sync', 'history_sync']);
    expect(profileFile().profiles.default.settings.phoneNumberId).toBe(PENDING());

    await sb.control('clock', { advance_ms: 24 * 3_600_000 + 60_000 });
    const r2 = await runCli(['onboard', '--json'], { env });
    expect(r2.code).toBe(1);
    expect(r2.stderr).toContain('outside the 24-hour window after onboarding (2593108)');
    expect(r2.stderr).toContain('complete the onboarding again');
    const o2 = JSON.parse(r2.stdout);
    expect(o2).toMatchObject({ resumed: true, complete: false, error: { code: 2593108 } });
    expect(o2.steps.find((s: { id: string }) => s.id === 'contact_sync').status).toBe('failed');
    // not reached: still skipped from the first run
    expect(o2.steps.find((s: { id: string }) => s.id === 'history_sync')).toMatchObject({
      status: 'skipped',
      ran: false,
    });
    expect(await syncsAt(PENDING())).toEqual({});
  });

  it('a sync after 24 h by the local clock is refused locally, before any API call', async () => {
    const { code, session } = await signup(sb);
    expect(
      (await runCli(['onboard', '--code', code, '--session-info', session, '--no-sync'], { env })).code,
    ).toBe(0);
    const later = new FakeClock(Date.now() + 25 * 3_600_000);
    const r = await runCli(['onboard', '--json'], { env, clock: later });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/The 24-hour sync window closed .* ago .*\(2593108\)/);
    expect(await syncsAt(PENDING())).toEqual({});
    expect(localSyncs()).toEqual([]);
  });

  it('stops before the syncs when the app lacks webhook fields, saying how to fix it', async () => {
    await sb.control('scenario', {
      name: 'missing_webhook_fields',
      fields: ['history', 'smb_message_echoes'],
    });
    const { code, session } = await signup(sb);
    const r = await runCli(['onboard', '--code', code, '--session-info', session, '--json'], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Missing webhook fields: history, smb_message_echoes.');
    expect(r.stderr).toContain('App Dashboard: your app › WhatsApp › Configuration › Webhook fields');
    expect(r.stderr).toContain(`curl -X POST '${sb.url}/v25.0/${sb.seed.app.id}/subscriptions'`);
    expect(r.stdout + r.stderr).not.toContain(sb.seed.app.secret);
    const out = JSON.parse(r.stdout);
    expect(out.steps.find((s: { id: string }) => s.id === 'webhook_fields').status).toBe('failed');
    expect(await syncsAt(PENDING())).toEqual({});
  });

  it('Ctrl+C while waiting exits 130 with the server closed; the next run resumes and finishes', async () => {
    const ac = new AbortController();
    const cli = startCli(['onboard', '--yes'], { env, signal: ac.signal });
    const [, url] = await cli.waitFor(URL_RE);
    const redirect = new URL(url!).searchParams.get('redirect_uri')!;
    ac.abort(Object.assign(new Error('Interrupted by SIGINT'), { name: 'AbortError' }));
    const r = await cli.done;
    expect(r.code).toBe(130);
    expect(r.stderr).toContain('Cancelled');
    await expect(httpGet(redirect)).rejects.toThrow(/ECONNREFUSED/);

    const next = startCli(['onboard', '--yes', '--json'], { env });
    const [, url2] = await next.waitFor(URL_RE);
    expect(url2).not.toBe(url);
    await scan(url2!);
    const r2 = await next.done;
    expect(r2.code, r2.stderr).toBe(0);
    expect(JSON.parse(r2.stdout)).toMatchObject({
      resumed: true,
      complete: true,
      phone_number_id: PENDING(),
    });
  });

  it('times out waiting for the callback (--timeout) and closes the server', async () => {
    const cli = startCli(['onboard', '--yes', '--timeout', '300ms'], { env });
    const [, url] = await cli.waitFor(URL_RE);
    const r = await cli.done;
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('No signup callback within 300 ms');
    await expect(httpGet(new URL(url!).searchParams.get('redirect_uri')!)).rejects.toThrow(/ECONNREFUSED/);
  });

  it('on a TTY, asks which number when the WABA has several coexistence numbers', async () => {
    await sb.control('clock', { advance_ms: 2000 }); // the choices are listed most recently onboarded first
    const { code } = await signup(sb);
    const asked: { message: string; flag: string; choices: string[] }[] = [];
    const prompter: Prompter = {
      input: async () => '',
      password: async () => '',
      confirm: async () => false,
      async select(q) {
        asked.push({ message: q.message, flag: q.flag, choices: q.choices.map((c) => c.value) });
        return q.choices.find((c) => c.value === sb.seed.phoneNumbers.coex.id)!.value;
      },
    };
    const { CI: _ci, ...ttyEnv } = env;
    const r = await runCli(['onboard', '--code', code, '--waba-id', sb.seed.waba.id, '--no-sync', '--json'], {
      env: ttyEnv,
      tty: true,
      prompter,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(asked).toEqual([
      {
        message: 'Several coexistence numbers: which one did you just onboard?',
        flag: '--phone-number-id',
        choices: [PENDING(), sb.seed.phoneNumbers.coex.id], // most recently onboarded first
      },
    ]);
    const out = JSON.parse(r.stdout);
    expect(out.phone_number_id).toBe(sb.seed.phoneNumbers.coex.id);
    expect(out.steps.find((s: { id: string }) => s.id === 'discover').detail).toMatchObject({
      waba_from: 'flag',
      picked_by: 'prompt',
    });
  });
});

// usage errors found before the store is opened: SQLite only
describe('wacx onboard: usage errors', () => {
  it.each([
    ['http://hooks.example.com/onboard/callback', 'https'],
    ['https://hooks.example.com/webhook', '/onboard/callback'],
    ['not a url', 'not a URL'],
  ])('--callback-url %s is a usage error (exit 2)', async (url, why) => {
    const r = await runCli(['onboard', '--yes', '--callback-url', url], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--callback-url');
    expect(r.stderr).toContain(why);
  });

  it('names what is missing: app id (exit 4), bad flags (exit 2)', async () => {
    const { WACX_APP_ID: _a, ...noApp } = env;
    const r = await runCli(['onboard'], { env: noApp });
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('--app-id');
    expect((await runCli(['onboard', '--timeout', 'soon'], { env })).code).toBe(2);
    expect((await runCli(['onboard', '--callback-port', 'x'], { env })).code).toBe(2);
  });
});
