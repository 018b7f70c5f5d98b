/**
 * Worker thread entry of the CSV reader (see reader.ts): runs one ReadTask and posts its messages. Messages are
 * posted in order; the worker waits for nothing from the main thread except 'stop'.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { executeRead, type ReadMessage, type ReadTask } from './reader.js';

const port = parentPort;
if (port) {
  const stop = new AbortController();
  port.on('message', (m) => {
    if (m === 'stop') stop.abort();
  });
  executeRead(workerData as ReadTask, (m: ReadMessage) => port.postMessage(m), stop.signal)
    .catch((error: unknown) => {
      port.postMessage({ type: 'error', message: error instanceof Error ? error.message : String(error) } satisfies ReadMessage);
    })
    .finally(() => port.close());
}
