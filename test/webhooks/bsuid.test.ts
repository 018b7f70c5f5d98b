/**
 * Replays of webhook payloads shaped like Meta's BSUID examples (phone present and absent) through the real
 * commands, `webhooks serve` (signed HTTP posts, the store writer's thread) and `webhooks ingest` (NDJSON), with
 * the people the store then knows asserted.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { StoreLocation } from '../../src/lib/store/location.js';
import { Store } from '../../src/lib/store/store.js';
import { optedOutRecipients } from '../../src/lib/webhooks/queries.js';
import { describeBackends, storeEnv } from '../helpers/backends.js';
import { runCli, tempHome } from '../helpers/cli.js';
import { freePort, retryUntil } from '../helpers/net.js';
import {
  bsuidContact,
  bsuidEcho,
  bsuidHistory,
  bsuidInbound,
  bsuidStatus,
  PABLO,
  PARENT,
  SHEENA,
  userChangedNumber,
  userChangedUserId,
} from './bsuid-fixtures.js';
import { APP_SECRET, inboundText, sign } from './fixtures.js';
import { post } from './load-client.js';

/** Meta's shapes in arrival order: Pablo with his phone, then Sheena without one, then identity changes. */
const REPLAY: Record<string, unknown>[] = [
  inboundText('wamid.R1', PABLO.phone, 'Hello'),
  bsuidInbound(
    'wamid.R2',
    { phone: PABLO.phone, userId: PABLO.userId, parentUserId: PARENT, username: PABLO.username },
    'Hi',
  ),
  bsuidInbound('wamid.R3', { userId: SHEENA.userId, username: SHEENA.username }, 'Do you open on Sunday?'),
  bsuidStatus('wamid.R4', SHEENA.userId, SHEENA.username),
  bsuidEcho('wamid.R5', SHEENA.userId, "We're open 10 to 4"),
  bsuidContact('add', '', SHEENA.userId, SHEENA.username),
  bsuidHistory(),
  bsuidInbound('wamid.R6', { userId: SHEENA.userId }, 'STOP', 1754900200),
  userChangedNumber('wamid.R7', PABLO.phone, '16505559999', 'US.5550001112223334', PABLO.userId),
  userChangedUserId('wamid.R8', 'US.888', SHEENA.userId),
];

/** What the store knows after REPLAY, read the way every reader reads it. */
function expectPeople(location: StoreLocation): void {
  const store = Store.open(location);
  try {
    const db = store.db;
    const keysOf = db.prepare('SELECT key FROM identity_keys WHERE identity_id = ? ORDER BY key').pluck();
    const people = (
      db
        .prepare(
          `SELECT i.id, i.phone, i.user_id, i.parent_user_id, i.username, i.phoneless_at IS NOT NULL AS withheld
           FROM identities i WHERE merged_into IS NULL ORDER BY i.id`,
        )
        .all() as { id: number }[]
    ).map(({ id, ...person }) => ({ ...person, keys: (keysOf.all(id) as string[]).join(' ') }));
    expect(people).toEqual([
      {
        phone: '16505559999',
        user_id: 'US.5550001112223334',
        parent_user_id: PARENT,
        username: PABLO.username,
        withheld: 0,
        keys: `16505551234 16505559999 ${PABLO.userId} US.5550001112223334 ${PARENT}`,
      },
      {
        phone: null,
        user_id: 'US.888',
        parent_user_id: null,
        username: SHEENA.username,
        withheld: 1,
        keys: `${SHEENA.userId} US.888`,
      },
    ]);
    expect(
      db
        .prepare(
          'SELECT type, previous_phone, phone, previous_user_id, user_id FROM identity_changes ORDER BY id',
        )
        .all(),
    ).toEqual([
      {
        type: 'user_changed_number',
        previous_phone: PABLO.phone,
        phone: '16505559999',
        previous_user_id: PABLO.userId,
        user_id: 'US.5550001112223334',
      },
      {
        type: 'user_changed_user_id',
        previous_phone: null,
        phone: null,
        previous_user_id: SHEENA.userId,
        user_id: 'US.888',
      },
    ]);
    // Sheena's STOP (no phone in it) covers her old and new BSUID
    expect(optedOutRecipients(db)).toEqual(new Set([SHEENA.userId, 'US.888']));
    expect(
      db.prepare('SELECT COUNT(*) AS n FROM webhook_events WHERE parsed = 0 OR problems IS NOT NULL').get(),
    ).toEqual({
      n: 0,
    });
  } finally {
    store.close();
  }
}

describeBackends('BSUID payloads through the commands', (b) => {
  let home: ReturnType<typeof tempHome>;
  let env: NodeJS.ProcessEnv;
  let db: StoreLocation;
  beforeEach(() => {
    home = tempHome();
    db = b.location();
    env = { ...home.env, ...storeEnv(db), WACX_APP_SECRET: APP_SECRET, WACX_VERIFY_TOKEN: 'vt' };
  });
  afterEach(() => home.cleanup());

  it('webhooks ingest: every payload stored, the people linked, history and doctor counts by person', async () => {
    const file = join(home.home, 'bsuid.ndjson');
    writeFileSync(
      file,
      `${REPLAY.map((p) => {
        const body = JSON.stringify(p);
        return JSON.stringify({ body, signature: sign(body) });
      }).join('\n')}\n`,
    );
    const r = await runCli(['webhooks', 'ingest', file, '--json'], { env });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      lines: REPLAY.length,
      stored: REPLAY.length,
      rejected: 0,
      bad: 0,
    });
    expectPeople(db);

    const status = await runCli(['history', 'status', '--json'], { env });
    const j = JSON.parse(status.stdout);
    expect(j.history).toMatchObject({ threads: 2, messages: 3, progress: 100 });
    expect(j.people).toEqual({
      known: 2,
      with_phone: 1,
      bsuid_only: 1,
      phone_withheld: 1,
      with_username: 2,
      identity_changes: 2,
      last_identity_change: { type: 'user_changed_user_id', at: new Date(1754900100_000).toISOString() },
    });
    const text = await runCli(['history', 'status'], { env });
    expect(text.stdout).toContain(
      '2 people: 1 with a phone, 1 BSUID-only (no phone known), 2 with a username',
    );

    const doctor = await runCli(['doctor', '--offline', '--json'], { env });
    const check = (JSON.parse(doctor.stdout) as { id: string; status: string; detail: string }[]).find(
      (c) => c.id === 'sync.identities',
    );
    expect(check).toMatchObject({ status: 'pass' });
    expect(check?.detail).toMatch(
      /^2 people: 1 with a phone, 1 BSUID-only .*1 named without a phone.*2 number or user-id changes/,
    );
  });

  it('webhooks serve: the same payloads posted signed are answered 200 and give the same people', async () => {
    const port = await freePort();
    const controller = new AbortController();
    const running = runCli(['webhooks', 'serve', '--port', String(port), '--json'], {
      env,
      signal: controller.signal,
    });
    const url = `http://127.0.0.1:${port}/webhook`;
    await retryUntil(async () => {
      const res = await fetch(`${url}?hub.mode=subscribe&hub.verify_token=vt&hub.challenge=1`);
      if (res.status !== 200) throw new Error(`not ready: ${res.status}`);
    });
    for (const p of REPLAY) {
      const body = JSON.stringify(p);
      expect((await post(url, body, { 'x-hub-signature-256': sign(body) })).status).toBe(200);
    }
    controller.abort();
    const r = await running;
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`message text from ${SHEENA.userId}`);
    expect(r.stderr).toContain(`user_changed_user_id ${SHEENA.userId} → US.888`);
    expectPeople(db);
  });
});
