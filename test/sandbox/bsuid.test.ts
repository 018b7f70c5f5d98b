/** The sandbox's BSUID mode (scenario `bsuid`): the fields Meta sends, withheld phones, identity changes on demand. */
import { afterEach, describe, expect, it } from 'vitest';
import { isBsuid, isParentBsuid } from '../../src/lib/identity/bsuid.js';
import { SEED } from '../../src/sandbox/seed.js';
import { startTestSandbox } from '../helpers/sandbox.js';
import { graph, type Received, startReceiver } from './util.js';

const COEX = SEED.phoneNumbers.coex.id;
const person = (i: number) => ({ ...SEED.contacts[i]!, ...SEED.users[i]! });
const PABLO = person(0);
const SHEENA = person(1);

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(opts: Parameters<typeof startTestSandbox>[0] = {}) {
  const rx = await startReceiver();
  const sb = await startTestSandbox({ webhookUrl: rx.url, ...opts });
  cleanups.push(
    () => rx.close(),
    () => sb.close(),
  );
  return { rx, sb, g: graph(sb.url) };
}
const fieldOf = (r: Received) => r.body.entry[0].changes[0].field as string;
const changeValue = (r: Received) => r.body.entry[0].changes[0].value;
const values = (rx: { received: Received[] }, field: string) =>
  rx.received.filter((r) => fieldOf(r) === field).map(changeValue);

