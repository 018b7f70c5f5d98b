import { expect, it } from 'vitest';
import { AuditJournal } from '../../src/lib/audit/journal.js';
import { PostgresDatabase } from '../../src/lib/store/postgres.js';
import { type WriteItem, writeBatch } from '../../src/lib/webhooks/batch.js';
import { describeBackends } from '../helpers/backends.js';
import { APP_SECRET, inboundText, sign, statusPayload } from './fixtures.js';

const OPTIONS = { appSecret: APP_SECRET, maxBytes: 1024 * 1024 };

function body(payload: unknown, receivedAt = 1_750_000_000_000): Extract<WriteItem, { kind: 'body' }> {
  const raw = Buffer.from(JSON.stringify(payload));
  return { kind: 'body', raw, signature: sign(raw), receivedAt };
}

const count = (db: { prepare(sql: string): { pluck(): { get(): unknown } } }, table: string) =>
  db.prepare(`SELECT COUNT(*) FROM ${table}`).pluck().get();

describeBackends('the receiver’s group commit', ({ backend, open }) => {
  it('stores each event once, a redelivery in the same batch or an earlier one included, with its audit record', () => {
    const { db } = open();
    const first = writeBatch(db, [body(statusPayload('wamid.A', 'sent', { callback: 'c:1' }))], OPTIONS);
    expect(first.results.map((r) => r?.outcome)).toEqual(['stored']);

    const report = writeBatch(
      db,
      [
        body(statusPayload('wamid.B', 'delivered', { callback: 'c:2' })),
        body(statusPayload('wamid.A', 'sent', { callback: 'c:1' })), // stored by the first batch
        body(inboundText('wamid.IN1', '16505551234', 'hello')),
        { kind: 'rejection', reason: 'bad_signature', at: 1_750_000_000_000 },
        body(statusPayload('wamid.B', 'delivered', { callback: 'c:2' })), // the first of this batch, again
        { ...body(statusPayload('wamid.C', 'read')), signature: 'sha256=00' },
      ],
      OPTIONS,
    );
    expect(report.commits).toBe(1);
    expect(report.results.map((r) => r?.outcome ?? null)).toEqual([
      'stored',
      'duplicate',
      'stored',
      null,
      'duplicate',
      'rejected',
    ]);
    expect(count(db, 'webhook_events')).toBe(3);
    expect(count(db, 'message_statuses')).toBe(2);
    expect(count(db, 'inbound_messages')).toBe(1);
    // a redelivery keeps no payload row
    expect(count(db, 'webhook_payloads')).toBe(3);
    const journal = new AuditJournal(db);
    expect([...journal.records()].map((r) => r.kind)).toEqual(['status', 'status', 'inbound']);
    expect(journal.verify().problem).toBeNull();
  });

  it('a body that cannot be stored fails the batch, which is then written body by body: the others are kept', () => {
    const { db } = open();
    db.exec(
      backend === 'postgres'
        ? `CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'refused'; END $$ LANGUAGE plpgsql;
           CREATE TRIGGER refuse BEFORE INSERT ON inbound_messages FOR EACH ROW EXECUTE FUNCTION refuse()`
        : `CREATE TRIGGER refuse BEFORE INSERT ON inbound_messages BEGIN SELECT RAISE(ABORT, 'refused'); END`,
    );
    const report = writeBatch(
      db,
      [
        body(statusPayload('wamid.S1', 'sent')),
        body(inboundText('wamid.IN2', '16505551234', 'hi')),
        body(statusPayload('wamid.S2', 'sent')),
      ],
      OPTIONS,
    );
    expect(report.results.map((r) => r?.outcome ?? null)).toEqual(['stored', null, 'stored']);
    expect(report.commits).toBe(2);
    expect(count(db, 'message_statuses')).toBe(2);
    expect(count(db, 'webhook_events')).toBe(2);
    expect(new AuditJournal(db).verify().problem).toBeNull();
  });

  if (backend === 'postgres')
    it('on PostgreSQL a batch waits for the server a few times, however many bodies it holds', () => {
      const { db } = open();
      const pg = db as unknown as PostgresDatabase;
      expect(pg).toBeInstanceOf(PostgresDatabase);
      writeBatch(db, [body(statusPayload('wamid.warm', 'sent', { callback: 'c' }))], OPTIONS);
      for (const size of [10, 100]) {
        const before = pg.roundTrips;
        const items = Array.from({ length: size }, (_, i) =>
          body(statusPayload(`wamid.${size}.${i}`, 'delivered', { callback: `c:${i}` })),
        );
        expect(writeBatch(db, items, OPTIONS).results.every((r) => r?.outcome === 'stored')).toBe(true);
        // payloads, events, details with the audit chain's head, audit records with the commit
        expect(pg.roundTrips - before).toBe(4);
      }
    });
});
