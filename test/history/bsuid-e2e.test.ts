/**
 * End to end on the sandbox in BSUID mode: the sandbox delivers to `wacx webhooks serve` over loopback HTTP; the
 * history import with BSUID-only threads, a BSUID-only user's STOP, and a user-id change, read back from the store.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { StoreLocation } from '../../src/lib/store/location.js';
import { Store } from '../../src/lib/store/store.js';
import { optedOutRecipients } from '../../src/lib/webhooks/queries.js';
import { runCli } from '../helpers/cli.js';
import { BACKENDS } from '../helpers/postgres.js';
import { sandboxWithReceiver } from '../helpers/receiver.js';
import type { TestSandbox } from '../helpers/sandbox.js';

interface Thread {
  id: string;
  wa_id?: string;
  user_id: string;
  messages: { id: string }[];
}

/** Reads the store the receiver wrote (after it stopped). */
function withStore<T>(location: StoreLocation, read: (db: Store['db']) => T): T {
  const store = Store.open(location);
  try {
    return read(store.db);
  } finally {
    store.close();
  }
}

describe.each(BACKENDS)('end-to-end: sandbox in BSUID mode → webhooks serve → store (%s)', (backend) => {
  const setup = (scenario: string) => sandboxWithReceiver(backend, { scenario });
  let sb: TestSandbox | undefined;
  afterEach(async () => {
    await sb?.close();
    sb = undefined;
  });

  it('history import with BSUID-only threads reaches 100 % with the right counts', async () => {
    const s = await setup('bsuid');
    sb = s.sb;
    expect((await runCli(['history', 'sync'], { env: s.env })).code).toBe(0);
    await s.sb.flush();

    // what the sandbox delivered: threads, their people, messages
    const delivered = (await s.sb.control('webhooks?field=history')) as {
      body: { entry: { changes: { value: { history?: { threads: Thread[] }[] } }[] }[] };
    }[];
    const threads = delivered.flatMap(
      (d) => d.body.entry[0]!.changes[0]!.value.history?.flatMap((h) => h.threads) ?? [],
    );
    const people = new Set(threads.map((t) => t.user_id));
    const messageIds = new Set(threads.flatMap((t) => t.messages.map((m) => m.id)));
    const bsuidOnlyThreads = threads.filter((t) => t.wa_id === undefined);
    expect(bsuidOnlyThreads.length).toBeGreaterThan(0);
    const users = (await s.sb.control('users')) as { user_id: string; phone_shared: boolean }[];
    const withheld = users.filter((u) => !u.phone_shared).length;
    expect(withheld).toBe(2);

    const status = await runCli(['history', 'status', '--json'], { env: s.env });
    expect(status.code).toBe(0);
    const j = JSON.parse(status.stdout);
    expect(j.history).toMatchObject({ state: 'complete', progress: 100, done: true, missing_chunk_count: 0 });
    expect(j.history.threads).toBe(people.size);
    expect(j.history.messages).toBe(messageIds.size);
    expect(j.contacts.contacts).toBe(users.length);
    expect(j.people).toMatchObject({
      known: users.length,
      with_phone: users.length - withheld,
      bsuid_only: withheld,
      phone_withheld: withheld,
    });
    await s.stop();
  });

  it("a BSUID-only user's STOP: the opt-out set holds their BSUID and every phone linked to it", async () => {
    const s = await setup('bsuid:parents=true');
    sb = s.sb;
    const [pablo] = (await s.sb.control('users')) as {
      phone: string;
      user_id: string;
      parent_user_id: string;
    }[];
    // Pablo writes with his phone shared (the store links it to his BSUID), then adopts a username
    await s.sb.control('inbound', { user: pablo!.phone, text: 'Hi, is my order ready?' });
    await s.sb.control(`users/${pablo!.phone}`, { username: 'pablo.m' });
    const stop = await s.sb.control('inbound', { user: pablo!.user_id, text: 'STOP' });
    expect(JSON.stringify(stop.body)).not.toContain(pablo!.phone);
    const served = await s.stop();
    expect(served.stderr).toContain(`from ${pablo!.phone}`);
    expect(served.stderr).toContain(`from ${pablo!.user_id} (opt-out: STOP)`);
    withStore(s.location, (db) => {
      expect(db.prepare('SELECT recipient FROM opt_outs').all()).toEqual([{ recipient: pablo!.user_id }]);
      expect(optedOutRecipients(db)).toEqual(new Set([pablo!.user_id, pablo!.phone, pablo!.parent_user_id]));
    });
  });

  it('a user-id change links the old and new BSUID (and a number change the old and new phone)', async () => {
    const s = await setup('bsuid');
    sb = s.sb;
    const [pablo] = (await s.sb.control('users')) as { phone: string; user_id: string }[];
    await s.sb.control('inbound', { user: 0, text: 'hello' });
    const moved = await s.sb.control('scenario', {
      name: 'user_changed_number',
      user: 0,
      new_phone: '16505559999',
    });
    const changed = await s.sb.control('scenario', { name: 'user_changed_user_id', user: 0 });
    await s.sb.control('inbound', { user: 0, text: 'STOP' }); // by the newest BSUID only
    await s.stop();

    const status = await runCli(['history', 'status', '--json'], { env: s.env });
    expect(JSON.parse(status.stdout).people).toMatchObject({ known: 1, bsuid_only: 1, identity_changes: 2 });
    withStore(s.location, (db) => {
      const keys = db.prepare('SELECT key, retired FROM identity_keys ORDER BY key').all() as {
        key: string;
        retired: number;
      }[];
      expect(keys).toEqual(
        [
          { key: pablo!.phone, retired: 1 },
          { key: '16505559999', retired: 1 },
          { key: pablo!.user_id, retired: 1 },
          { key: moved.user_id, retired: 1 },
          { key: changed.user_id, retired: 0 },
        ].sort((a, b) => (a.key < b.key ? -1 : 1)),
      );
      expect(db.prepare('SELECT COUNT(*) AS n FROM identities WHERE merged_into IS NULL').get()).toEqual({
        n: 1,
      });
      expect(optedOutRecipients(db)).toEqual(new Set(keys.map((k) => k.key)));
    });
  });
});
