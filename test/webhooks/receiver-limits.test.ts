import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { byteSize } from '../../src/cli/flags.js';
import { MIGRATIONS } from '../../src/lib/store/migrations.js';
import { Store } from '../../src/lib/store/store.js';
import { startWebhookServer, type WebhookServer } from '../../src/lib/webhooks/server.js';
import { ingestPayload, MAX_BODY_BYTES, REJECTION_LOG_ROWS } from '../../src/lib/webhooks/storage.js';
import { describeBackends } from '../helpers/backends.js';
import { runCli, tempHome } from '../helpers/cli.js';
import { freePort, retryUntil } from '../helpers/net.js';
import { APP_SECRET, envelope, historyChunk, PN, sign } from './fixtures.js';
import { post } from './load-client.js';

/** Deliver 2, 4, 8 and the rejection log of Deliver 3 (#15). */

describe('body size: Meta documents up to 3 MB', () => {
  let dir: string;
  let store: Store;
  let server: WebhookServer;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wacx-wh-size-'));
    store = Store.open(join(dir, 'wacx.db'));
    server = await startWebhookServer({ db: store.db, appSecret: APP_SECRET });
  });
  afterEach(async () => {
    await server.close();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('accepts and parses a 2.5 MB history chunk; 3 MB + 1 byte is 413', async () => {
    expect(MAX_BODY_BYTES).toBe(3 * 1024 * 1024);
    const messages = Array.from({ length: 2000 }, (_, i) => ({
      id: `wamid.h${i}`,
      from: '16505551234',
      body: `${i} ${'x'.repeat(1250)}`,
    }));
    const body = JSON.stringify(historyChunk(1, 1, 50, [{ id: '16505551234', messages }]));
    expect(body.length).toBeGreaterThan(2.5 * 1024 * 1024);
    expect((await post(server.url, body, { 'x-hub-signature-256': sign(body) })).status).toBe(200);
    const chunk = store.db.prepare('SELECT messages FROM history_chunks').get() as { messages: number };
    expect(chunk.messages).toBe(2000);
    const n = store.db.prepare('SELECT COUNT(*) AS n FROM history_messages').get() as { n: number };
    expect(n.n).toBe(2000);

    const value = { metadata: { phone_number_id: PN }, pad: '' };
    const empty = JSON.stringify(envelope('messages', value)).length;
    value.pad = 'p'.repeat(MAX_BODY_BYTES + 1 - empty);
    const big = JSON.stringify(envelope('messages', value));
    expect(big.length).toBe(MAX_BODY_BYTES + 1);
    const r = await post(server.url, big, { 'x-hub-signature-256': sign(big) }).catch((e: Error) => e);
    expect(r instanceof Error ? r.message : r.status).toBe(413);
    // exactly the limit is fine
    value.pad = value.pad.slice(1);
    const fits = JSON.stringify(envelope('messages', value));
    expect((await post(server.url, fits, { 'x-hub-signature-256': sign(fits) })).status).toBe(200);
  });

  it('byteSize reads 3mb, 512kb, 1.5m and bare bytes; refuses the rest', () => {
    const p = byteSize('--max-body', 1024, 64 * 1024 * 1024);
    expect(p('3mb')).toBe(3 * 1024 * 1024);
    expect(p('512KB')).toBe(512 * 1024);
    expect(p('1.5m')).toBe(1.5 * 1024 * 1024);
    expect(p('4096')).toBe(4096);
    for (const bad of ['', 'lots', '3gb', '-1mb', '10', '65mb'])
      expect(() => p(bad), bad).toThrow(/--max-body|expected/);
  });
});

