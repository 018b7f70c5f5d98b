import type { ResourceLimits, Worker } from 'node:worker_threads';
import { startWorkerThread } from './heap.js';
import { workerFile } from './worker-file.js';

/** A kind of worker thread: its body is the compiled `<name>.worker.ts` beside `moduleUrl` (see workerFile). */
export interface ThreadKind {
  /** `import.meta.url` of the module that runs the thread. */
  moduleUrl: string;
  name: string;
  resourceLimits: ResourceLimits;
}

/** What a thread receives first: its data (worker-process.ts serveWorker). */
export interface FirstMessage {
  workerData: unknown;
}

/**
 * The worker threads of a process (a campaign's CSV reader, ledger writer and WAL checkpointer): the choice to run
 * work in threads, made at the entry point. A thread needs some 100 ms to start and load its code; one started
 * ahead (`prestart`) does that while the main thread prepares the run (the checks, the API calls), and only waits
 * for its data, which start() hands it. Threads started ahead and never taken are stopped by close().
 */
export class WorkerThreads {
  /** Threads started ahead, by file, until start() takes them. */
  private readonly standby = new Map<string, Worker>();

  prestart(...kinds: ThreadKind[]): void {
    for (const kind of kinds) {
      const file = workerFile(kind.moduleUrl, kind.name);
      if (this.standby.has(file)) continue;
      const worker = startWorkerThread(file, { resourceLimits: kind.resourceLimits });
      // waiting holds no process open; one that fails meanwhile is dropped, and start() starts another
      worker.unref();
      worker.on('error', () => {});
      worker.once('exit', () => {
        if (this.standby.get(file) === worker) this.standby.delete(file);
      });
      this.standby.set(file, worker);
    }
  }

  /** A thread of `kind` working on `data`: the one started ahead if there is one, else a new one. */
  start(kind: ThreadKind, data: unknown): Worker {
    const file = workerFile(kind.moduleUrl, kind.name);
    const ahead = this.standby.get(file);
    this.standby.delete(file);
    const worker = ahead ?? startWorkerThread(file, { resourceLimits: kind.resourceLimits });
    worker.ref();
    worker.postMessage({ workerData: data } satisfies FirstMessage);
    return worker;
  }

  /** Stops the threads started ahead that nothing took. */
  async close(): Promise<void> {
    const left = [...this.standby.values()];
    this.standby.clear();
    await Promise.all(left.map((worker) => worker.terminate()));
  }
}
