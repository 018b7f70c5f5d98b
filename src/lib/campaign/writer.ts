import type { StoreLocation } from '../store/location.js';
import type { ThreadKind, WorkerThreads } from '../threads.js';
import { workerFile } from '../worker-file.js';
import { startWorkerProcess } from '../worker-process.js';
import type { CommitBatch, RowUpdate } from './ledger.js';

/** Writes group commits. `commit` resolves true, or false when the campaign's lease was lost. */
export interface Committer {
  commit(batch: CommitBatch, now: number): boolean | Promise<boolean>;
  close(): Promise<void>;
  /** The id of the thread that writes, or on PostgreSQL the pid of its process (none: the caller's own). */
  readonly threadId?: number;
}

export const WRITER_THREAD: ThreadKind = {
  moduleUrl: import.meta.url,
  name: 'writer',
  resourceLimits: { maxOldGenerationSizeMb: 32, maxYoungGenerationSizeMb: 2 },
};

/**
 * The ledger writer thread: the sending loop's commits (and their fsyncs, or on PostgreSQL the server's answers)
 * run there, so that the loop never stands still for a disk flush or a round trip; a batch's requests leave once
 * the writer confirmed its commit. On PostgreSQL it is a child process (libpq needs a main thread of its own, see
 * store/postgres.ts). Null without `threads` (or for an in-memory database, which another thread cannot open):
 * the loop then commits synchronously itself. With `threads`, a missing compiled worker is an error.
 */
export function startWriter(
  location: StoreLocation | null,
  cid: number,
  options: { threads: WorkerThreads | null },
): Committer | null {
  const { threads } = options;
  if (!threads || !location) return null;
  const worker =
    location.backend === 'postgres'
      ? startWorkerProcess(workerFile(import.meta.url, 'writer'), { location, cid })
      : threads.start(WRITER_THREAD, { location, cid });
  const waiting = new Map<number, { resolve: (ok: boolean) => void; reject: (e: Error) => void }>();
  let next = 0;
  let failure: Error | null = null;
  const failAll = (e: Error) => {
    failure ??= e;
    for (const w of waiting.values()) w.reject(e);
    waiting.clear();
  };
  worker.on('message', (m: { id: number; ok?: boolean; error?: string }): void => {
    const w = waiting.get(m.id);
    if (!w) return;
    waiting.delete(m.id);
    if (m.error !== undefined) w.reject(new Error(`ledger write failed: ${m.error}`));
    else w.resolve(m.ok === true);
  });
  worker.on('error', (e: Error) => failAll(e));
  worker.on('exit', (code: number) => failAll(new Error(`the ledger writer stopped (exit ${code})`)));
  return {
    threadId: 'threadId' in worker ? worker.threadId : worker.pid,
    commit(batch, now) {
      if (failure) return Promise.reject(failure);
      const id = next++;
      return new Promise<boolean>((resolve, reject) => {
        waiting.set(id, { resolve, reject });
        worker.postMessage({ id, batch: packBatch(batch), now });
      });
    },
    async close() {
      if (!failure) {
        await new Promise<void>((resolve) => {
          waiting.set(-1, { resolve: () => resolve(), reject: () => resolve() });
          worker.postMessage('stop');
          setTimeout(resolve, 2000).unref();
        });
      }
      await worker.terminate();
    },
  };
}

/**
 * A commit as it crosses to the writer thread: the accepted sends (nearly every update) flattened into one array of
 * primitives (row, wamid, message status, row, …), which the structured clone copies several times faster than one
 * object per row with its seven keys.
 */
export interface PackedBatch {
  sent: (number | string | null)[];
  /** Every other change of state. */
  updates: RowUpdate[];
  intents: readonly number[];
  heartbeatOwner?: string;
}

export function packBatch(batch: CommitBatch): PackedBatch {
  const sent: (number | string | null)[] = [];
  const updates: RowUpdate[] = [];
  for (const u of batch.updates) {
    if (u.state === 'sent' && u.reason === null && u.errorCode === null && u.errorTitle === null)
      sent.push(u.row, u.wamid, u.messageStatus);
    else updates.push(u);
  }
  return {
    sent,
    updates,
    intents: batch.intents,
    ...(batch.heartbeatOwner !== undefined ? { heartbeatOwner: batch.heartbeatOwner } : {}),
  };
}

/** The batch again (the order of updates of different rows does not matter: a batch changes a row at most once). */
export function unpackBatch(p: PackedBatch): CommitBatch {
  const updates = p.updates;
  for (let i = 0; i < p.sent.length; i += 3) {
    updates.push({
      row: p.sent[i] as number,
      state: 'sent',
      reason: null,
      errorCode: null,
      errorTitle: null,
      wamid: p.sent[i + 1] as string | null,
      messageStatus: p.sent[i + 2] as string | null,
    });
  }
  return {
    updates,
    intents: p.intents,
    ...(p.heartbeatOwner !== undefined ? { heartbeatOwner: p.heartbeatOwner } : {}),
  };
}