describe('webhooks serve --max-body', () => {
  let home: ReturnType<typeof tempHome>;
  beforeEach(() => {
    home = tempHome();
  });
  afterEach(() => home.cleanup());

  it('refuses a bad size (exit 2) and applies a good one', async () => {
    const env = { ...home.env, WACX_DB: join(home.home, 'wacx.db'), WACX_APP_SECRET: APP_SECRET };
    const bad = await runCli(['webhooks', 'serve', '--port', '0', '--max-body', 'huge'], { env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--max-body/);

    const port = await freePort();
    const controller = new AbortController();
    const running = runCli(['webhooks', 'serve', '--port', String(port), '--max-body', '2kb', '--json'], {
      env,
      signal: controller.signal,
    });
    const url = `http://127.0.0.1:${port}/webhook`;
    await retryUntil(() => fetch(url));
    const over = JSON.stringify(envelope('messages', { pad: 'x'.repeat(2100) }));
    const r = await post(url, over, { 'x-hub-signature-256': sign(over) }).catch((e: Error) => e);
    expect(r instanceof Error ? r.message : r.status).toBe(413);
    const under = JSON.stringify(envelope('messages', { pad: 'x'.repeat(1500) }));
    expect((await post(url, under, { 'x-hub-signature-256': sign(under) })).status).toBe(200);
    controller.abort();
    expect((await running).code).toBe(0);
  });
});

describeBackends('echo details (edits, revokes, BSUIDs)', (b) => {
  let store: Store;
  beforeEach(() => {
    store = b.open();
  });
  afterEach(() => store.close());

  it('stores an edit echo’s new text, the original_message_id of edits and revokes, and to_user_id', () => {
    const payload = envelope('smb_message_echoes', {
      messaging_product: 'whatsapp',
      metadata: { display_phone_number: '15550783881', phone_number_id: PN },
      message_echoes: [
        {
          from: '15550783881',
          to_user_id: 'US.13491208655302741918',
          id: 'wamid.EDIT',
          timestamp: '1700255200',
          type: 'edit',
          edit: {
            original_message_id: 'wamid.ORIG',
            message: { context: { id: 'wamid.ORIG' }, type: 'text', text: { body: 'the corrected text' } },
          },
        },
        {
          from: '15550783881',
          to: '16505551234',
          id: 'wamid.REVOKE',
          timestamp: '1700255300',
          type: 'revoke',
          revoke: { original_message_id: 'wamid.ORIG2' },
        },
      ],
    });
    const body = JSON.stringify(payload);
    expect(ingestPayload(store.db, body, { signature: sign(body), appSecret: APP_SECRET }).outcome).toBe(
      'stored',
    );
    const rows = store.db
      .prepare(
        'SELECT wamid, type, text, to_wa_id, to_user_id, original_message_id FROM message_echoes ORDER BY id',
      )
      .all();
    expect(rows).toEqual([
      {
        wamid: 'wamid.EDIT',
        type: 'edit',
        text: 'the corrected text',
        to_wa_id: null, // a BSUID is not a phone: the phone column stays empty when Meta withholds it
        to_user_id: 'US.13491208655302741918',
        original_message_id: 'wamid.ORIG',
      },
      {
        wamid: 'wamid.REVOKE',
        type: 'revoke',
        text: null,
        to_wa_id: '16505551234',
        to_user_id: null,
        original_message_id: 'wamid.ORIG2',
      },
    ]);
  });
});

describeBackends('the rejection log is bounded', (b) => {
  it(`keeps the most recent ${REJECTION_LOG_ROWS} rows and counts every rejection`, () => {
    const store = b.open();
    const body = JSON.stringify(envelope('messages', {}));
    for (let i = 0; i < REJECTION_LOG_ROWS + 205; i++) {
      const r = ingestPayload(store.db, body, {
        signature: sign(body, 'forged'),
        appSecret: APP_SECRET,
        receivedAt: i,
      });
      expect(r.httpStatus).toBe(401);
    }
    const rows = store.db.prepare('SELECT COUNT(*) AS n, MIN(at) AS first FROM webhook_rejections').get();
    expect(rows).toEqual({ n: REJECTION_LOG_ROWS, first: 205 });
    const counts = store.db
      .prepare('SELECT reason, source, count, first_at, last_at FROM webhook_rejection_counts')
      .all();
    expect(counts).toEqual([
      {
        reason: 'bad_signature',
        source: 'http',
        count: REJECTION_LOG_ROWS + 205,
        first_at: 0,
        last_at: REJECTION_LOG_ROWS + 204,
      },
    ]);
    store.close();
  });
});

describe('upgrading a store made before #15', () => {
  it('adds the columns and carries the rejections already logged into the counts', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wacx-wh-upgrade-'));
    const path = join(dir, 'wacx.db');
    const old = Store.open(path, { migrations: MIGRATIONS.filter((m) => m.id < 110) });
    const reject = old.db.prepare('INSERT INTO webhook_rejections (at, reason, source) VALUES (?, ?, ?)');
    for (const at of [5, 7, 9]) reject.run(at, 'bad_signature', 'http');
    old.close();
    const store = Store.open(path);
    expect(store.db.prepare('SELECT * FROM webhook_rejection_counts').all()).toEqual([
      { reason: 'bad_signature', source: 'http', count: 3, first_at: 5, last_at: 9 },
    ]);
    const cols = (t: string) =>
      (store.db.pragma(`table_info(${t})`) as { name: string }[]).map((c) => c.name);
    expect(cols('webhook_events')).toContain('problems');
    expect(cols('message_echoes')).toEqual(expect.arrayContaining(['to_user_id', 'original_message_id']));
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('durability: a 200 means on disk', () => {
  it('the store commits with synchronous = FULL', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wacx-wh-sync-'));
    const store = Store.open(join(dir, 'wacx.db'));
    expect(store.db.pragma('synchronous', { simple: true })).toBe(2); // FULL
    expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });
});
