import { availableParallelism } from 'node:os';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * V8 settings for the long runs whose memory is capped (`wacx send`, `wacx campaigns resume`: 150 MB for a
 * million-row campaign). V8 flags are process-wide and may be changed while running; each is read when it matters
 * (at a collection, a compilation).
 *
 * - `--semi-space-growth-factor=1`: the young generation keeps its starting size (2 MB) instead of growing to
 *   32 MB as soon as objects survive scavenges, which loading the command's modules already does.
 * - `--heap-growing-percent=30`: the old generation may grow 30 % over what survived the last full collection
 *   (default: up to four times). 1,000,000 rows, pacing off, peak RSS: 30 % 137.0 MB, 50 % 138.6 MB, 70 % 142.7 MB,
 *   100 % 149.2 MB. With the young generation of fast sends (favourMemoryAtRate) and 256 in flight, 139.6 MB at 30 %
 *   (5,000,000 rows: 141.5 MB).
 * - `--liftoff-only`: undici's HTTP parser is WebAssembly; V8 would recompile its large parse function with its
 *   optimising compiler once hot, using ~40 MB of compiler memory that the allocator keeps afterwards. Its
 *   baseline code (Liftoff) parses our small responses as fast (same sends/s measured).
 */
const TIGHT_FLAGS = ['--semi-space-growth-factor=1', '--heap-growing-percent=30', '--liftoff-only'];

/** The flags set so far, by name (a later value replaces an earlier one). */
const flags = new Map<string, string>();

function applyFlags(...added: string[]): void {
  for (const flag of added) flags.set(flag.split('=')[0]!, flag);
  for (const flag of flags.values()) setFlagsFromString(flag);
}

/** Called by the CLI before it loads a memory-capped command's modules (the sooner, the less the heap has grown). */
export function keepHeapTight(): void {
  applyFlags(...TIGHT_FLAGS);
}

/** Above this rate (only with --rate … --force) throughput matters more than memory. */
const FAVOUR_MEMORY_UP_TO = 1000;

/**
 * The main thread's young generation (one semi-space, as getHeapSpaceStatistics reports new_space) when sending above
 * FAVOUR_MEMORY_UP_TO. A message's objects live as long as its request waits for a connection and an answer, and its
 * ledger commit (256 messages in flight); in a smaller semi-space many survive two scavenges and are promoted, then
 * collected in the old generation by the GC helper threads. With pacing off (100,000 rows, taking turns): 4 MB
 * 129–133 µs of CPU per message (1,120 scavenges, 46 full collections), 8 MB 101–118 µs (520 and 10), 16 MB 101–108
 * µs (264 and 9) but 16 MB more committed memory: a million-row campaign (139.6 MB at 8 MB) would pass 150 MB.
 */
const FAST_SEMI_SPACE_BYTES = 8 * 1024 * 1024;
/**
 * A fast send keeps three threads busy: the main thread (requests), the ledger writer and the CSV reader. On a machine
 * with no core to spare for V8's garbage-collection helper threads, they only compete with those three, and share
 * each collection's work at a cost (their start-up and synchronisation): every isolate collects on the thread that
 * allocates instead. Measured on 2 cores, 100,000 rows, pacing off, taking turns: the helpers' CPU per message 16 →
 * 8 µs (what is left is V8's optimising compiler), the main thread's +1 to +3 µs, 3 to 7 % more sends/s.
 * - Sweeping stays concurrent: done on the main thread it frees pages later (1,000,000 rows: peak RSS 148.8 MB
 *   instead of 143.0), and gains nothing measurable.
 * - Parallel marking stays on: V8 fixes at start-up how a full collection's marking is shared, and aborts when that
 *   flag changes later.
 */
const BUSY_THREADS_OF_A_FAST_SEND = 3;
const GC_ON_THE_ALLOCATING_THREAD = [
  '--no-parallel-scavenge',
  '--no-concurrent-marking',
  '--no-parallel-compaction',
  '--no-parallel-pointer-update',
  '--no-concurrent-array-buffer-sweeping',
];

/** How often the young generation's size is checked (V8 needs far longer to grow it twice: heap.test.ts). */
const GROWTH_CHECK_MS = 20;

/**
 * At the rates a number can have (≤ 1,000 msg/s, the default) V8 also trades speed for memory
 * (`--optimize-for-size`: earlier collections, smaller code): that costs nothing there, but about a third of the
 * throughput with pacing off, so sends above 1,000 msg/s keep V8's default and a larger young generation
 * (FAST_SEMI_SPACE_BYTES), and on a machine of fewer than 4 cores collect on the allocating thread
 * (GC_ON_THE_ALLOCATING_THREAD). `cores` is the machine's unless a test says otherwise. Called by the CLI with the command's --rate (src/cli/campaign-context.ts), before the
 * campaign domain loads; the domain itself sets no V8 flag.
 */
export function favourMemoryAtRate(rate: number | null, cores = availableParallelism()): void {
  if (rate !== null && rate > FAVOUR_MEMORY_UP_TO) {
    if (cores < BUSY_THREADS_OF_A_FAST_SEND + 1) applyFlags(...GC_ON_THE_ALLOCATING_THREAD);
    growYoungGenerationTo(FAST_SEMI_SPACE_BYTES);
  } else applyFlags('--optimize-for-size');
}

/**
 * V8 sets the young generation's largest size when the process starts, and only its growth factor may change later:
 * it may double (factor 2) while below `bytes`, and keeps its size (factor 1) from there on. Checked between turns of
 * the event loop; a collection that shrinks it (V8 does when little is allocated) lets it grow again.
 */
function growYoungGenerationTo(bytes: number): void {
  if (growthCheck) return;
  const check = () => {
    const size =
      getHeapSpaceStatistics().find((space) => space.space_name === 'new_space')?.space_size ?? bytes;
    const factor = size < bytes ? 2 : 1;
    if (flags.get('--semi-space-growth-factor') !== `--semi-space-growth-factor=${factor}`) {
      applyFlags(`--semi-space-growth-factor=${factor}`);
    }
  };
  check();
  growthCheck = setInterval(check, GROWTH_CHECK_MS).unref();
}

let growthCheck: NodeJS.Timeout | undefined;

/**
 * Starts a worker thread (the campaign's reader, ledger writer, checkpointer). V8 raises the semi-space growth
 * factor back to 2 for the whole process whenever it sets up an isolate's heap, as it does for each new worker,
 * some time before the worker is online: the flags are applied again at each turn of the event loop until then
 * (the CSV reader starts while the main thread sends: a collection meanwhile would double its young generation).
 */
export function startWorkerThread(file: string, options: WorkerOptions): Worker {
  const worker = new Worker(file, options);
  if (flags.size > 0) {
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
