import { describe, expect, it } from 'vitest';
import { AuditJournal } from '../../src/lib/audit/journal.js';
import type { CommitBatch, IngestRow, RowUpdate } from '../../src/lib/campaign/ledger.js';
import { Ledger } from '../../src/lib/campaign/ledger.js';
import { packBatch, unpackBatch } from '../../src/lib/campaign/writer.js';
import type { Store } from '../../src/lib/store/store.js';
import { describeBackends } from '../helpers/backends.js';
import { addCampaign, phone, sentUpdate } from './helpers.js';

function campaignWithRows(store: Store, n: number) {
  const ledger = new Ledger(store.db);
  const c = { store, ledger, cid: addCampaign(ledger, 1000) };
  const rows: IngestRow[] = Array.from({ length: n }, (_, i) => ({
    row: i + 1,
    line: i + 2,
    recipient: phone(i),
    input: null,
    params: JSON.stringify([`Name ${i + 1}`]),
    state: 'pending',
    reason: null,
  }));
  c.ledger.ingestBatch(c.cid, rows, { offset: 0, line: 0, nextRow: n + 1, done: true }, 1000);
  c.ledger.acquireLease(c.cid, { owner: 'me', host: 'h', pid: 1 }, 1000, 30_000, () => true);
  const state = (row: number) =>
    c.store.db
      .prepare('SELECT state, attempts FROM campaign_rows WHERE cid = ? AND row = ?')
      .get(c.cid, row) as {
      state: string;
      attempts: number;
    };
  return { ...c, state };
}

describeBackends('ledger commits (the writer)', ({ open }) => {
  it('marks exactly the rows of a batch in flight, consecutive or not, once each', () => {
    const { ledger, cid, state } = campaignWithRows(open(), 12);
    // runs of consecutive rows (3–5, 7–8), out of order (9 before 7), single rows (1, 11)
    expect(ledger.commit(cid, { updates: [], intents: [1, 3, 4, 5, 9, 7, 8, 11] }, 2000)).toBe(true);
    const inFlight = [1, 3, 4, 5, 7, 8, 9, 11];
    for (let row = 1; row <= 12; row++) {
      expect(state(row)).toEqual(
        inFlight.includes(row) ? { state: 'in_flight', attempts: 1 } : { state: 'pending', attempts: 0 },
      );
    }
  });

  it('records an accepted send with its audit record (recipient, parameters hash) in the same commit', () => {
    const { ledger, cid, store, state } = campaignWithRows(open(), 3);
    ledger.commit(cid, { updates: [], intents: [1, 2] }, 2000);
    ledger.commit(
      cid,
      { updates: [sentUpdate(1), { ...sentUpdate(2), state: 'failed', wamid: null }], intents: [] },
      3000,
    );
    expect(state(1).state).toBe('sent');
    expect(state(2).state).toBe('failed');
    const journal = new AuditJournal(store.db);
    const records = [...journal.records()].filter((r) => r.kind === 'send');
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ subject: phone(0), at: 3000 });
    expect(JSON.parse(records[0]!.content!)).toMatchObject({ row: 1, wamid: 'wamid.1', campaign: 'c1' });
    expect(journal.verify().problem).toBeNull();
  });

  it('several commits in one transaction keep their own lease check and time', () => {
    const { ledger, cid, store, state } = campaignWithRows(open(), 4);
    // another run took the campaign over between the first commit and the second's heartbeat
    const oks = ledger.commitAll(cid, [
      { batch: { updates: [], intents: [1] }, now: 2000 },
      {
        batch: { updates: [], intents: [2], heartbeatOwner: 'someone else' },
        now: 2001,
      },
      { batch: { updates: [], intents: [3] }, now: 2002 },
    ]);
    expect(oks).toEqual([true, false, true]);
    expect([1, 2, 3, 4].map((r) => state(r).state)).toEqual(['in_flight', 'pending', 'in_flight', 'pending']);
    const times = store.db
      .prepare('SELECT row, updated_at FROM campaign_rows WHERE cid = ? AND row IN (1, 3) ORDER BY row')
      .all(cid);
    expect(times).toEqual([
      { row: 1, updated_at: 2000 },
      { row: 3, updated_at: 2002 },
    ]);
  });
});

describe('a commit packed for the writer thread', () => {
  it('a batch crosses to the thread packed and comes back with the same changes', () => {
    const other: RowUpdate = {
      row: 9,
      state: 'pending',
      reason: 'retry: 130429 Rate limit hit',
      errorCode: null,
      errorTitle: null,
      wamid: null,
      messageStatus: null,
    };
    const batch: CommitBatch = {
      updates: [sentUpdate(1), other, sentUpdate(2), { ...sentUpdate(3), messageStatus: null }],
      intents: [10, 11],
      heartbeatOwner: 'me',
    };
    const packed = packBatch(batch);
    expect(packed.sent).toEqual([1, 'wamid.1', 'accepted', 2, 'wamid.2', 'accepted', 3, 'wamid.3', null]);
    expect(packed.updates).toEqual([other]);
    const back = unpackBatch(structuredClone(packed));
    expect(back.intents).toEqual([10, 11]);
    expect(back.heartbeatOwner).toBe('me');
    const byRow = (u: readonly RowUpdate[]) => [...u].sort((a, b) => a.row - b.row);
    expect(byRow(back.updates)).toEqual(byRow(batch.updates));
    expect(unpackBatch(structuredClone(packBatch({ updates: [], intents: [] })))).toEqual({
      updates: [],
      intents: [],
    });
  });
});
