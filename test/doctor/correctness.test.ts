import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Store } from '../../src/lib/store/store.js';
import { ingestPayload, recordRejection } from '../../src/lib/webhooks/storage.js';
import { SEED } from '../../src/sandbox/seed.js';
import { runCli, tempHome } from '../helpers/cli.js';
import {
  accountUpdate,
  contact,
  DAY,
  echo,
  envelope,
  HOUR,
  historyChunk,
  ingest,
  PN,
  partnerRemoved,
  seedHealthy,
  sign,
  WABA,
} from './fixtures.js';

interface JsonCheck {
  id: string;
  status: string;
  detail: string;
}

const OTHER_WABA = '999000111222333';

/** The same payload as if it came from another WABA (entry.id is the WABA id). */
function fromOtherWaba(payload: Record<string, unknown>): Record<string, unknown> {
  const entry = (payload.entry as Record<string, unknown>[])[0]!;
  return { ...payload, entry: [{ ...entry, id: OTHER_WABA }] };
}

describe('doctor reads the right events', () => {
  const home = tempHome();
  afterAll(() => home.cleanup());
  let n = 0;

  async function doctor(fill: (db: Store['db'], now: number) => void): Promise<Map<string, JsonCheck>> {
    const db = join(home.home, `d${n++}.db`);
    const store = Store.open(db);
    fill(store.db, Date.now());
    store.close();
    const env = { ...home.env, WACX_DB: db, WACX_WABA_ID: WABA, WACX_PHONE_NUMBER_ID: PN };
    const r = await runCli(['doctor', '--offline', '--json'], { env });
    const checks = JSON.parse(r.stdout) as JsonCheck[];
    return new Map(checks.map((c) => [c.id, c]));
  }

  it('a verified redelivery after signature failures counts as accepted (the secret is right)', async () => {
    const payload = accountUpdate('ACCOUNT_RECONNECTED', Date.now() - 2 * HOUR);
    const by = await doctor((db, now) => {
      seedHealthy(db, now - 2 * HOUR);
      ingest(db, [{ payload, at: now - 2 * HOUR }]);
      for (let i = 0; i < 3; i++) recordRejection(db, 'bad_signature', now - HOUR + i);
      // Meta redelivers the same payload: a duplicate, no new event, but its signature verified
      const body = JSON.stringify(payload);
      const r = ingestPayload(db, body, {
        signature: sign(body),
        appSecret: SEED.app.secret,
        receivedAt: now - 60_000,
      });
      expect(r.outcome).toBe('duplicate');
    });
    const check = by.get('sync.signatures')!;
    expect(check.status).not.toBe('fail');
    expect(check.detail).toContain('accepted since');
  });

  it('events stored with parse problems are counted (warn), a clean store passes', async () => {
    const clean = await doctor((db, now) => seedHealthy(db, now));
    expect(clean.get('sync.parse_problems')!.status).toBe('pass');
    const by = await doctor((db, now) => {
      seedHealthy(db, now);
      const status = {
        id: 'wamid.bad',
        status: 'delivered',
        timestamp: '99999999999999',
        recipient_id: '15551234567',
      };
      ingest(db, [{ payload: envelope('messages', { statuses: [status] }), at: now - 60_000 }]);
    });
    const check = by.get('sync.parse_problems')!;
    expect(check.status).toBe('warn');
    expect(check.detail).toContain('1 event stored with parse problems');
  });

  it('a PARTNER_REMOVED or ACCOUNT_OFFBOARDED of another WABA does not fail the account check', async () => {
    const by = await doctor((db, now) => {
      seedHealthy(db, now);
      ingest(db, [
        { payload: fromOtherWaba(partnerRemoved(now - HOUR)), at: now - HOUR },
        {
          payload: fromOtherWaba(accountUpdate('ACCOUNT_OFFBOARDED', now - 30 * 60_000)),
          at: now - 30 * 60_000,
        },
      ]);
    });
    expect(by.get('sync.account_update')).toMatchObject({ status: 'pass' });
    expect(by.get('sync.account_update')!.detail).toMatch(/PARTNER_ADDED/);
  });

  it('the same PARTNER_REMOVED from the profile WABA still fails', async () => {
    const by = await doctor((db, now) => {
      seedHealthy(db, now);
      ingest(db, [{ payload: partnerRemoved(now - HOUR), at: now - HOUR }]);
    });
    expect(by.get('sync.account_update')).toMatchObject({ status: 'fail' });
    expect(by.get('sync.account_update')!.detail).toMatch(/^PARTNER_REMOVED/);
  });

  it('echoes of another WABA are no sign of this App being used', async () => {
    const by = await doctor((db, now) => {
      ingest(db, [
        { payload: echo(now - 20 * DAY), at: now - 20 * DAY },
        { payload: fromOtherWaba(echo(now - HOUR)), at: now - HOUR },
      ]);
    });
    expect(by.get('sync.echo_age')).toMatchObject({ status: 'fail' });
    expect(by.get('sync.echo_age')!.detail).toMatch(/20 days ago/);
  });

  it('App activity is dated by the echo own timestamp, not by when wacx received it (an old capture ingested now)', async () => {
    const by = await doctor((db, now) => {
      ingest(db, [
        { payload: echo(now - 538 * DAY), at: now - 60_000 },
        { payload: contact(now - 540 * DAY), at: now - 30_000 },
      ]);
    });
    const c = by.get('sync.echo_age')!;
    expect(c.status).toBe('fail');
    expect(c.detail).toMatch(/last message echo from the App 538 days ago/);
    expect(c.detail).not.toMatch(/just now/);
  });

  it('a newer contact-sync action (by its own timestamp) counts as App activity', async () => {
    const by = await doctor((db, now) => {
      ingest(db, [
        { payload: echo(now - 538 * DAY), at: now - 60_000 },
        { payload: contact(now - 2 * HOUR), at: now - 30_000 },
      ]);
    });
    expect(by.get('sync.echo_age')).toMatchObject({ status: 'pass' });
    expect(by.get('sync.echo_age')!.detail).toMatch(/last contact sync from the App 2 h ago/);
  });

  it('a history gap prints the chunk number ("chunk 2 missing"), as history status does', async () => {
    const by = await doctor((db, now) => {
      ingest(db, [
        { payload: historyChunk(0, 1, 20), at: now - 60_000 },
        { payload: historyChunk(0, 3, 40), at: now - 30_000 },
      ]);
    });
    const c = by.get('sync.history')!;
    expect(c.detail).toMatch(/chunk 2 missing/);
    expect(c.detail).not.toMatch(/object/);
  });

  it('a message envelope helper keeps its WABA (sanity of the fixture)', () => {
    const e = envelope('x', {});
    expect((e.entry as { id: string }[])[0]!.id).toBe(WABA);
  });
});
