import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type ReadTask, runRead } from '../../src/lib/campaign/reader.js';
import { NO_LINKS } from '../../src/lib/campaign/recipient.js';
import { startWriter } from '../../src/lib/campaign/writer.js';
import { startCheckpointer } from '../../src/lib/store/checkpointer.js';
import { Store } from '../../src/lib/store/store.js';
import { workerFile } from '../../src/lib/worker-file.js';
import { runCli } from '../helpers/cli.js';
import { startTestSandbox, type TestSandbox } from '../helpers/sandbox.js';
import { countBy, ledgerRows, orderSendArgs, ROOT, writeOrdersCsv } from './helpers.js';

/**
 * The campaign's worker threads (CSV reader, ledger writer, WAL checkpointer) are chosen explicitly: the CLI asks
 * for them, and the suite (run from the TypeScript sources) then runs the compiled workers under dist/, the same
 * threads as production. Without threads their work runs on the main thread; with threads and no compiled worker
 * it is an error, never a silent fallback.
 */

const started = vi.hoisted(() => [] as { name: string; threadId: number }[]);
vi.mock('../../src/lib/heap.js', async (importOriginal) => {
  const heap = await importOriginal<typeof import('../../src/lib/heap.js')>();
  return {
    ...heap,
    startNamedWorker: (...args: Parameters<typeof heap.startNamedWorker>) => {
      const worker = heap.startNamedWorker(...args);
      started.push({ name: args[1], threadId: worker.threadId });
      return worker;
    },
  };
});

let sb: TestSandbox;
let dir = '';
beforeAll(async () => {
  sb = await startTestSandbox();
  dir = mkdtempSync(join(tmpdir(), 'wacx-threads-'));
});
afterAll(async () => {
  await sb?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('worker threads', () => {
  it('wacx send runs the reader, the ledger writer and the checkpointer in their compiled threads', async () => {
    await sb.control('reset', {});
    await sb.control(`numbers/${sb.seed.phoneNumbers.coex.id}`, { pair_limit: false });
    started.length = 0;
    const db = join(sb.home, 'threads.db');
    const csv = writeOrdersCsv(sb.home, 40, 'threads.csv');
    const r = await runCli([...orderSendArgs(csv), '--rate', '20', '--strict'], {
      env: sb.env({ WACX_DB: db }),
    });
    expect(r.code, r.stderr).toBe(0);
    expect(countBy(ledgerRows(db), (x) => x.state)).toEqual({ sent: 40 });
    // --strict reads the file once to check it, then the ingest reads it into the ledger
    expect(started.map((s) => s.name).sort()).toEqual(['checkpointer', 'reader', 'reader', 'writer']);
    for (const s of started) expect(s.threadId).toBeGreaterThan(0);
  });

  it('the worker files resolve to the compiled twins under dist/ when run from the sources', () => {
    const url = pathToFileURL(join(ROOT, 'src', 'lib', 'campaign', 'reader.ts')).href;
    expect(workerFile(url, 'reader')).toBe(join(ROOT, 'dist', 'lib', 'campaign', 'reader.worker.js'));
    const store = pathToFileURL(join(ROOT, 'src', 'lib', 'store', 'checkpointer.ts')).href;
    expect(workerFile(store, 'checkpointer')).toBe(
      join(ROOT, 'dist', 'lib', 'store', 'checkpointer.worker.js'),
    );
    expect(() => workerFile(url, 'nothing')).toThrow(/nothing\.worker\.js is missing/);
  });

  it('reading runs in a thread when asked, on the main thread otherwise, with the same result', async () => {
    const csv = writeOrdersCsv(dir, 30, 'read.csv', '+49151,Bad,A-9\n');
    const task: ReadTask = {
      kind: 'problems',
      store: null,
      cid: 0,
      path: csv,
      shape: {
        columns: ['phone', 'name', 'order'],
        phoneIndex: 0,
        bsuidIndex: -1,
        slots: [],
        defaultCountry: null,
      },
      from: { offset: 'phone,name,order\n'.length, lines: 1, nextRow: 1 },
      excluded: [],
      optedOut: [],
      links: NO_LINKS,
      batchRows: 0,
      batchMs: 0,
      problemLimit: 20,
    };
    const inThread = await runRead(task, {}, { threads: true });
    const onMain = await runRead(task, {}, { threads: false });
    expect(inThread.threadId).toBeGreaterThan(0);
    expect(onMain.threadId).toBeNull();
    expect(inThread.problems?.count).toBe(1);
    expect(inThread.problems).toEqual(onMain.problems);
  });

  it('the writer and the checkpointer start threads when asked, and none otherwise', async () => {
    const path = join(dir, 'w.db');
    const store = Store.open(path);
    try {
      const stop = await startCheckpointer(store.db, { threads: true, everyMs: 20 });
      expect(stop.threadId).toBeGreaterThan(0);
      await stop();
      const none = await startCheckpointer(store.db, { threads: false });
      expect(none.threadId).toBeNull();
      await none();
      const cid = 1;
      const writer = startWriter(store.location, cid, { threads: true });
      expect(writer?.threadId).toBeGreaterThan(0);
      await writer?.close();
      expect(startWriter(store.location, cid, { threads: false })).toBeNull();
    } finally {
      store.close();
    }
  });

  it('a missing compiled worker is an error when threads are asked for, not a run on the main thread', async () => {
    const { startNamedWorker } =
      await vi.importActual<typeof import('../../src/lib/heap.js')>('../../src/lib/heap.js');
    const nowhere = pathToFileURL(join(dir, 'src', 'lib', 'campaign', 'reader.ts')).href;
    expect(() => startNamedWorker(nowhere, 'reader', {})).toThrow(
      /compiled thread reader\.worker\.js is missing/,
    );
  });
});
