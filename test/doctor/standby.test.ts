/**
 * Meta Business Agent (meta-cloud-api.md §15.5): doctor checks the app's `standby` / `messaging_handovers`
 * subscriptions, and the receiver stores `standby` events like messages.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../../src/lib/store/store.js';
import { SEED } from '../../src/sandbox/seed.js';
import { runCli } from '../helpers/cli.js';
import { startTestSandbox, type TestSandbox } from '../helpers/sandbox.js';
import { graph } from '../sandbox/util.js';

interface Check {
  id: string;
  status: string;
  detail: string;
  fix: string | null;
}

describe('doctor: standby subscription, with a standby webhook stored', () => {
  let sb: TestSandbox;
  let db: string;
  const app = () => graph(sb.url, { token: `${SEED.app.id}|${SEED.app.secret}` });
  const env = () => sb.env({ WACX_DB: db });
  const standbyCheck = async () => {
    const r = await runCli(['doctor', '--json'], { env: env() });
    return (JSON.parse(r.stdout) as Check[]).find((c) => c.id === 'waba.standby')!;
  };

  beforeAll(async () => {
    sb = await startTestSandbox();
    db = join(sb.home, 'standby.db');
  });
  afterAll(() => sb.close());

  it('no agent activity and no subscription: passes, saying what would be lost', async () => {
    const c = await standbyCheck();
    expect(c.status).toBe('pass');
    expect(c.detail).toContain(
      'not subscribed to standby or messaging_handovers; no Meta Business Agent activity seen',
    );
    expect(c.detail).toContain('arrive only on standby');
  });

  it('a standby webhook is delivered once subscribed, stored like a message, and shown by doctor', async () => {
    const sub = await app().post(`${SEED.app.id}/subscriptions`, {
      object: 'whatsapp_business_account',
      callback_url: `${sb.url}/__sandbox/receiver`,
      verify_token: SEED.verifyToken,
      fields: 'standby,messaging_handovers',
    });
    expect(sub.body).toEqual({ success: true });
    const sent = await sb.control<{ status: string; body: unknown }>('emit', {
      field: 'standby',
      value: { messages: [{ from: '16505551234', type: 'text', text: { body: 'Is my order ready?' } }] },
    });
    expect(sent.status).not.toBe('skipped');
    const file = join(sb.home, 'standby.ndjson');
    writeFileSync(file, `${JSON.stringify(sent.body)}\n`);
    const ingest = await runCli(['webhooks', 'ingest', file], { env: env() });
    expect(ingest.code).toBe(0);

    const store = Store.open(db);
    try {
      const rows = store.db
        .prepare("SELECT field, kind, parsed, summary FROM webhook_events WHERE field = 'standby'")
        .all();
      expect(rows).toEqual([
        { field: 'standby', kind: 'message', parsed: 1, summary: 'message text from 16505551234' },
      ]);
    } finally {
      store.close();
    }
    const c = await standbyCheck();
    expect(c.status).toBe('pass');
    expect(c.detail).toBe('standby and messaging_handovers subscribed, last standby event just now');
  });

  it('agent events stored but the subscription removed: fails, explains the loss and how to subscribe', async () => {
    const del = await app().del(`${SEED.app.id}/subscriptions?fields=standby`);
    expect(del.body).toEqual({ success: true });
    const c = await standbyCheck();
    expect(c.status).toBe('fail');
    expect(c.detail).toContain('Meta Business Agent answers on this number (1 agent event stored');
    expect(c.detail).toContain('not subscribed to standby:');
    expect(c.detail).toContain('never reach wacx');
    expect(c.fix).toContain(`POST /${SEED.app.id}/subscriptions`);
    expect(c.fix).toContain('fields=standby,messaging_handovers');
  });
});
