/**
 * Worker thread entry of the CSV reader (see reader.ts): runs one ReadTask and posts its messages. Messages are
 * posted in order; the worker waits for nothing from the main thread except 'stop'.
 */
import { setPriority } from 'node:os';
import { serveWorker, type WorkerPort } from '../worker-process.js';
import { executeRead, type ReadMessage, type ReadTask, warmReading } from './reader.js';

// a thread, or when it ingests into PostgreSQL (libpq needs a main thread of its own) a child process
serveWorker(
  (port: WorkerPort, task: ReadTask) => {
    // On Linux the nice value is per thread: reading the CSV yields the CPU to the sending loop (and, on a small
    // machine, to everything else) whenever they need it.
    try {
      setPriority(10);
    } catch {
      // not permitted: run at normal priority
    }
    const stop = new AbortController();
    port.on('message', (m: unknown) => {
      if (m === 'stop') stop.abort();
    });
    executeRead(task, (m: ReadMessage) => port.postMessage(m), stop.signal)
      .catch((error: unknown) => {
        port.postMessage({
          type: 'error',
          message: error instanceof Error ? error.message : String(error),
        } satisfies ReadMessage);
      })
      .finally(() => port.close());
  },
  { warm: warmReading },
);
