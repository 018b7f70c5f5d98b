import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { StoreLocation } from '../../src/lib/store/location.js';
import { Store } from '../../src/lib/store/store.js';
import { storeEnv } from '../helpers/backends.js';
import { runCli } from '../helpers/cli.js';
import { contactSync, envelope, inboundText, PN, statusPayload } from '../webhooks/fixtures.js';

/**
 * A store with a known month (November 2026): webhooks go in through `wacx webhooks ingest` (the real wire
 * format), the campaign through the ledger's tables. The figures each test expects are worked out by hand in
 * the comments below.
 */
export const NOW = Date.UTC(2026, 10, 30, 12, 0, 0);

const at = (iso: string) => Math.floor(Date.parse(iso) / 1000);

export const A = '491511000001';
export const B = '491511000002';
export const C = '491511000003';
export const D = '491511000004';
export const U = [
  '491512000001',
  '491512000002',
  '491512000003',
  '491512000004',
  '491512000005',
  '491512000006',
];

function echoAt(wamid: string, to: string, iso: string) {
  return envelope('smb_message_echoes', {
    messaging_product: 'whatsapp',
    metadata: { display_phone_number: '15550783881', phone_number_id: PN },
    message_echoes: [
      { from: '15550783881', to, id: wamid, timestamp: String(at(iso)), type: 'text', text: { body: 'ok' } },
    ],
  });
}

const status = (wamid: string, s: string, to: string, iso: string, errorCode?: number) =>
  statusPayload(wamid, s, { recipient: to, timestamp: at(iso), ...(errorCode ? { errorCode } : {}) });

/**
 * Messages: 11-02 A asks twice (09:00, 09:01), the App answers at 09:05 (5 min); 11-03 B asks at 10:00, the API
 * answers at 10:02 (2 min); 11-05 C asks, nobody answers; 11-10 A asks at 12:00, the App answers at 13:00 (1 h);
 * 11-20 the campaign (4 API messages); 11-21 U[1] answers STOP (opt-out, unanswered).
 * App activity: an echo to D on 10-15 (before the period), echoes on 11-02 and 11-10, a contact sync on 11-12.
 */
export const PAYLOADS = [
  echoAt('wamid.echo.d', D, '2026-10-15T08:00:00Z'),
  inboundText('wamid.in.a1', A, 'hello', at('2026-11-02T09:00:00Z')),
  inboundText('wamid.in.a2', A, 'anyone?', at('2026-11-02T09:01:00Z')),
  echoAt('wamid.echo.a1', A, '2026-11-02T09:05:00Z'),
  inboundText('wamid.in.b1', B, 'price?', at('2026-11-03T10:00:00Z')),
  status('wamid.api.b1', 'sent', B, '2026-11-03T10:02:00Z'),
  status('wamid.api.b1', 'delivered', B, '2026-11-03T10:02:05Z'),
  status('wamid.api.b1', 'read', B, '2026-11-03T10:03:00Z'),
  inboundText('wamid.in.c1', C, 'help', at('2026-11-05T08:00:00Z')),
  inboundText('wamid.in.a3', A, 'again', at('2026-11-10T12:00:00Z')),
  echoAt('wamid.echo.a2', A, '2026-11-10T13:00:00Z'),
  contactSync('add', D, 'Dora D', String(at('2026-11-12T09:00:00Z'))),
  status('wamid.c.1', 'sent', U[0]!, '2026-11-20T10:00:01Z'),
  status('wamid.c.1', 'delivered', U[0]!, '2026-11-20T10:00:03Z'),
  status('wamid.c.1', 'read', U[0]!, '2026-11-20T11:00:00Z'),
  status('wamid.c.2', 'sent', U[1]!, '2026-11-20T10:00:02Z'),
  status('wamid.c.2', 'delivered', U[1]!, '2026-11-20T10:00:04Z'),
  status('wamid.c.3', 'sent', U[2]!, '2026-11-20T10:00:03Z'),
  status('wamid.c.3', 'failed', U[2]!, '2026-11-20T10:00:05Z', 131049),
  inboundText('wamid.in.u2', U[1]!, 'STOP', at('2026-11-21T08:00:00Z')),
];

/**
 * Campaign promo-nov (started 11-20 10:00): U0 sent (delivered, read), U1 sent (delivered, then STOP), U2 sent
 * (failed 131049), U3 refused by the API (131026), U4 accepted with no status ever, U5 skipped.
 */
function seedCampaign(db: string | StoreLocation): void {
  const store = Store.open(db);
  const t = Date.UTC(2026, 10, 20, 10, 0, 0);
  store.db
    .prepare(
      `INSERT INTO campaigns (id, created_at, updated_at, status, template, language, phone_number_id, csv_path,
         csv_size, csv_mtime, csv_sha256, options, template_json, started_at, finished_at)
       VALUES ('promo-nov', ?, ?, 'completed', 'promo', 'en_US', ?, 'promo.csv', 1, 1, 'x', '{}', '{}', ?, ?)`,
    )
    .run(t - 60_000, t + 120_000, PN, t, t + 120_000);
  const cid = (store.db.prepare(`SELECT cid FROM campaigns WHERE id = 'promo-nov'`).get() as { cid: number })
    .cid;
  const row = store.db.prepare(
    `INSERT INTO campaign_rows (cid, row, line, recipient, state, error_code, error_title, wamid, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  row.run(cid, 1, 2, U[0], 'sent', null, null, 'wamid.c.1', t + 1000);
  row.run(cid, 2, 3, U[1], 'sent', null, null, 'wamid.c.2', t + 2000);
  row.run(cid, 3, 4, U[2], 'sent', null, null, 'wamid.c.3', t + 3000);
  row.run(cid, 4, 5, U[3], 'failed', 131026, 'Message undeliverable', null, t + 4000);
  row.run(cid, 5, 6, U[4], 'sent', null, null, 'wamid.c.5', t + 5000);
  row.run(cid, 6, 7, U[5], 'skipped', null, null, null, t + 6000);
  store.close();
}

/** Fills the store at `db` (a SQLite file under `dir`, or any location) with the month described above. */
export async function seedStore(
  env: NodeJS.ProcessEnv,
  dir: string,
  db: string | StoreLocation,
): Promise<void> {
  const feed = join(dir, 'seed.ndjson');
  writeFileSync(feed, `${PAYLOADS.map((p) => JSON.stringify(p)).join('\n')}\n`);
  const at: StoreLocation = typeof db === 'string' ? { backend: 'sqlite', path: db } : db;
  const r = await runCli(['webhooks', 'ingest', feed], { env: { ...env, ...storeEnv(at) } });
  expect(r.stderr).not.toMatch(/✗/);
  expect(r.code).toBe(0);
  seedCampaign(db);
}
