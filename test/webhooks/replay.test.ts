import { beforeEach, expect, it } from 'vitest';
import type { Store } from '../../src/lib/store/store.js';
import { syncHealth } from '../../src/lib/webhooks/queries.js';
import { verifySignature } from '../../src/lib/webhooks/signature.js';
import { ingestPayload } from '../../src/lib/webhooks/storage.js';
import { describeBackends } from '../helpers/backends.js';
import { APP_SECRET, asciiJson, echo, envelope, inboundText, PN, sign, statusPayload } from './fixtures.js';

function count(db: Store['db'], table: string): number {
  return (db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
}

function nothingStored(db: Store['db']): void {
  for (const t of [
    'webhook_payloads',
    'webhook_events',
    'message_statuses',
    'inbound_messages',
    'message_echoes',
  ]) {
    expect(count(db, t), t).toBe(0);
  }
}

describeBackends('signed replay: verification before parsing', (b) => {
  let store: Store;
  beforeEach(() => {
    store = b.open();
  });
  const ingest = (body: string | Buffer, signature: string | null) =>
    ingestPayload(store.db, body, { signature, appSecret: APP_SECRET, receivedAt: 1_000 });

  it('stores a validly signed payload and answers 200', () => {
    const body = JSON.stringify(statusPayload('wamid.A', 'sent', { callback: 'cmp:1' }));
    const r = ingest(body, sign(body));
    expect(r.outcome).toBe('stored');
    expect(r.httpStatus).toBe(200);
    expect(r.events).toHaveLength(1);
    expect(r.events[0]).toMatchObject({ field: 'messages', kind: 'status', phoneNumberId: PN, parsed: true });
    const raw = store.db.prepare('SELECT body, signature_verified FROM webhook_payloads').get() as {
      body: string;
      signature_verified: number;
    };
    expect(raw).toEqual({ body, signature_verified: 1 });
  });

  it('rejects a forged signature (other secret) with 401 and stores nothing, but counts it', () => {
    const body = JSON.stringify(statusPayload('wamid.A', 'sent'));
    const r = ingest(body, sign(body, 'not-the-app-secret'));
    expect(r).toMatchObject({ outcome: 'rejected', reason: 'bad_signature', httpStatus: 401 });
    nothingStored(store.db);
    const health = syncHealth(store.db);
    expect(health.signatureFailures.count).toBe(1);
    expect(health.signatureFailures.lastAt).toBe(1_000);
  });

  it('rejects a body altered after signing', () => {
    const body = JSON.stringify(statusPayload('wamid.A', 'sent'));
    const r = ingest(body.replace('sent', 'read'), sign(body));
    expect(r.reason).toBe('bad_signature');
    nothingStored(store.db);
  });

  it('rejects a truncated signature and a signature of the wrong length', () => {
    const body = JSON.stringify(statusPayload('wamid.A', 'sent'));
    const good = sign(body);
    expect(ingest(body, good.slice(0, -2)).reason).toBe('bad_signature'); // 31 bytes
    expect(ingest(body, good.slice(0, -1)).reason).toBe('malformed_signature'); // odd hex
    expect(ingest(body, `${good}00`).reason).toBe('bad_signature'); // 33 bytes
    expect(ingest(body, 'sha256=').reason).toBe('bad_signature');
    expect(ingest(body, good.replace('sha256=', 'sha1=')).reason).toBe('malformed_signature');
    expect(ingest(body, good.replace(/.$/, 'g')).reason).toBe('malformed_signature');
    expect(ingest(body, null).reason).toBe('missing_signature');
    expect(ingest(body, '').reason).toBe('missing_signature');
    nothingStored(store.db);
    expect(syncHealth(store.db).signatureFailures.count).toBe(8);
  });

  it('accepts upper-case hex (same digest)', () => {
    const body = JSON.stringify(statusPayload('wamid.A', 'sent'));
    const sig = sign(body);
    expect(ingest(body, `sha256=${sig.slice(7).toUpperCase()}`).outcome).toBe('stored');
  });

  it('verifies before parsing: a forged non-JSON body is a signature failure, not a JSON error', () => {
    expect(ingest('not json at all', sign('something else')).reason).toBe('bad_signature');
    const signedGarbage = 'not json at all';
    const r = ingest(signedGarbage, sign(signedGarbage));
    expect(r).toMatchObject({ outcome: 'rejected', reason: 'invalid_json', httpStatus: 400 });
    const badUtf8 = Buffer.from([0x7b, 0xff, 0xfe, 0x7d]);
    expect(ingest(badUtf8, sign(badUtf8)).reason).toBe('invalid_json');
    nothingStored(store.db);
    // JSON errors are not signature failures
    expect(syncHealth(store.db).signatureFailures.count).toBe(1);
  });

  it('rejects a body over 3 MB with 413 even when correctly signed', () => {
    const big = JSON.stringify(envelope('messages', { pad: 'x'.repeat(3 * 1024 * 1024) }));
    const r = ingest(big, sign(big));
    expect(r).toMatchObject({ outcome: 'rejected', reason: 'too_large', httpStatus: 413 });
    nothingStored(store.db);
  });

  it('signs the exact bytes: non-ASCII and emoji as \\u escapes and as raw UTF-8', () => {
    const text = 'Olá! ¿Qué tal? Grüße — 你好 👋🏽🇧🇷';
    const payload = inboundText('wamid.UNI', '5511987654321', text);
    const escaped = asciiJson(payload);
    const rawUtf8 = JSON.stringify(payload);
    expect(escaped).not.toBe(rawUtf8);
    expect(escaped).toMatch(/\\ud83d\\udc4b/); // emoji as a surrogate pair escape
    expect(/^[\x00-\x7f]*$/.test(escaped)).toBe(true);

    // a signature over the escaped text does not match the raw UTF-8 bytes, and vice versa
    expect(ingest(rawUtf8, sign(escaped)).reason).toBe('bad_signature');
    expect(ingest(escaped, sign(rawUtf8)).reason).toBe('bad_signature');
    // a signature computed over a re-encoded (latin1) string is refused too
    expect(ingest(rawUtf8, sign(Buffer.from(rawUtf8, 'latin1'))).reason).toBe('bad_signature');

    const a = ingest(escaped, sign(escaped));
    expect(a.outcome).toBe('stored');
    const stored = store.db.prepare('SELECT text FROM inbound_messages').get() as { text: string };
    expect(stored.text).toBe(text);
    // the same message as raw UTF-8 bytes (Buffer) is authentic, and a duplicate of the escaped one
    const b = ingest(Buffer.from(rawUtf8, 'utf8'), sign(Buffer.from(rawUtf8, 'utf8')));
    expect(b.outcome).toBe('duplicate');
    expect(count(store.db, 'inbound_messages')).toBe(1);
    // the raw payload is kept exactly as received
    const body = store.db.prepare('SELECT body FROM webhook_payloads').get() as { body: string };
    expect(body.body).toBe(escaped);
  });

  it('verifySignature compares in constant time only after checking lengths', () => {
    const body = Buffer.from('{}');
    expect(verifySignature(body, sign(body), APP_SECRET)).toEqual({ ok: true });
    expect(verifySignature(body, 'sha256=abcd', APP_SECRET)).toEqual({ ok: false, reason: 'bad_signature' });
  });
});

describeBackends('dedup after verification', (b) => {
  let store: Store;
  beforeEach(() => {
    store = b.open();
  });
  const ingest = (payload: unknown) => {
    const body = JSON.stringify(payload);
    return ingestPayload(store.db, body, { signature: sign(body), appSecret: APP_SECRET, receivedAt: 5 });
  };

  it('a redelivery stores nothing new', () => {
    const p = statusPayload('wamid.D', 'delivered', { callback: 'c:1' });
    expect(ingest(p).outcome).toBe('stored');
    const before = ['webhook_payloads', 'webhook_events', 'message_statuses'].map((t) => count(store.db, t));
    const again = ingest(p);
    expect(again).toMatchObject({ outcome: 'duplicate', httpStatus: 200, duplicates: 1, events: [] });
    expect(['webhook_payloads', 'webhook_events', 'message_statuses'].map((t) => count(store.db, t))).toEqual(
      before,
    );
  });

  it('the same event inside a different batch is a duplicate; the new one in the batch is stored', () => {
    ingest(statusPayload('wamid.D', 'sent'));
    const batch = {
      object: 'whatsapp_business_account',
      entry: [
        {
          id: 'W',
          changes: [
            (statusPayload('wamid.D', 'sent') as { entry: { changes: unknown[] }[] }).entry[0]!.changes[0],
            (statusPayload('wamid.D', 'delivered') as { entry: { changes: unknown[] }[] }).entry[0]!
              .changes[0],
          ],
        },
      ],
    };
    const r = ingest(batch);
    expect(r.outcome).toBe('stored');
    expect(r.events.map((e) => e.summary)).toEqual([expect.stringContaining('delivered')]);
    expect(r.duplicates).toBe(1);
    expect(count(store.db, 'message_statuses')).toBe(2);
  });

  it('an echo redelivered with reordered keys is still one event', () => {
    const p = echo('wamid.E', '16505551234', 'hi');
    ingest(p);
    const reordered = JSON.parse(JSON.stringify(p), (_k, v) =>
      v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).reverse()) : v,
    );
    expect(ingest(reordered).outcome).toBe('duplicate');
  });

  it('a forged copy of a stored payload is rejected, never counted as a duplicate', () => {
    const p = statusPayload('wamid.F', 'sent');
    ingest(p);
    const body = JSON.stringify(p);
    const r = ingestPayload(store.db, body, { signature: sign(body, 'wrong'), appSecret: APP_SECRET });
    expect(r.outcome).toBe('rejected');
  });
});
