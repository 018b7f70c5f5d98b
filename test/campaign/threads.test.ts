import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { READER_THREAD, type ReadTask, runRead } from '../../src/lib/campaign/reader.js';
import { NO_LINKS } from '../../src/lib/campaign/recipient.js';
import { startWriter, WRITER_THREAD } from '../../src/lib/campaign/writer.js';
import { startCheckpointer } from '../../src/lib/store/checkpointer.js';
import { Store } from '../../src/lib/store/store.js';
import { WorkerThreads } from '../../src/lib/threads.js';
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

/** Every thread the process starts (heap.ts startWorkerThread), by the name of its worker file, in order. */
const created = vi.hoisted(
  () => [] as { name: string; threadId: number; worker: import('node:worker_threads').Worker }[],
);
vi.mock('../../src/lib/heap.js', async (importOriginal) => {
  const heap = await importOriginal<typeof import('../../src/lib/heap.js')>();
  return {
    ...heap,
    startWorkerThread: (...args: Parameters<typeof heap.startWorkerThread>) => {
      const worker = heap.startWorkerThread(...args);
      created.push({
        name: String(args[0]).split('/').pop()!.replace('.worker.js', ''),
        threadId: worker.threadId,
        worker,
      });
      return worker;
    },
  };
});

/** Every thread WorkerThreads.start handed out, with the threads created so far at that moment. */
const handedOut: { name: string; threadId: number; createdBefore: number }[] = [];
const realStart = WorkerThreads.prototype.start;
vi.spyOn(WorkerThreads.prototype, 'start').mockImplementation(function (this: WorkerThreads, kind, data) {
  const createdBefore = created.filter((c) => c.name === kind.name).length;
  const worker = realStart.call(this, kind, data);
  handedOut.push({ name: kind.name, threadId: worker.threadId, createdBefore });
  return worker;
});

/** A read that finds the invalid rows of an orders CSV (writeOrdersCsv). */
const problemsTask = (path: string): ReadTask => ({
  kind: 'problems',
  store: null,
  cid: 0,
  path,
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
  it('wacx send runs the reader, the ledger writer and the checkpointer in their compiled threads, started ahead while the run is prepared', async () => {
    await sb.control('reset', {});
    await sb.control(`numbers/${sb.seed.phoneNumbers.coex.id}`, { pair_limit: false });
    created.length = 0;
    handedOut.length = 0;
    const db = join(sb.home, 'threads.db');
    const csv = writeOrdersCsv(sb.home, 40, 'threads.csv');
    const r = await runCli([...orderSendArgs(csv), '--rate', '20', '--strict'], {
      env: sb.env({ WACX_DB: db }),
    });
    expect(r.code, r.stderr).toBe(0);
    expect(countBy(ledgerRows(db), (x) => x.state)).toEqual({ sent: 40 });
    // --strict reads the file once to check it, then the ingest reads it into the ledger
    expect(handedOut.map((s) => s.name).sort()).toEqual(['checkpointer', 'reader', 'reader', 'writer']);
    for (const s of handedOut) expect(s.threadId).toBeGreaterThan(0);
    // each thread the run needs first was already running when it was needed: the --strict check took the reader
    // started ahead, the ingest needed a second one
    expect(handedOut.map((s) => `${s.name} ${s.createdBefore}`).sort()).toEqual([
      'checkpointer 1',
      'reader 1',
      'reader 1',
      'writer 1',
    ]);
    expect(created.map((c) => c.name).sort()).toEqual(['checkpointer', 'reader', 'reader', 'writer']);
  });

  it('a dry run starts no thread ahead', async () => {
    created.length = 0;
    const csv = writeOrdersCsv(sb.home, 5, 'dry.csv');
    const r = await runCli([...orderSendArgs(csv), '--dry-run'], {
      env: sb.env({ WACX_DB: join(sb.home, 'dry.db') }),
    });
    expect(r.code, r.stderr).toBe(0);
    expect(created.map((c) => c.name)).toEqual(['reader']);
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
    const task = problemsTask(csv);
    const inThread = await runRead(task, {}, { threads: new WorkerThreads() });
    const onMain = await runRead(task, {}, { threads: null });
    expect(inThread.threadId).toBeGreaterThan(0);
    expect(onMain.threadId).toBeNull();
    expect(inThread.problems?.count).toBe(1);
    expect(inThread.problems).toEqual(onMain.problems);
  });

  it('the writer and the checkpointer start threads when asked, and none otherwise', async () => {
    const path = join(dir, 'w.db');
    const store = Store.open(path);
    try {
      const stop = await startCheckpointer(store.db, { threads: new WorkerThreads(), everyMs: 20 });
      expect(stop.threadId).toBeGreaterThan(0);
      await stop();
      const none = await startCheckpointer(store.db, { threads: null });
      expect(none.threadId).toBeNull();
      await none();
      const cid = 1;
      const writer = startWriter(store.location, cid, { threads: new WorkerThreads() });
      expect(writer?.threadId).toBeGreaterThan(0);
      await writer?.close();
      expect(startWriter(store.location, cid, { threads: null })).toBeNull();
    } finally {
      store.close();
    }
  });

  it('a missing compiled worker is an error when threads are asked for, not a run on the main thread', async () => {
    const nowhere = {
      ...READER_THREAD,
      moduleUrl: pathToFileURL(join(dir, 'src', 'lib', 'campaign', 'reader.ts')).href,
    };
    expect(() => new WorkerThreads().start(nowhere, {})).toThrow(
      /compiled thread reader\.worker\.js is missing/,
    );
    expect(() => new WorkerThreads().prestart(nowhere)).toThrow(
      /compiled thread reader\.worker\.js is missing/,
    );
  });
});

describe('WorkerThreads', () => {
  it('a thread started ahead is the one start() hands out, with its data: no second thread', async () => {
    created.length = 0;
    const threads = new WorkerThreads();
    threads.prestart(READER_THREAD);
    expect(created.map((c) => c.name)).toEqual(['reader']);
    await once(created[0]!.worker, 'online');
    const csv = writeOrdersCsv(dir, 10, 'ahead.csv', '+49151,Bad,A-9\n');
    const r = await runRead(problemsTask(csv), {}, { threads });
    expect(r.problems?.count).toBe(1);
    expect(r.threadId).toBe(created[0]!.threadId);
    expect(created).toHaveLength(1);
    // taken: the next read starts a thread of its own
    await runRead(problemsTask(csv), {}, { threads });
    expect(created).toHaveLength(2);
    await threads.close();
  });

  it('close() stops the threads started ahead that nothing took', async () => {
    created.length = 0;
    const threads = new WorkerThreads();
    threads.prestart(READER_THREAD, WRITER_THREAD);
    const exits = created.map((c) => once(c.worker, 'exit'));
    await threads.close();
    await Promise.all(exits);
    expect(created.map((c) => c.name)).toEqual(['reader', 'writer']);
  });

  it('a thread started ahead that died meanwhile is replaced by a new one', async () => {
    created.length = 0;
    const threads = new WorkerThreads();
    threads.prestart(READER_THREAD);
    await created[0]!.worker.terminate();
    const csv = writeOrdersCsv(dir, 5, 'died.csv');
    const r = await runRead(problemsTask(csv), {}, { threads });
    expect(r.problems?.count).toBe(0);
    expect(created).toHaveLength(2);
    expect(r.threadId).toBe(created[1]!.threadId);
  });
});
