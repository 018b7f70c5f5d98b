// Shared helpers of the bench/send-*.bench.mjs benchmarks: a sandbox in its own process, CSV generation,
// running the built CLI as a child process. Plain JS against ../dist (run `npm run build` first).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const ROOT = join(here, '..');
export const BIN = join(ROOT, 'bin', 'wacx.js');
const { SEED } = await import(join(ROOT, 'dist', 'sandbox', 'seed.js'));

export { SEED };

/** Starts the sandbox in a child process (so that it does not share the sender's event loop). */
export async function startSandboxProcess(options = {}) {
  const script = `
    const { startSandbox } = await import(${JSON.stringify(join(ROOT, 'dist', 'sandbox', 'server.js'))});
    const s = await startSandbox(${JSON.stringify({ quiet: true, statusDelayMs: 20, reviewDelayMs: 50, ...options })});
    process.stdout.write(JSON.stringify({ url: s.url }) + '\\n');
    process.on('SIGTERM', async () => { await s.close(); process.exit(0); });
  `;
  // BENCH_SANDBOX_NODE_ARGS: node flags for the sandbox process (e.g. --trace-gc, to see its own pauses)
  const nodeArgs = (process.env.BENCH_SANDBOX_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, '--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let buf = '';
  let found = false;
  const url = await new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => {
      if (found) {
        if (nodeArgs.length > 0) process.stderr.write(d);
        return;
      }
      buf += d;
      const line = buf.split('\n').find((l) => l.startsWith('{"url"'));
      if (line) {
        found = true;
        resolve(JSON.parse(line).url);
      }
    });
    child.on('exit', (code) => reject(new Error(`sandbox exited with ${code}`)));
  });
  const control = async (path, body) => {
    const res = await fetch(`${url}/__sandbox/${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`control ${path}: HTTP ${res.status} ${text}`);
    return text ? JSON.parse(text) : null;
  };
  return {
    url,
    pid: child.pid,
    control,
    close: async () => {
      child.kill('SIGTERM');
      await once(child, 'exit').catch(() => {});
    },
  };
}

/** A temporary directory, removed by cleanup(). */
export function tempDir(prefix = 'wacx-bench-') {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A distinct valid German mobile number per index (E.164 digits). */
export function phone(i) {
  return `49151${String(10_000_000 + i).padStart(8, '0')}`;
}

/** Writes an order_update CSV with n rows (phone,name,order), streamed. */
export async function writeCsv(path, n, offset = 0) {
  const out = createWriteStream(path);
  const write = async (s) => {
    if (!out.write(s)) await once(out, 'drain');
  };
  await write('phone,name,order\n');
  let chunk = '';
  for (let i = 0; i < n; i++) {
    chunk += `+${phone(i + offset)},Name ${i},"A-${i}, express"\n`;
    if (chunk.length > 1 << 16) {
      await write(chunk);
      chunk = '';
    }
  }
  await write(chunk);
  out.end();
  await once(out, 'finish');
  return path;
}

/** `wacx send` of the order_update template (name → {{1}}, order → {{2}}) from `csv`, then `extra`. */
export function orderSendArgs(csv, ...extra) {
  return [
    'send',
    '--csv',
    csv,
    '--template',
    'order_update',
    '--language',
    'en_US',
    '--map',
    'name=1',
    '--map',
    'order=2',
    ...extra,
  ];
}

/** The components of an order_update message ({{1}} name, {{2}} order). */
export function orderComponents(name, order) {
  return [
    {
      type: 'body',
      parameters: [
        { type: 'text', text: name },
        { type: 'text', text: order },
      ],
    },
  ];
}

/** The CLI environment for a sandbox: temp HOME, sandbox URL, seeded token and ids. */
export function cliEnv(url, home, extra = {}) {
  return {
    PATH: process.env.PATH,
    HOME: home,
    XDG_CONFIG_HOME: join(home, '.config'),
    WACX_KEYCHAIN: '0',
    NO_COLOR: '1',
    CI: 'true',
    WACX_GRAPH_URL: url,
    WACX_TOKEN: SEED.token,
    WACX_APP_ID: SEED.app.id,
    WACX_APP_SECRET: SEED.app.secret,
    WACX_WABA_ID: SEED.waba.id,
    WACX_PHONE_NUMBER_ID: SEED.phoneNumbers.coex.id,
    WACX_DB: join(home, 'wacx.db'),
    ...extra,
  };
}

/**
 * Runs `node bin/wacx.js …args`; resolves with code, stdout, stderr and wall ms; with `sampleCpu`, also `cpu`: the
 * process's CPU time and each thread's (threads that ended keep their last figure), read every 100 ms until it exits
 * (Linux).
 */
export function runWacx(args, env, { onStdout, timeoutMs = 600_000, nodeArgs = [], sampleCpu = false } = {}) {
  return new Promise((resolve) => {
    const started = performance.now();
    const child = spawn(process.execPath, [...nodeArgs, BIN, ...args], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
      onStdout?.(String(d), child);
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    let cpu = null;
    // threads end before the process does: each keeps its last figure
    const threads = new Map();
    const sampler = sampleCpu
      ? setInterval(() => {
          const now = cpuOf(child.pid);
          if (!now) return;
          for (const t of now.threads) threads.set(t.tid, t);
          cpu = { total: now.total, threads: [...threads.values()] };
        }, 100)
      : null;
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (sampler) clearInterval(sampler);
      resolve({ code, signal, stdout, stderr, ms: performance.now() - started, child, cpu });
    });
  });
}

/** The NDJSON summary line of a `wacx send --json` run. */
export function summaryOf(stdout) {
  const lines = stdout.trim().split('\n').filter(Boolean);
  for (let i = lines.length - 1; i >= 0; i--) {
    try {
      const o = JSON.parse(lines[i]);
      if (o.type === 'summary') return o;
    } catch {}
  }
  return null;
}

export function fmt(n, digits = 0) {
  return Number(n).toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

/**
 * The sandbox is a fresh process: its first thousand requests run through cold (not yet JIT-compiled) code and
 * it falls behind, then drains its backlog faster than anything was sent. Warm it up on the other number first,
 * so that what is measured is the sender's pacing.
 */
export async function warmUp(sb, dir, measured) {
  const other =
    measured === SEED.phoneNumbers.coex.id ? SEED.phoneNumbers.cloud.id : SEED.phoneNumbers.coex.id;
  const before = await sb.control(`numbers/${other}`);
  await sb.control(`numbers/${other}`, { mps: 1_000_000, statuses: false, pair_limit: false });
  const csv = await writeCsv(join(dir, 'warm-up.csv'), 5000, 900_000);
  const args = orderSendArgs(csv);
  args.push('--rate', '100000', '--force', '--phone-number-id', other, '--campaign', 'warm-up');
  const r = await runWacx(args, cliEnv(sb.url, dir));
  if (r.code !== 0) throw new Error(`warm-up failed: ${r.stderr}`);
  await sb.control(`numbers/${other}`, {
    mps: before.mps,
    statuses: before.statuses,
    pair_limit: before.pair_limit,
  });
}

/** The kernel's high-water mark of a process's resident memory (VmHWM, bytes; 0 once it is gone or off Linux). */
export function peakOf(pid) {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/**
 * CPU time (ms, user + system) a process has used so far: in total (threads that ended included) and per live thread
 * (tid and name; Node's threads are all named "node": the main thread's tid is the pid, then V8's platform threads
 * (garbage collection), then worker threads in the order they started); null once it is gone or off Linux.
 */
export function cpuOf(pid) {
  try {
    const tick = 10; // USER_HZ is 100 on Linux
    const read = (path) => {
      const stat = readFileSync(path, 'utf8');
      const close = stat.lastIndexOf(')');
      const f = stat.slice(close + 2).split(' ');
      return { name: stat.slice(stat.indexOf('(') + 1, close), ms: (Number(f[11]) + Number(f[12])) * tick };
    };
    // the process's own figure also counts the threads that already ended
    const total = read(`/proc/${pid}/stat`).ms;
    const threads = readdirSync(`/proc/${pid}/task`).map((tid) => ({
      tid: Number(tid),
      ...read(`/proc/${pid}/task/${tid}/stat`),
    }));
    return { total, threads };
  } catch {
    return null;
  }
}

/** The most messages in any `windowMs` window, and when (ms after the first message) the first such window starts. */
export function maxSlidingWindow(times, windowMs = 1000) {
  let max = 0;
  let at = 0;
  let j = 0;
  for (let i = 0; i < times.length; i++) {
    while (times[i] - times[j] >= windowMs) j++;
    if (i - j + 1 > max) {
      max = i - j + 1;
      at = times[j] - times[0];
    }
  }
  return { max, at };
}

/**
 * One paced `wacx send` of `rate * seconds` rows against a fresh sandbox whose number allows `rate` msg/s, judged
 * from the sandbox's own record: mean within ±1 % of the target, no sliding one-second window above target + 1 %,
 * no 130429. `env` adds to the CLI's environment (e.g. WACX_DATABASE_URL). Prints one line; returns whether it met.
 */
export async function pacedRun({ rate, number, seconds, label, force = false, env = {} }) {
  const sb = await startSandboxProcess();
  const dir = tempDir();
  try {
    await sb.control(`numbers/${number}`, { mps: rate, statuses: false });
    await warmUp(sb, dir.dir, number);
    const rows = rate * seconds;
    const csv = await writeCsv(join(dir.dir, `rate-${rate}.csv`), rows);
    const args = orderSendArgs(csv);
    args.push('--rate', String(rate), '--phone-number-id', number, '--json');
    if (force) args.push('--force');
    const r = await runWacx(args, cliEnv(sb.url, dir.dir, env), { timeoutMs: (seconds + 120) * 1000 });
    const summary = summaryOf(r.stdout);
    const msgs = await sb.control(`messages?phone_number_id=${number}`);
    const counts = await sb.control(`send-counts?phone_number_id=${number}`);
    const times = msgs.map((m) => m.at).sort((a, b) => a - b);
    const mean = ((times.length - 1) * 1000) / (times.at(-1) - times[0]);
    const { max: window, at: windowAt } = maxSlidingWindow(times);
    const throttled = counts.seconds.reduce((n, s) => n + s.throttled, 0);
    const meanOk = Math.abs(mean - rate) / rate <= 0.01;
    const windowOk = window <= rate * 1.01;
    const ok = r.code === 0 && times.length === rows && meanOk && windowOk && throttled === 0;
    console.log(
      `${ok ? 'ok  ' : 'MISS'} ${label}: target ${fmt(rate)} msg/s, ${fmt(rows)} messages: mean ${fmt(mean, 2)} msg/s ` +
        `(${(((mean - rate) / rate) * 100).toFixed(2)} %), max in any 1 s window ${window} (limit ${fmt(rate * 1.01, 1)}, ` +
        `first at +${fmt(windowAt / 1000, 3)} s), 130429 answers ${throttled}, exit ${r.code}, ` +
        `commits ${summary?.commits ?? '?'}`,
    );
    if (r.code !== 0) console.log(r.stderr.slice(-2000));
    return ok;
  } finally {
    await sb.close();
    dir.cleanup();
  }
}
