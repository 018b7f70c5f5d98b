// Preloaded (`node --import`) by bench/send-memory.bench.mjs with BENCH_DETAIL=1 into `wacx send`: every 50 ms it
// reads the process's resident memory (anonymous, file-backed, shared) and the main thread's V8 heap, keeps the
// sample taken when the resident memory was highest, and writes it to MEM_PROFILE at exit.
import { readFileSync, writeFileSync } from 'node:fs';
import { getHeapSpaceStatistics } from 'node:v8';
import { isMainThread } from 'node:worker_threads';

if (isMainThread && process.env.MEM_PROFILE) {
  let peak = null;
  const kb = (text, key) => Number(new RegExp(`${key}:\\s+(\\d+) kB`).exec(text)?.[1] ?? 0) * 1024;
  const sample = () => {
    const status = readFileSync('/proc/self/status', 'utf8');
    const rss = kb(status, 'VmRSS');
    if (peak && rss <= peak.rss) return;
    const m = process.memoryUsage();
    const spaces = {};
    for (const s of getHeapSpaceStatistics()) spaces[s.space_name] = s.space_used_size;
    peak = {
      at: Math.round(performance.now()),
      rss,
      anon: kb(status, 'RssAnon'),
      file: kb(status, 'RssFile'),
      shmem: kb(status, 'RssShmem'),
      threads: Number(/Threads:\s+(\d+)/.exec(status)?.[1] ?? 0),
      heapTotal: m.heapTotal,
      heapUsed: m.heapUsed,
      external: m.external,
      arrayBuffers: m.arrayBuffers,
      spaces,
    };
  };
  setInterval(sample, 50).unref();
  process.on('exit', () => {
    sample();
    writeFileSync(process.env.MEM_PROFILE, JSON.stringify(peak));
  });
}
