/**
 * The `pricing` object of status webhooks (meta-cloud-api.md §6.3, §15.2) is stored whole per message: billable,
 * pricing_model, category and type. Values wacx does not know are kept as they come; the raw payload stays.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { StoreLocation } from '../../src/lib/store/location.js';
import { MIGRATIONS } from '../../src/lib/store/migrations.js';
import { Store } from '../../src/lib/store/store.js';
import { describeBackends, storeEnv } from '../helpers/backends.js';
import { runCli, tempHome } from '../helpers/cli.js';
import { APP_SECRET, PN, statusPayload } from './fixtures.js';

function withPricing(wamid: string, pricing: unknown): Record<string, unknown> {
  const p = statusPayload(wamid, 'delivered') as {
    entry: { changes: { value: { statuses: object[] } }[] }[];
  };
  const status = p.entry[0]!.changes[0]!.value.statuses[0] as Record<string, unknown>;
  if (pricing === undefined) delete status.pricing;
  else status.pricing = pricing;
  return p;
}

describeBackends('wacx webhooks ingest: the pricing object of status webhooks', (b) => {
  let home: ReturnType<typeof tempHome>;
  let db: StoreLocation;
  beforeEach(() => {
    home = tempHome();
    db = b.location();
  });
  afterEach(() => home.cleanup());

  it('stores billable, pricing_model, category and type per message, unknown values as they come', async () => {
    const file = join(home.home, 'pricing.ndjson');
    const future = {
      billable: 'false',
      pricing_model: 'FUTURE_MODEL',
      category: 'marketing_lite',
      type: 'free_entry_point',
    };
    writeFileSync(
      file,
      [
        statusPayload('wamid.pmp', 'delivered'),
        withPricing('wamid.future', future),
        withPricing('wamid.odd', { billable: 'perhaps', pricing_model: 7, category: null }),
        withPricing('wamid.none', undefined),
      ]
        .map((p) => JSON.stringify(p))
        .join('\n'),
    );
    const r = await runCli(['webhooks', 'ingest', file], {
      env: { ...home.env, ...storeEnv(db), WACX_APP_SECRET: APP_SECRET },
    });
    expect(r.code, r.stderr).toBe(0);

    const store = Store.open(db);
    try {
      const rows = store.db
        .prepare(
          `SELECT wamid, pricing_billable, pricing_model, pricing_category, pricing_type, phone_number_id
           FROM message_statuses ORDER BY wamid`,
        )
        .all();
      expect(rows).toEqual([
        {
          wamid: 'wamid.future',
          pricing_billable: 0,
          pricing_model: 'FUTURE_MODEL',
          pricing_category: 'marketing_lite',
          pricing_type: 'free_entry_point',
          phone_number_id: PN,
        },
        {
          wamid: 'wamid.none',
          pricing_billable: null,
          pricing_model: null,
          pricing_category: null,
          pricing_type: null,
          phone_number_id: PN,
        },
        {
          wamid: 'wamid.odd',
          pricing_billable: null,
          pricing_model: '7',
          pricing_category: null,
          pricing_type: null,
          phone_number_id: PN,
        },
        {
          wamid: 'wamid.pmp',
          pricing_billable: 1,
          pricing_model: 'PMP',
          pricing_category: 'marketing',
          pricing_type: 'regular',
          phone_number_id: PN,
        },
      ]);
      // Every status parsed, and the raw payload of each kept as received.
      const events = store.db
        .prepare("SELECT COUNT(*) AS n, SUM(parsed) AS parsed FROM webhook_events WHERE kind = 'status'")
        .get();
      expect(events).toEqual({ n: 4, parsed: 4 });
      const raw = store.db.prepare('SELECT body FROM webhook_payloads').all() as { body: string }[];
      expect(raw.some((p) => p.body.includes('"pricing_model":"FUTURE_MODEL"'))).toBe(true);
      expect(raw.some((p) => p.body.includes('"billable":"perhaps"'))).toBe(true);
    } finally {
      store.close();
    }
  });

  it('a store made before the migration keeps its statuses, their billable and pricing_model null', () => {
    const file = b.location();
    const old = Store.open(file, { migrations: MIGRATIONS.filter((m) => m.id < 115) });
    old.db.exec(`
      INSERT INTO webhook_payloads (id, received_at, body_sha256, body, signature_verified, source) VALUES (1, 0, '', '{}', 0, 'x');
      INSERT INTO webhook_events (id, payload_id, dedupe_key, field, kind, parsed, received_at, summary, data)
        VALUES (1, 1, 'k', 'messages', 'status', 1, 0, '', 'null');
      INSERT INTO message_statuses (event_id, phone_number_id, wamid, status, timestamp, pricing_category, pricing_type)
        VALUES (1, '${PN}', 'wamid.old', 'sent', 1, 'utility', 'regular');
    `);
    old.close();
    const store = Store.open(file);
    try {
      expect(
        store.db
          .prepare(
            'SELECT wamid, pricing_billable, pricing_model, pricing_category, pricing_type FROM message_statuses',
          )
          .all(),
      ).toEqual([
        {
          wamid: 'wamid.old',
          pricing_billable: null,
          pricing_model: null,
          pricing_category: 'utility',
          pricing_type: 'regular',
        },
      ]);
    } finally {
      store.close();
    }
  });
});
