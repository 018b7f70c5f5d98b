/**
 * On PostgreSQL the ledger writer is a child process of its own (libpq watches its socket from its process's main
 * thread, so it cannot be a worker thread): the sending loop never waits for the server on a commit, and a commit
 * is answered only once it is in the database.
 */
import { describe, expect, it } from 'vitest';
import { Ledger } from '../../src/lib/campaign/ledger.js';
import { startWriter } from '../../src/lib/campaign/writer.js';
import { Store } from '../../src/lib/store/store.js';
import { WorkerThreads } from '../../src/lib/threads.js';
import { freshLocation } from '../helpers/postgres.js';
import { addCampaign } from './helpers.js';

const isRunning = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('the ledger writer on PostgreSQL', () => {
  it('runs in a child process; what it answers is committed; it ends with close()', async () => {
    const store = Store.open(freshLocation('postgres', ''));
    try {
      const ledger = new Ledger(store.db);
      const cid = addCampaign(ledger, 0);
      const rows = [1, 2, 3].map((row) => ({
        row,
        line: row + 1,
        recipient: `1650555000${row}`,
        input: null,
        params: '["x"]',
        state: 'pending' as const,
        reason: null,
      }));
      ledger.ingestBatch(cid, rows, { offset: 0, line: 4, nextRow: 4, done: true }, 0);

      const writer = startWriter(store.location, cid, { threads: new WorkerThreads() });
      const pid = writer?.threadId ?? 0;
      expect(pid).toBeGreaterThan(0);
      expect(pid).not.toBe(process.pid);
      expect(isRunning(pid)).toBe(true);

      const sent = {
        row: 1,
        state: 'sent' as const,
        reason: null,
        errorCode: null,
        errorTitle: null,
        wamid: 'wamid.ONE',
        messageStatus: 'accepted',
      };
      expect(await writer?.commit({ updates: [sent], intents: [2, 3] }, 1000)).toBe(true);
      const states = store.db
        .prepare('SELECT row, state, wamid FROM campaign_rows WHERE cid = ? ORDER BY row')
        .all(cid);
      expect(states).toEqual([
        { row: 1, state: 'sent', wamid: 'wamid.ONE' },
        { row: 2, state: 'in_flight', wamid: null },
        { row: 3, state: 'in_flight', wamid: null },
      ]);
      // the send's audit record carries the row's recipient, read back with its update
      const audit = store.db.prepare("SELECT subject FROM audit_records WHERE kind = 'send'").pluck().all();
      expect(audit).toEqual(['16505550001']);

      await writer?.close();
      await expect.poll(() => isRunning(pid)).toBe(false);
    } finally {
      store.close();
    }
  });
});
