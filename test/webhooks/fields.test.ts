import { beforeEach, expect, it } from 'vitest';
import type { Store } from '../../src/lib/store/store.js';
import { optOutKeyword } from '../../src/lib/webhooks/opt-out.js';
import { optedOutRecipients, statusesByCallbackPrefix, syncHealth } from '../../src/lib/webhooks/queries.js';
import { ingestPayload } from '../../src/lib/webhooks/storage.js';
import { describeBackends } from '../helpers/backends.js';
import {
  APP_SECRET,
  accountUpdate,
  contactSync,
  echo,
  envelope,
  inboundText,
  PN,
  sign,
  statusPayload,
} from './fixtures.js';

describeBackends('fields parsed into tables (raw payload kept)', (b) => {
  let store: Store;
  let t = 1_000;
  beforeEach(() => {
    store = b.open();
    t = 1_000;
  });
  const ingest = (payload: unknown) => {
    const body = JSON.stringify(payload);
    t += 1000;
    return ingestPayload(store.db, body, { signature: sign(body), appSecret: APP_SECRET, receivedAt: t });
  };
  const all = (sql: string) => store.db.prepare(sql).all();

  it('messages: statuses with biz_opaque_callback_data and errors', () => {
    ingest(statusPayload('wamid.1', 'sent', { callback: 'campaign=42;row=1', timestamp: 100 }));
    ingest(statusPayload('wamid.1', 'delivered', { timestamp: 101 })); // no callback data: inherits it
    ingest(
      statusPayload('wamid.2', 'failed', {
        callback: 'campaign=42;row=2',
        timestamp: 102,
        errorCode: 131049,
      }),
    );
    ingest(statusPayload('wamid.3', 'sent', { callback: 'campaign=420;row=1', timestamp: 103 }));
    ingest(statusPayload('wamid.4', 'sent', { callback: 'other=1', timestamp: 104 }));
    expect(statusesByCallbackPrefix(store.db, 'campaign=42;')).toEqual([
      {
        callbackData: 'campaign=42;row=1',
        wamid: 'wamid.1',
        status: 'sent',
        errorCode: null,
        timestamp: 100_000,
      },
      {
        callbackData: 'campaign=42;row=1',
        wamid: 'wamid.1',
        status: 'delivered',
        errorCode: null,
        timestamp: 101_000,
      },
      {
        callbackData: 'campaign=42;row=2',
        wamid: 'wamid.2',
        status: 'failed',
        errorCode: 131049,
        timestamp: 102_000,
      },
    ]);
    expect(statusesByCallbackPrefix(store.db, 'campaign=42')).toHaveLength(4);
    expect(statusesByCallbackPrefix(store.db, '')).toHaveLength(5);
    expect(statusesByCallbackPrefix(store.db, 'campaign=42%')).toHaveLength(0); // no LIKE wildcards
  });

  it('messages: inbound opt-out words in several languages, START opts back in', () => {
    const words: [string, string][] = [
      ['16505550001', 'STOP'],
      ['16505550002', ' unsubscribe! '],
      ['5215550003', 'Baja'],
      ['33600000004', 'arrêt'],
      ['4915100000005', 'Stopp'],
      ['5511900000006', 'SAIR'],
      ['39300000007', 'basta'],
      ['16505550008', 'Stop sending me offers please'], // a sentence is left to a person
      ['16505550009', 'stopped'],
    ];
    words.forEach(([from, body], i) => {
      ingest(inboundText(`wamid.in${i}`, from, body));
    });
    expect([...optedOutRecipients(store.db)].sort()).toEqual(
      [
        '16505550001',
        '16505550002',
        '5215550003',
        '33600000004',
        '4915100000005',
        '5511900000006',
        '39300000007',
      ].sort(),
    );
    ingest(inboundText('wamid.start', '16505550001', 'START', 1750030200));
    expect(optedOutRecipients(store.db).has('16505550001')).toBe(false);
    expect(all('SELECT COUNT(*) AS n FROM inbound_messages')).toEqual([{ n: 10 }]);
  });

  it('opt-out keyword matching', () => {
    expect(optOutKeyword('Stop')).toEqual({ word: 'STOP', optOut: true });
    expect(optOutKeyword('STOP PROMOTIONS')).toMatchObject({ optOut: true });
    expect(optOutKeyword('Desabonner')).toMatchObject({ optOut: true });
    expect(optOutKeyword('СТОП')).toMatchObject({ optOut: true });
    expect(optOutKeyword('unstop')).toEqual({ word: 'UNSTOP', optOut: false });
    expect(optOutKeyword('hello')).toBeNull();
    expect(optOutKeyword('')).toBeNull();
  });

  it('messages: quick-reply "Stop promotions" button counts; an image caption does not', () => {
    ingest(
      envelope('messages', {
        metadata: { phone_number_id: PN },
        messages: [
          {
            from: '16505550010',
            id: 'wamid.b',
            timestamp: '1',
            type: 'button',
            button: { text: 'Stop promotions', payload: 'x' },
          },
          {
            from: '16505550011',
            id: 'wamid.i',
            timestamp: '1',
            type: 'image',
            image: { id: '1', caption: 'STOP' },
          },
        ],
      }),
    );
    expect([...optedOutRecipients(store.db)]).toEqual(['16505550010']);
  });

  it('user_preferences: marketing stop and resume', () => {
    const pref = (value: string, ts: number) =>
      envelope('user_preferences', {
        messaging_product: 'whatsapp',
        metadata: { phone_number_id: PN },
        user_preferences: [
          {
            wa_id: '16505551234',
            detail: 'User requested to stop marketing messages',
            category: 'marketing_messages',
            value,
            timestamp: ts,
          },
        ],
      });
    ingest(pref('stop', 1731705721));
    expect(optedOutRecipients(store.db).has('16505551234')).toBe(true);
    ingest(pref('resume', 1731705800));
    expect(optedOutRecipients(store.db).has('16505551234')).toBe(false);
  });

  it('smb_message_echoes and smb_app_state_sync feed the doctor', () => {
    ingest(echo('wamid.e1', '16505551234', 'Here is the info'));
    ingest(contactSync('add', '16505551234', 'Pablo Morales'));
    ingest(contactSync('remove', '16505559999', undefined, '1738346099'));
    expect(all('SELECT to_wa_id, type, text FROM message_echoes')).toEqual([
      { to_wa_id: '16505551234', type: 'text', text: 'Here is the info' },
    ]);
    expect(all('SELECT action, phone_number, full_name FROM contact_syncs ORDER BY id')).toEqual([
      { action: 'add', phone_number: '16505551234', full_name: 'Pablo Morales' },
      { action: 'remove', phone_number: '16505559999', full_name: null },
    ]);
    const h = syncHealth(store.db, PN);
    // dated by their own timestamps (when they happened in the App), not by their arrival
    expect(h.lastEchoAt).toBe(1_700_255_121_000);
    expect(h.lastContactSyncAt).toBe(1_738_346_099_000);
    expect(h.eventCount).toBe(3);
    expect(h.lastEventAt).toBe(t);
    expect(syncHealth(store.db, 'another-number').eventCount).toBe(0);
  });

  it('account_update: PARTNER_REMOVED with disconnection_info, offboarded then reconnected', () => {
    ingest(
      accountUpdate({ event: 'PARTNER_ADDED', waba_info: { waba_id: '1', owner_business_id: '2' } }, 1000),
    );
    ingest(
      accountUpdate(
        {
          phone_number: '15550783881',
          event: 'PARTNER_REMOVED',
          disconnection_info: { reason: 'PRIMARY_INACTIVITY', initiated_by: 'SYSTEM' },
        },
        2000,
      ),
    );
    expect(syncHealth(store.db).lastAccountUpdate).toEqual({
      event: 'PARTNER_REMOVED',
      reason: 'PRIMARY_INACTIVITY',
      initiatedBy: 'SYSTEM',
      at: 2_000_000,
    });
    ingest(accountUpdate({ event: 'ACCOUNT_OFFBOARDED' }, 3000));
    expect(syncHealth(store.db).offboardedWithoutReconnect).toBe(true);
    ingest(accountUpdate({ event: 'ACCOUNT_RECONNECTED' }, 4000));
    const h = syncHealth(store.db);
    expect(h.offboardedWithoutReconnect).toBe(false);
    expect(h.lastAccountUpdate?.event).toBe('ACCOUNT_RECONNECTED');
    // the same event at another time is a new event; the same one redelivered is not
    expect(ingest(accountUpdate({ event: 'ACCOUNT_RECONNECTED' }, 4000)).outcome).toBe('duplicate');
  });

  it('message_template_status_update', () => {
    ingest(
      envelope(
        'message_template_status_update',
        {
          event: 'REJECTED',
          message_template_id: 1689556908129832,
          message_template_name: 'order_confirmation',
          message_template_language: 'en_US',
          reason: 'INVALID_FORMAT',
          message_template_category: 'UTILITY',
        },
        { time: 1751234563 },
      ),
    );
    expect(
      all(
        'SELECT template_id, template_name, language, event, reason, category, at FROM template_status_updates',
      ),
    ).toEqual([
      {
        template_id: '1689556908129832',
        template_name: 'order_confirmation',
        language: 'en_US',
        event: 'REJECTED',
        reason: 'INVALID_FORMAT',
        category: 'UTILITY',
        at: 1751234563000,
      },
    ]);
  });

  it('unknown fields and kinds get 200, stored raw and marked unparsed', () => {
    const r1 = ingest(envelope('phone_number_quality_update', { event: 'THROUGHPUT_UPGRADE' }));
    expect(r1).toMatchObject({ outcome: 'stored', httpStatus: 200 });
    expect(r1.events[0]).toMatchObject({
      parsed: false,
      kind: 'unparsed',
      field: 'phone_number_quality_update',
    });
    const r2 = ingest(envelope('messages', { metadata: { phone_number_id: PN }, something_new: [{ a: 1 }] }));
    expect(r2.events[0]).toMatchObject({ parsed: false, field: 'messages' });
    const r3 = ingest({ hello: 'world' });
    expect(r3).toMatchObject({ outcome: 'stored', httpStatus: 200 });
    const r4 = ingest([1, 2, 3]);
    expect(r4.outcome).toBe('stored');
    expect(ingest({ hello: 'world' }).outcome).toBe('duplicate');
    expect(all('SELECT parsed, COUNT(*) AS n FROM webhook_events GROUP BY parsed')).toEqual([
      { parsed: 0, n: 4 },
    ]);
    expect(all('SELECT COUNT(*) AS n FROM webhook_payloads')).toEqual([{ n: 4 }]);
  });
});
