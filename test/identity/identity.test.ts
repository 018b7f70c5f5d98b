/** The identity model: BSUID classification, linking people across keys, and the readers that count through it. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { historyStatus } from '../../src/lib/history/queries.js';
import { BSUID_PATTERN, isBsuid, isParentBsuid } from '../../src/lib/identity/bsuid.js';
import { keysOfPerson, knownIdentityForPhone, peopleCounts } from '../../src/lib/identity/index.js';
import { personKey, phoneKey } from '../../src/lib/identity/keys.js';
import { MIGRATIONS } from '../../src/lib/store/migrations.js';
import { Store } from '../../src/lib/store/store.js';
import { optedOutRecipients } from '../../src/lib/webhooks/queries.js';
import { ingestPayload } from '../../src/lib/webhooks/storage.js';
import { describeBackends } from '../helpers/backends.js';
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
} from '../webhooks/bsuid-fixtures.js';
import { contactSync, envelope, inboundText } from '../webhooks/fixtures.js';

describe('BSUID classification', () => {
  it('tells BSUIDs and parent BSUIDs from phones before any digit is stripped', () => {
    expect(BSUID_PATTERN.source).toBe('^[A-Z]{2}\\.(ENT\\.)?[A-Za-z0-9]{1,128}$');
    expect(isBsuid('US.13491208655302741918')).toBe(true);
    expect(isBsuid('US.ENT.998877')).toBe(true);
    expect(isBsuid('MY.2035200694071263')).toBe(true);
    expect(isBsuid('+16505551234')).toBe(false);
    expect(isBsuid('us.123')).toBe(false);
    expect(isBsuid(`US.${'a'.repeat(129)}`)).toBe(false);
    expect(isParentBsuid('US.ENT.998877')).toBe(true);
    expect(isParentBsuid('US.13491208655302741918')).toBe(false);
    expect(isParentBsuid('US.ENTRY')).toBe(false);
    // a digit-stripping normaliser would turn this BSUID into a plausible phone number
    expect(phoneKey('MY.2035200694071263')).toBeNull();
    expect(personKey('MY.2035200694071263')).toBe('MY.2035200694071263');
    expect(personKey('+1 (650) 555-1234')).toBe('16505551234');
    for (const empty of [null, undefined, '', '  ']) expect(personKey(empty)).toBeNull();
  });
});

describeBackends('people in the store', (b) => {
  let store: Store;
  let at = 1_000;
  beforeEach(() => {
    store = b.open();
  });
  afterEach(() => store.close());
  const ingest = (payload: unknown) => {
    const r = ingestPayload(store.db, JSON.stringify(payload), { receivedAt: at++ });
    expect(r.outcome).toBe('stored');
    return r;
  };
  const live = () =>
    store.db
      .prepare(
        'SELECT phone, user_id, parent_user_id, username FROM identities WHERE merged_into IS NULL ORDER BY id',
      )
      .all();

  it('a payload with a BSUID and no phone is complete: stored, the person known by BSUID only', () => {
    ingest(bsuidInbound('wamid.S1', { userId: SHEENA.userId, username: SHEENA.username }, 'Hello'));
    const row = store.db
      .prepare('SELECT from_wa_id, from_user_id, username, text FROM inbound_messages')
      .get();
    expect(row).toEqual({
      from_wa_id: null,
      from_user_id: SHEENA.userId,
      username: SHEENA.username,
      text: 'Hello',
    });
    expect(
      store.db.prepare('SELECT COUNT(*) AS n FROM webhook_events WHERE problems IS NOT NULL').get(),
    ).toEqual({
      n: 0,
    });
    expect(live()).toEqual([
      { phone: null, user_id: SHEENA.userId, parent_user_id: null, username: 'sheena.plants' },
    ]);
    expect(peopleCounts(store.db)).toMatchObject({ known: 1, withPhone: 0, bsuidOnly: 1, phoneWithheld: 1 });
  });

  it('"" and null phones read as missing, like an absent one', () => {
    ingest(bsuidInbound('wamid.E1', { phone: '', userId: SHEENA.userId }, 'Hi'));
    const nulls = envelope('messages', {
      messaging_product: 'whatsapp',
      metadata: { phone_number_id: '1' },
      contacts: [{ wa_id: null, user_id: SHEENA.userId }],
      messages: [
        {
          from: null,
          from_user_id: SHEENA.userId,
          id: 'wamid.E2',
          timestamp: '1',
          type: 'text',
          text: { body: 'x' },
        },
      ],
    });
    ingest(nulls);
    expect(store.db.prepare('SELECT from_wa_id FROM inbound_messages').all()).toEqual([
      { from_wa_id: null },
      { from_wa_id: null },
    ]);
    expect(peopleCounts(store.db)).toMatchObject({ known: 1, bsuidOnly: 1 });
  });

  it('an event that shows a phone and a BSUID together links two people met apart into one', () => {
    ingest(inboundText('wamid.P1', PABLO.phone, 'hello')); // phone only
    ingest(bsuidStatus('wamid.P2', PABLO.userId, PABLO.username)); // BSUID only
    expect(peopleCounts(store.db).known).toBe(2);
    ingest(
      bsuidInbound('wamid.P3', { phone: PABLO.phone, userId: PABLO.userId, parentUserId: PARENT }, 'again'),
    );
    expect(live()).toEqual([
      { phone: PABLO.phone, user_id: PABLO.userId, parent_user_id: PARENT, username: PABLO.username },
    ]);
    expect(keysOfPerson(store.db, PARENT)).toEqual([PABLO.phone, PABLO.userId, PARENT].sort());
    expect(peopleCounts(store.db)).toMatchObject({ known: 1, withPhone: 1, bsuidOnly: 0, withUsername: 1 });
  });

  it('stores BSUIDs from every kind of payload, verbatim', () => {
    ingest(bsuidStatus('wamid.A', SHEENA.userId, SHEENA.username));
    ingest(bsuidEcho('wamid.B', SHEENA.userId, 'We are open'));
    ingest(bsuidContact('add', '', SHEENA.userId, SHEENA.username));
    ingest(bsuidHistory());
    const q = (sql: string) => store.db.prepare(sql).all();
    expect(q('SELECT recipient_id, recipient_user_id FROM message_statuses')).toEqual([
      { recipient_id: SHEENA.userId, recipient_user_id: SHEENA.userId },
    ]);
    expect(q('SELECT to_wa_id, to_user_id FROM message_echoes')).toEqual([
      { to_wa_id: null, to_user_id: SHEENA.userId },
    ]);
    expect(q('SELECT phone_number, user_id, username FROM contact_syncs')).toEqual([
      { phone_number: null, user_id: SHEENA.userId, username: SHEENA.username },
    ]);
    expect(
      q('SELECT thread_id, from_wa_id, from_user_id, to_user_id FROM history_messages ORDER BY wamid'),
    ).toEqual([
      { thread_id: PABLO.userId, from_wa_id: PABLO.phone, from_user_id: PABLO.userId, to_user_id: null },
      { thread_id: SHEENA.userId, from_wa_id: null, from_user_id: SHEENA.userId, to_user_id: null },
      { thread_id: SHEENA.userId, from_wa_id: '15550783881', from_user_id: null, to_user_id: SHEENA.userId },
    ]);
    expect(peopleCounts(store.db)).toMatchObject({ known: 2, withPhone: 1, bsuidOnly: 1 });
  });

  it('history status and contacts count people, not key strings', () => {
    ingest(bsuidHistory());
    // the same two people again, Pablo's thread now keyed by phone alone
    ingest(
      envelope('history', {
        messaging_product: 'whatsapp',
        metadata: { phone_number_id: '106540352242922' },
        history: [
          {
            metadata: { phase: 1, chunk_order: 2, progress: 100 },
            threads: [
              {
                id: PABLO.phone,
                messages: [
                  { from: PABLO.phone, id: 'wamid.H9', timestamp: '1', type: 'text', text: { body: 'x' } },
                ],
              },
            ],
          },
        ],
      }),
    );
    ingest(contactSync('add', PABLO.phone, 'Pablo'));
    ingest(bsuidContact('add', '', SHEENA.userId));
    ingest(bsuidContact('add', PABLO.phone, PABLO.userId)); // Pablo again, by phone and BSUID
    const s = historyStatus(store.db);
    expect(s.history.threads).toBe(2);
    expect(s.history.messages).toBe(4);
    expect(s.contacts.contacts).toBe(2);
    ingest(bsuidContact('remove', '', PABLO.userId)); // removed by BSUID, added by phone: gone
    expect(historyStatus(store.db).contacts.contacts).toBe(1);
    expect(historyStatus(store.db).people).toMatchObject({ known: 2, withPhone: 1, bsuidOnly: 1 });
  });

  it('user_changed_number links the old and new phone and BSUID; the old ones stay as aliases', () => {
    ingest(bsuidInbound('wamid.1', { phone: PABLO.phone, userId: PABLO.userId }, 'hi'));
    ingest(userChangedNumber('wamid.2', PABLO.phone, '16505559999', 'US.5550001112223334', PABLO.userId));
    expect(live()).toEqual([
      { phone: '16505559999', user_id: 'US.5550001112223334', parent_user_id: null, username: null },
    ]);
    expect(keysOfPerson(store.db, PABLO.phone)).toEqual(
      ['16505551234', '16505559999', 'US.13491208655302741918', 'US.5550001112223334'].sort(),
    );
    expect(store.db.prepare('SELECT key, retired FROM identity_keys ORDER BY key').all()).toEqual([
      { key: '16505551234', retired: 1 },
      { key: '16505559999', retired: 0 },
      { key: 'US.13491208655302741918', retired: 1 },
      { key: 'US.5550001112223334', retired: 0 },
    ]);
    expect(knownIdentityForPhone(store.db, '+1 650-555-1234')).toEqual({
      userId: 'US.5550001112223334',
      parentUserId: null,
      bsuidOnly: false,
    });
    expect(peopleCounts(store.db)).toMatchObject({ known: 1, identityChanges: 1 });
    expect(peopleCounts(store.db).lastIdentityChange?.type).toBe('user_changed_number');
  });

  it('user_changed_user_id (no phone can be shared): the person becomes BSUID-only, history kept', () => {
    ingest(bsuidInbound('wamid.1', { phone: PABLO.phone, userId: PABLO.userId }, 'hi'));
    ingest(userChangedUserId('wamid.2', 'US.777', PABLO.userId));
    expect(live()).toEqual([{ phone: null, user_id: 'US.777', parent_user_id: null, username: null }]);
    expect(peopleCounts(store.db)).toMatchObject({ known: 1, withPhone: 0, bsuidOnly: 1 });
    expect(keysOfPerson(store.db, 'US.777')).toContain(PABLO.phone);
    expect(knownIdentityForPhone(store.db, PABLO.phone)).toEqual({
      userId: 'US.777',
      parentUserId: null,
      bsuidOnly: true,
    });
  });

  it('a retired phone that shows up with another BSUID has been given to someone new: it moves to them', () => {
    ingest(bsuidInbound('wamid.1', { phone: PABLO.phone, userId: PABLO.userId }, 'hi'));
    ingest(userChangedNumber('wamid.2', PABLO.phone, '16505559999', 'US.5550001112223334', PABLO.userId));
    ingest(bsuidInbound('wamid.3', { phone: PABLO.phone, userId: 'US.4242' }, 'new owner'));
    expect(peopleCounts(store.db).known).toBe(2);
    expect(keysOfPerson(store.db, 'US.4242')).toEqual([PABLO.phone, 'US.4242']);
    expect(keysOfPerson(store.db, 'US.5550001112223334')).not.toContain(PABLO.phone);
  });

  it('a contacts[] entry naming someone else is not taken for the sender', () => {
    ingest(
      envelope('messages', {
        messaging_product: 'whatsapp',
        metadata: { phone_number_id: '1' },
        contacts: [{ wa_id: '16505550002', user_id: 'US.2' }],
        messages: [{ from: '16505550001', id: 'wamid.X', timestamp: '1', type: 'text', text: { body: 'x' } }],
      }),
    );
    expect(keysOfPerson(store.db, '16505550001')).toEqual(['16505550001']);
    expect(store.db.prepare('SELECT from_user_id FROM inbound_messages').get()).toEqual({
      from_user_id: null,
    });
  });

  it('an older user_changed_number naming the new phone new_wa_id links it too', () => {
    ingest(
      envelope('messages', {
        messaging_product: 'whatsapp',
        metadata: { phone_number_id: '1' },
        messages: [
          {
            from: PABLO.phone,
            id: 'wamid.OLD',
            timestamp: '1',
            type: 'system',
            system: { type: 'user_changed_number', body: 'changed', new_wa_id: '16505559999' },
          },
        ],
      }),
    );
    expect(keysOfPerson(store.db, PABLO.phone)).toEqual([PABLO.phone, '16505559999']);
    expect(live()).toEqual([{ phone: '16505559999', user_id: null, parent_user_id: null, username: null }]);
  });

  it('knownIdentityForPhone: null for an unknown phone, and on a store without the identity tables', () => {
    expect(knownIdentityForPhone(store.db, '16505550000')).toBeNull();
    ingest(inboundText('wamid.1', PABLO.phone, 'hi'));
    expect(knownIdentityForPhone(store.db, PABLO.phone)).toEqual({
      userId: null,
      parentUserId: null,
      bsuidOnly: false,
    });
    const old = b.open(b.location(), { migrations: [] });
    try {
      expect(knownIdentityForPhone(old.db, PABLO.phone)).toBeNull();
      expect(peopleCounts(old.db).known).toBe(0);
    } finally {
      old.close();
    }
  });
});

describeBackends('opt-outs by person', (b) => {
  let store: Store;
  let at = 1_000;
  beforeEach(() => {
    store = b.open();
  });
  afterEach(() => store.close());
  const ingest = (payload: unknown) =>
    expect(ingestPayload(store.db, JSON.stringify(payload), { receivedAt: at++ }).outcome).toBe('stored');

  it("a BSUID-only user's STOP covers their BSUID, parent BSUID and every phone linked to them", () => {
    ingest(
      bsuidInbound('wamid.1', { phone: PABLO.phone, userId: PABLO.userId, parentUserId: PARENT }, 'hi', 100),
    );
    ingest(bsuidInbound('wamid.2', { userId: PABLO.userId, username: PABLO.username }, 'STOP', 200));
    expect(store.db.prepare('SELECT recipient, opted_out FROM opt_outs').all()).toEqual([
      { recipient: PABLO.userId, opted_out: 1 },
    ]);
    expect(optedOutRecipients(store.db)).toEqual(new Set([PABLO.phone, PABLO.userId, PARENT]));
  });

  it('a phone linked after the STOP is covered too, and an opt-in by any key clears it', () => {
    ingest(bsuidInbound('wamid.1', { userId: SHEENA.userId }, 'Stop', 100));
    expect(optedOutRecipients(store.db)).toEqual(new Set([SHEENA.userId]));
    ingest(bsuidContact('add', '16505551235', SHEENA.userId));
    expect(optedOutRecipients(store.db)).toEqual(new Set([SHEENA.userId, '16505551235']));
    ingest(inboundText('wamid.2', '16505551235', 'START', 300));
    expect(optedOutRecipients(store.db)).toEqual(new Set());
  });

  it('user_preferences stop by BSUID; phone-only opt-outs work as before', () => {
    ingest(
      envelope('user_preferences', {
        messaging_product: 'whatsapp',
        metadata: { phone_number_id: '1' },
        user_preferences: [
          { user_id: SHEENA.userId, value: 'stop', timestamp: 100, category: 'marketing_messages' },
        ],
      }),
    );
    ingest(inboundText('wamid.3', '16505550042', 'STOP'));
    expect(optedOutRecipients(store.db)).toEqual(new Set([SHEENA.userId, '16505550042']));
  });

  it('on a store without the people tables, opt-outs are read by recipient key as before', () => {
    const old = b.open(b.location(), { migrations: MIGRATIONS.filter((m) => m.id < 114) });
    try {
      old.db.exec(`
        INSERT INTO webhook_payloads (id, received_at, body_sha256, body, signature_verified, source) VALUES (1, 0, '', '{}', 0, 'x');
        INSERT INTO webhook_events (id, payload_id, dedupe_key, field, kind, parsed, received_at, summary, data)
          VALUES (1, 1, 'k', 'messages', 'message', 1, 0, '', 'null');
        INSERT INTO opt_outs (event_id, recipient, opted_out, source, keyword, at)
          VALUES (1, '16505550042', 1, 'keyword', 'STOP', 1), (1, '16505550043', 1, 'keyword', 'STOP', 1),
                 (1, '16505550043', 0, 'keyword', 'START', 2);
      `);
      expect(optedOutRecipients(old.db)).toEqual(new Set(['16505550042']));
    } finally {
      old.close();
    }
  });

  it('a user-id change keeps the opt-out: the new BSUID is the same person', () => {
    ingest(bsuidInbound('wamid.1', { userId: SHEENA.userId }, 'STOP', 100));
    ingest(userChangedUserId('wamid.2', 'US.888', SHEENA.userId, 200));
    expect(optedOutRecipients(store.db)).toEqual(new Set([SHEENA.userId, 'US.888']));
  });
});

describe('migration of an existing store', () => {
  it('people are made from what earlier versions stored: a phone beside a BSUID joins it, other phones alone', () => {
    const store = Store.open(':memory:', { migrations: MIGRATIONS.filter((m) => m.id < 114) });
    try {
      const db = store.db;
      db.exec(`
        INSERT INTO webhook_payloads (id, received_at, body_sha256, body, signature_verified, source) VALUES (1, 0, '', '{}', 0, 'x');
        INSERT INTO webhook_events (id, payload_id, dedupe_key, field, kind, parsed, received_at, summary, data)
          VALUES (1, 1, 'k', 'messages', 'message', 1, 0, '', 'null');
        INSERT INTO inbound_messages (event_id, wamid, from_wa_id, from_user_id, type, timestamp)
          VALUES (1, 'w1', '16505551234', 'US.1', 'text', 10), (1, 'w2', NULL, 'US.2', 'text', 20),
                 (1, 'w3', '16505550000', NULL, 'text', 30);
        INSERT INTO contact_syncs (event_id, action, phone_number, user_id, timestamp)
          VALUES (1, 'add', '16505551234', NULL, 40);
        INSERT INTO history_messages (event_id, phone_number_id, thread_id, wamid, type) VALUES (1, 'p', '16505557777', 'h1', 'text');
      `);
      store.migrate(MIGRATIONS);
      expect(
        db
          .prepare(
            'SELECT phone, user_id, phoneless_at IS NOT NULL AS withheld FROM identities ORDER BY phone, user_id',
          )
          .all(),
      ).toEqual([
        { phone: null, user_id: 'US.2', withheld: 1 },
        { phone: '16505550000', user_id: null, withheld: 0 },
        { phone: '16505551234', user_id: 'US.1', withheld: 0 },
        { phone: '16505557777', user_id: null, withheld: 0 },
      ]);
      expect(keysOfPerson(db, 'US.1')).toEqual(['16505551234', 'US.1']);
      expect(peopleCounts(db)).toMatchObject({ known: 4, withPhone: 3, bsuidOnly: 1 });
    } finally {
      store.close();
    }
  });
});
