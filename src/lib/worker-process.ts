import { fork } from 'node:child_process';
import { parentPort, workerData } from 'node:worker_threads';
import type { FirstMessage } from './threads.js';

/**
 * A worker that runs in a child process instead of a thread, behind the same surface as a Worker (postMessage,
 * 'message' / 'error' / 'exit' events, terminate), for work that needs a main thread of its own: libpq's client
 * watches its socket from the main thread of the process it runs in (see store/postgres.ts). Messages go over
 * the IPC channel with the structured clone (`serialization: 'advanced'`), as a thread's would; the child's first
 * message is its `workerData`.
 */
export interface WorkerProcess {
  postMessage(message: unknown): void;
  on(event: 'message' | 'error' | 'exit', listener: (arg: never) => void): unknown;
  once(event: 'message' | 'error' | 'exit', listener: (arg: never) => void): unknown;
  off(event: 'message' | 'error' | 'exit', listener: (arg: never) => void): unknown;
  terminate(): Promise<number>;
  readonly pid: number | undefined;
}

export function startWorkerProcess(file: string, data: unknown): WorkerProcess {
  const child = fork(file, [], {
    serialization: 'advanced',
    execArgv: [],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  child.send({ workerData: data } satisfies FirstMessage);
  return Object.assign(child, {
    postMessage: (message: unknown) => {
      if (child.connected) child.send(message as object);
    },
    terminate: () =>
      new Promise<number>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode ?? 1);
        child.once('exit', (code) => resolve(code ?? 1));
        child.kill('SIGKILL');
      }),
  }) as unknown as WorkerProcess;
}

/** The worker's end: its parent thread's port, or its parent process's IPC channel. */
export interface WorkerPort {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (message: never) => void): void;
  close(): void;
}

/**
 * In a worker file: calls `serve` with the channel to whoever started it and its data, whether it runs as a thread
 * or (startWorkerProcess) as a child process; nothing when the file was only imported. A thread started without
 * `workerData` (threads.ts WorkerThreads, started ahead) gets its data as its first message, as a child process
 * does; meanwhile it runs `warm` (loading what its work will need).
 */
export function serveWorker<Data>(
  serve: (port: WorkerPort, data: Data) => void,
  options: { warm?: () => void } = {},
): void {
  if (parentPort) {
    const port = parentPort;
    if (workerData !== undefined) {
      serve(port as unknown as WorkerPort, workerData as Data);
      return;
    }
    port.once('message', (first: FirstMessage) =>
      serve(port as unknown as WorkerPort, first.workerData as Data),
    );
    options.warm?.();
    return;
  }
  if (!process.send) return;
  // the parent went away (even SIGKILL closes the channel): nothing unanswered was ever acknowledged
  process.on('disconnect', () => process.exit(0));
  process.once('message', (first: FirstMessage) => {
    // sends are asynchronous: the channel closes only once every message posted has been written to it
    let unsent = 0;
    let closing = false;
    const disconnect = () => {
      if (process.connected) process.disconnect();
    };
    const port: WorkerPort = {
      postMessage: (message) => {
        unsent++;
        process.send?.(message as object, undefined, {}, () => {
          unsent--;
          if (closing && unsent === 0) disconnect();
        });
      },
      on: (_event, listener) => process.on('message', listener as (message: unknown) => void),
      close: () => {
        closing = true;
        if (unsent === 0) disconnect();
      },
    };
    serve(port, first.workerData as Data);
  });
}
