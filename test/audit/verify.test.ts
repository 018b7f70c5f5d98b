import { expect, it } from 'vitest';
import { recordHash, sha256 } from '../../src/lib/audit/chain.js';
import { AuditJournal } from '../../src/lib/audit/journal.js';
import type { Store } from '../../src/lib/store/store.js';
import { type BackendCase, describeBackends } from '../helpers/backends.js';

/** A store with `n` records: sends to distinct recipients, one a second. */
function journal(b: BackendCase, n = 10): { store: Store; j: AuditJournal } {
  const store = b.open();
  const j = new AuditJournal(store.db);
  j.append(
    Array.from({ length: n }, (_, i) => ({
      at: 1_765_000_000_000 + i * 1000,
      kind: 'send' as const,
      subject: `4915100000${String(i).padStart(3, '0')}`,
      content: { template: 'order_update', language: 'en_US', wamid: `wamid.${i}` },
    })),
  );
  return { store, j };
}

interface RawRecord {
  at: number;
  kind: string;
  subject: string;
  hash: string;
  prev_hash: string;
}

const sql = (store: Store, text: string, ...args: unknown[]) => store.db.prepare(text).run(...args);

describeBackends('audit verify: what was done to the chain, and where', (b) => {
  it('an intact chain: count and head', () => {
    const { j } = journal(b, 10);
    const r = j.verify();
    expect(r.problem).toBeNull();
    expect(r.count).toBe(10);
    expect(r.head?.seq).toBe(10);
    expect(r.head?.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('a changed content is found at its record', () => {
    const { store, j } = journal(b);
    sql(store, `UPDATE audit_records SET content = replace(content, 'wamid.4', 'wamid.X') WHERE seq = 5`);
    expect(j.verify().problem).toMatchObject({ kind: 'changed', seq: 5 });
  });

  it('a changed content with its content hash and hash recomputed is found at that record', () => {
    const { store, j } = journal(b);
    const content = '{"template":"other"}';
    const r5 = store.db.prepare('SELECT * FROM audit_records WHERE seq = 5').get() as RawRecord;
    const contentHash = sha256(content);
    const hash = recordHash({
      at: r5.at,
      kind: r5.kind,
      subject: r5.subject,
      contentHash,
      prevHash: r5.prev_hash,
    });
    sql(
      store,
      'UPDATE audit_records SET content = ?, content_hash = ?, hash = ? WHERE seq = 5',
      content,
      contentHash,
      hash,
    );
    expect(j.verify().problem).toMatchObject({ kind: 'changed', seq: 5 });
  });

  it('a changed time (or subject) is found', () => {
    const { store, j } = journal(b);
    sql(store, 'UPDATE audit_records SET at = at + 1 WHERE seq = 3');
    expect(j.verify().problem).toMatchObject({ kind: 'changed', seq: 3 });
  });

  it('a deleted record is named', () => {
    const { store, j } = journal(b);
    sql(store, 'DELETE FROM audit_records WHERE seq = 7');
    expect(j.verify().problem).toMatchObject({ kind: 'deleted', seq: 7, detail: 'record 7 is missing' });
  });

  it('a deleted record with the later ones renumbered is found where the chain breaks', () => {
    const { store, j } = journal(b);
    sql(store, 'DELETE FROM audit_records WHERE seq = 7');
    sql(store, 'UPDATE audit_records SET seq = -(seq - 1) WHERE seq > 7');
    sql(store, 'UPDATE audit_records SET seq = -seq WHERE seq < 0');
    expect(j.verify().problem).toMatchObject({ seq: 6 });
  });

  it('an inserted record (properly hashed, later ones renumbered) is named', () => {
    const { store, j } = journal(b);
    const r4 = store.db.prepare('SELECT * FROM audit_records WHERE seq = 4').get() as RawRecord;
    sql(store, 'UPDATE audit_records SET seq = -(seq + 1) WHERE seq > 4');
    sql(store, 'UPDATE audit_records SET seq = -seq WHERE seq < 0');
    const content = '{"template":"forged"}';
    const contentHash = sha256(content);
    const at = r4.at + 500;
    const hash = recordHash({ at, kind: 'send', subject: 'x', contentHash, prevHash: r4.hash });
    sql(
      store,
      'INSERT INTO audit_records VALUES (5, ?, ?, ?, ?, ?, ?, ?)',
      at,
      'send',
      'x',
      content,
      contentHash,
      r4.hash,
      hash,
    );
    expect(j.verify().problem).toMatchObject({ kind: 'inserted', seq: 5 });
  });

  it('an inserted record that does not even link is named', () => {
    const { store, j } = journal(b);
    sql(store, 'UPDATE audit_records SET seq = -(seq + 1) WHERE seq > 4');
    sql(store, 'UPDATE audit_records SET seq = -seq WHERE seq < 0');
    const content = '{}';
    const contentHash = sha256(content);
    const hash = recordHash({ at: 1, kind: 'send', subject: 'x', contentHash, prevHash: 'f'.repeat(64) });
    sql(
      store,
      'INSERT INTO audit_records VALUES (5, 1, ?, ?, ?, ?, ?, ?)',
      'send',
      'x',
      content,
      contentHash,
      'f'.repeat(64),
      hash,
    );
    expect(j.verify().problem).toMatchObject({ kind: 'inserted', seq: 5 });
  });

  it('two swapped records are found as moved, at the first of them', () => {
    const { store, j } = journal(b);
    sql(store, 'UPDATE audit_records SET seq = -1 WHERE seq = 3');
    sql(store, 'UPDATE audit_records SET seq = 3 WHERE seq = 8');
    sql(store, 'UPDATE audit_records SET seq = 8 WHERE seq = -1');
    expect(j.verify().problem).toMatchObject({ kind: 'moved', seq: 3 });
  });

  it('a tail truncated after an anchor is found with the anchor; without it only the head moves back', () => {
    const { store, j } = journal(b);
    const anchor = j.head();
    if (!anchor) throw new Error('no head');
    expect(j.verify(anchor).problem).toBeNull();
    sql(store, 'DELETE FROM audit_records WHERE seq > 6');
    expect(j.verify().problem).toBeNull();
    expect(j.verify(anchor).problem).toMatchObject({ kind: 'truncated', seq: 10 });
  });

  it('a chain rewritten from the anchored record on no longer extends the anchor', () => {
    const { store, j } = journal(b);
    const anchor = j.head();
    if (!anchor) throw new Error('no head');
    sql(store, 'DELETE FROM audit_records WHERE seq >= 6');
    j.append([{ at: 2, kind: 'send', subject: 'y', content: {} }]);
    j.append(Array.from({ length: 4 }, () => ({ at: 3, kind: 'send' as const, subject: 'z', content: {} })));
    expect(j.verify().problem).toBeNull();
    expect(j.verify(anchor).problem).toMatchObject({ kind: 'changed', seq: 10 });
  });

  it('appends from two journals on one store chain onto each other (several processes)', () => {
    const { store, j } = journal(b, 3);
    const other = new AuditJournal(store.db);
    other.append([{ at: 5, kind: 'inbound', subject: 'a', content: { text: 'hi' } }]);
    j.append([{ at: 6, kind: 'status', subject: 'a', content: { status: 'read' } }]);
    expect(j.verify()).toMatchObject({ count: 5, problem: null });
  });
});