describe('sandbox BSUID mode', () => {
  it('off by default: no BSUID field anywhere, every phone present', async () => {
    const { rx, sb } = await setup();
    await sb.control('inbound', { user: SHEENA.wa_id, text: 'hi' });
    const [v] = values(rx, 'messages');
    expect(v.contacts).toEqual([{ profile: { name: 'Sheena Nelson' }, wa_id: SHEENA.wa_id }]);
    expect(v.messages[0]).toMatchObject({ from: SHEENA.wa_id, type: 'text', text: { body: 'hi' } });
    expect(rx.received[0]!.raw).not.toMatch(/user_id|username/);
  });

  it('inbound: BSUIDs in contacts and messages; a user with a username has no wa_id and no from', async () => {
    const { rx, sb } = await setup({ scenario: 'bsuid:parents=true' });
    await sb.control('inbound', { user: PABLO.wa_id, text: 'Hello' });
    await sb.control('inbound', { user: 'sheena.plants', text: 'STOP' });
    const [pablo, sheena] = values(rx, 'messages');
    expect(pablo.contacts).toEqual([
      {
        profile: { name: PABLO.full_name },
        wa_id: PABLO.wa_id,
        user_id: PABLO.user_id,
        parent_user_id: PABLO.parent_user_id,
      },
    ]);
    expect(pablo.messages[0]).toMatchObject({
      from: PABLO.wa_id,
      from_user_id: PABLO.user_id,
      from_parent_user_id: PABLO.parent_user_id,
    });
    expect(sheena.contacts).toEqual([
      {
        profile: { name: SHEENA.full_name, username: 'sheena.plants' },
        user_id: SHEENA.user_id,
        parent_user_id: SHEENA.parent_user_id,
      },
    ]);
    expect(sheena.messages[0]).not.toHaveProperty('from');
    expect(sheena.messages[0]).toMatchObject({ from_user_id: SHEENA.user_id, text: { body: 'STOP' } });
    expect(isBsuid(sheena.messages[0].from_user_id)).toBe(true);
    expect(isParentBsuid(sheena.messages[0].from_parent_user_id)).toBe(true);
  });

  it('empty_phones: a withheld phone is sent as ""', async () => {
    const { rx, sb } = await setup({ scenario: 'bsuid:empty_phones=true' });
    await sb.control('inbound', { user: SHEENA.user_id, text: 'hi' });
    const [v] = values(rx, 'messages');
    expect(v.contacts[0].wa_id).toBe('');
    expect(v.messages[0].from).toBe('');
  });

  it('contact sync, history and echoes carry BSUIDs; withheld users give BSUID-only threads', async () => {
    const { rx, sb, g } = await setup();
    await sb.control('scenario', { name: 'bsuid' });
    await g.post(`${COEX}/smb_app_data`, { messaging_product: 'whatsapp', sync_type: 'smb_app_state_sync' });
    await g.post(`${COEX}/smb_app_data`, { messaging_product: 'whatsapp', sync_type: 'history' });
    await sb.flush();
    const [sync] = values(rx, 'smb_app_state_sync');
    const contacts = sync.state_sync.map((s: { contact: Record<string, unknown> }) => s.contact);
    expect(contacts).toHaveLength(SEED.contacts.length);
    expect(contacts[0]).toEqual({
      full_name: PABLO.full_name,
      first_name: PABLO.first_name,
      phone_number: PABLO.wa_id,
      user_id: PABLO.user_id,
      country_code: 'US',
    });
    expect(contacts[1]).toEqual({
      full_name: SHEENA.full_name,
      first_name: SHEENA.first_name,
      user_id: SHEENA.user_id,
      username: 'sheena.plants',
      country_code: 'US',
    });
    const threads = values(rx, 'history').flatMap((v) =>
      (v.history ?? []).flatMap((h: { threads: unknown[] }) => h.threads),
    );
    const bsuidOnly = threads.filter((t: { wa_id?: string }) => t.wa_id === undefined);
    expect(bsuidOnly.length).toBeGreaterThan(0);
    for (const t of bsuidOnly) {
      expect(isBsuid(t.id)).toBe(true);
      expect(t.id).toBe(t.user_id);
      expect(t.username).toEqual(expect.any(String));
      for (const m of t.messages) {
        expect(m.from === undefined ? m.from_user_id : m.to_user_id).toBe(t.user_id);
        expect(m.to).toBeUndefined();
        if (m.from !== undefined) expect(m.from).toBe(SEED.phoneNumbers.coex.e164);
      }
    }
    const withPhone = threads.find((t: { wa_id?: string }) => t.wa_id === PABLO.wa_id);
    expect(withPhone).toMatchObject({ id: PABLO.wa_id, user_id: PABLO.user_id });
  });

  it('user_changed_number and user_changed_user_id on demand; later webhooks use the new identity', async () => {
    const { rx, sb } = await setup({ scenario: 'bsuid' });
    const r = await sb.control('scenario', {
      name: 'user_changed_number',
      user: PABLO.wa_id,
      new_phone: '16505559999',
    });
    expect(r).toMatchObject({
      previous: { phone: PABLO.wa_id, user_id: PABLO.user_id },
      phone: '16505559999',
    });
    const [changed] = values(rx, 'messages');
    expect(changed.contacts).toBeUndefined();
    expect(changed.messages[0]).toMatchObject({
      from: PABLO.wa_id,
      type: 'system',
      system: {
        type: 'user_changed_number',
        wa_id: '16505559999',
        user_id: r.user_id,
        previous_user_id: PABLO.user_id,
      },
    });
    expect(isBsuid(r.user_id)).toBe(true);
    expect(r.user_id).not.toBe(PABLO.user_id);

    const u = await sb.control('scenario', { name: 'user_changed_user_id', user: '16505559999' });
    const [, idChange] = values(rx, 'messages');
    expect(idChange.messages[0]).not.toHaveProperty('from');
    expect(idChange.messages[0].system).toEqual({
      type: 'user_changed_user_id',
      body: expect.any(String),
      user_id: u.user_id,
      previous_user_id: r.user_id,
    });
    // no phone can be shared any more
    await sb.control('inbound', { user: u.user_id, text: 'still me' });
    const [, , after] = values(rx, 'messages');
    expect(after.messages[0]).not.toHaveProperty('from');
    expect(after.messages[0].from_user_id).toBe(u.user_id);
    expect(await sb.control('users')).toContainEqual(
      expect.objectContaining({ phone: '16505559999', user_id: u.user_id, phone_shared: false }),
    );
  });

  it('refuses an unknown user or a taken phone', async () => {
    const { sb } = await setup({ scenario: 'bsuid' });
    await expect(sb.control('inbound', { user: 'nobody', text: 'x' })).rejects.toThrow(/unknown user/);
    await expect(
      sb.control('scenario', { name: 'user_changed_number', user: 0, new_phone: SHEENA.wa_id }),
    ).rejects.toThrow(/no other user has/);
  });

  it('a user adopts a username: from then on their phone is withheld', async () => {
    const { rx, sb } = await setup({ scenario: 'bsuid' });
    await sb.control('inbound', { user: 0, text: 'before' });
    await sb.control(`users/${PABLO.wa_id}`, { username: 'pablo.m' });
    await sb.control('inbound', { user: 0, text: 'after' });
    const [before, after] = values(rx, 'messages');
    expect(before.messages[0].from).toBe(PABLO.wa_id);
    expect(after.messages[0]).not.toHaveProperty('from');
    expect(after.contacts[0]).toEqual({
      profile: { name: PABLO.full_name, username: 'pablo.m' },
      user_id: PABLO.user_id,
    });
  });
});
