import { setFlagsFromString } from 'node:v8';
import { Worker, type WorkerOptions } from 'node:worker_threads';
import { workerFile } from './worker-file.js';

/**
 * V8 settings for the long runs whose memory is capped (`wacx send`, `wacx campaigns resume`: 150 MB for a
 * million-row campaign). V8 flags are process-wide and may be changed while running; each is read when it matters
 * (at a collection, a compilation).
 *
 * - `--semi-space-growth-factor=1`: the young generation keeps its starting size (2 MB) instead of growing to
 *   32 MB as soon as objects survive scavenges, which loading the command's modules already does.
 * - `--heap-growing-percent=70`: the old generation may grow 70 % over what survived the last full collection
 *   (default: up to four times).
 *   With both, more short-lived objects reach the old generation and are collected there, which costs throughput
 *   with pacing off and nothing at the rates a number can have. Measured with pacing off (1,000,000 rows, peak RSS;
 *   100,000 rows, CPU per message): 30 % 137.0 MB and 128 µs, 50 % 138.6 MB, 70 % 142.7 MB and 121 µs, 100 %
 *   149.2 MB and 115 µs (too close to the 150 MB cap).
 * - `--liftoff-only`: undici's HTTP parser is WebAssembly; V8 would recompile its large parse function with its
 *   optimising compiler once hot, using ~40 MB of compiler memory that the allocator keeps afterwards. Its
 *   baseline code (Liftoff) parses our small responses as fast (same sends/s measured).
 */
const TIGHT_FLAGS = ['--semi-space-growth-factor=1', '--heap-growing-percent=70', '--liftoff-only'];

const flags: string[] = [];

function applyFlags(...added: string[]): void {
  for (const flag of added) if (!flags.includes(flag)) flags.push(flag);
  for (const flag of flags) setFlagsFromString(flag);
}

/** Called by the CLI before it loads a memory-capped command's modules (the sooner, the less the heap has grown). */
export function keepHeapTight(): void {
  applyFlags(...TIGHT_FLAGS);
}

/** Above this rate (only with --rate … --force) throughput matters more than memory. */
const FAVOUR_MEMORY_UP_TO = 1000;

/**
 * At the rates a number can have (≤ 1,000 msg/s, the default) V8 also trades speed for memory
 * (`--optimize-for-size`: earlier collections, smaller code): that costs nothing there, but about a third of the
 * throughput with pacing off, so sends above 1,000 msg/s keep V8's default. Called by the CLI with the command's
 * --rate (src/cli/campaign-context.ts), before the campaign domain loads; the domain itself sets no V8 flag.
 */
export function favourMemoryAtRate(rate: number | null): void {
  if (rate !== null && rate > FAVOUR_MEMORY_UP_TO) return;
  applyFlags('--optimize-for-size');
}

/**
 * Starts a worker thread (the campaign's reader, ledger writer, checkpointer). V8 raises the semi-space growth
 * factor back to 2 for the whole process whenever it sets up an isolate's heap, as it does for each new worker,
 * some time before the worker is online: the flags are applied again at each turn of the event loop until then
 * (the CSV reader starts while the main thread sends: a collection meanwhile would double its young generation).
 */
export function startWorkerThread(file: string, options: WorkerOptions): Worker {
  const worker = new Worker(file, options);
  if (flags.length > 0) {
    const again = setInterval(applyFlags, 1);
    again.unref();
    const done = () => {
      clearInterval(again);
      applyFlags();
    };
    worker.once('online', done);
    worker.once('exit', done);
  }
  return worker;
}

/**
 * Starts the thread whose body is `<name>.worker.ts` beside the module at `moduleUrl` (its compiled file, see
 * workerFile). Whoever asks for a thread gets one: a missing compiled file is an error, never a silent run on the
 * main thread.
 */
export function startNamedWorker(moduleUrl: string, name: string, options: WorkerOptions): Worker {
  const file = workerFile(moduleUrl, name);
  return startWorkerThread(file, options);
}
