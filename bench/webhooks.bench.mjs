// Webhook receiver throughput: the built `wacx webhooks serve` (child process, real SQLite file, one line per
// event on stderr) receives signed status webhooks on loopback at a steady rate (open loop: requests are sent
// on schedule, not when the previous one returns). Targets: >= 1,000 events/s held for the whole run,
// no loss (every request answered 200 and every event in the database), p99 time to 200 < 50 ms, with every commit
// fsync'ed (the store's synchronous = FULL: a 200 means on disk). Then a signed history chunk just under 3 MB
// (Meta's documented maximum, the default --max-body) must be answered 200 and parsed.
// Side by side in one run: the receiver as shipped (`thread`: its commits run in the store writer thread) and, as
// the yardstick, the same receiver committing on its main thread (`main`, WACX_WEBHOOK_STORE_ON_MAIN=1), which
// reads and answers nothing during each commit's fsync. The targets apply to the receiver as shipped, on SQLite
// (`thread`) and on PostgreSQL (`postgres`: a server this bench starts, fsync on, the store on a new database).
//   node bench/webhooks.bench.mjs [rate=1200] [seconds=10] [modes=main,thread,postgres]
import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { Pool } from 'undici';
import { PostgresDatabase } from '../dist/lib/store/postgres.js';
import { startPostgres } from '../scripts/postgres-server.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const RATE = Number(process.argv[2] ?? 1200);
const SECONDS = Number(process.argv[3] ?? 10);
const MODES = (process.argv[4] ?? 'main,thread,postgres').split(',');
const TARGET_RATE = 1000;
const TARGET_P99_MS = 50;
const SECRET = 'bench-app-secret';
const postgres = MODES.includes('postgres') ? await startPostgres({ fsync: true }) : null;
let databases = 0;
/** A new database on the bench's PostgreSQL server. */
function postgresDatabase() {
  const admin = new PostgresDatabase(postgres.url);
  const name = `wacx_bench_${++databases}`;
  admin.exec(`CREATE DATABASE ${name}`);
  admin.close();
  const url = new URL(postgres.url);
  url.pathname = `/${name}`;
  return url.toString();
}

const sign = (body) => `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`;

function payload(i) {
  const body = JSON.stringify({
    object: 'whatsapp_business_account',
    entry: [
      {
        id: '3000000000000001',
        changes: [
          {
            field: 'messages',
            value: {
              messaging_product: 'whatsapp',
              metadata: { display_phone_number: '15550100001', phone_number_id: '5000000000000001' },
              statuses: [
                {
                  id: `wamid.bench.${i}`,
                  status: 'delivered',
                  timestamp: String(1750030073 + (i % 1000)),
                  recipient_id: `1650555${String(i % 10000).padStart(4, '0')}`,
                  biz_opaque_callback_data: `bench:${i}`,
                  pricing: { billable: true, pricing_model: 'PMP', type: 'regular', category: 'marketing' },
                },
              ],
            },
          },
        ],
      },
    ],
  });
  return { body, signature: sign(body) };
}

// A large authentic history chunk: 2,000 messages of ~1.4 KB, padded to just under 3 MiB.
const MAX_BODY = 3 * 1024 * 1024;
const CHUNK_MESSAGES = 2000;
function historyBody(pad) {
  return JSON.stringify({
    object: 'whatsapp_business_account',
    entry: [
      {
        id: '3000000000000001',
        changes: [
          {
            field: 'history',
            value: {
              messaging_product: 'whatsapp',
              metadata: { display_phone_number: '15550100001', phone_number_id: '5000000000000001' },
              history: [
                {
                  metadata: { phase: 1, chunk_order: 1, progress: 40 },
                  threads: [
                    {
                      id: '16505550000',
                      messages: Array.from({ length: CHUNK_MESSAGES }, (_, i) => ({
                        from: '16505550000',
                        id: `wamid.hist.${i}`,
                        timestamp: String(1739230955 + i),
                        type: 'text',
                        text: { body: `${i} ${'h'.repeat(1300)}` },
                        history_context: { status: 'READ' },
                      })),
                    },
                  ],
                  pad,
                },
              ],
            },
          },
        ],
      },
    ],
  });
}

const total = Math.round(RATE * SECONDS);
const bodies = Array.from({ length: total }, (_, i) => payload(i));
const bigBody = historyBody('p'.repeat(Math.max(0, MAX_BODY - Buffer.byteLength(historyBody('')))));
const bigSignature = sign(bigBody);

/**
 * CPU time (ms) the server process has used so far: its main thread and all its other threads (Linux /proc; null
 * elsewhere). Fields 14 and 15 of a task's stat line are user and system time in clock ticks (100 per second).
 */
function cpuMs(pid) {
  try {
    let main = 0;
    let others = 0;
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ms = (Number(fields[11]) + Number(fields[12])) * 10;
      if (tid === String(pid)) main += ms;
      else others += ms;
    }
    return { main, others };
  } catch {
    return null;
  }
}

/** One run against a fresh `wacx webhooks serve`; `mode` is 'thread' (as shipped) or 'main' (the yardstick). */
async function runOnce(mode) {
  const home = mkdtempSync(join(tmpdir(), 'wacx-bench-wh-'));
  const db = join(home, 'wacx.db');
  const databaseUrl = mode === 'postgres' ? postgresDatabase() : null;
  const child = spawn(
    process.execPath,
    [join(root, 'bin', 'wacx.js'), 'webhooks', 'serve', '--port', '0', '--json'],
    {
      env: {
        PATH: process.env.PATH,
        HOME: home,
        WACX_KEYCHAIN: '0',
        NO_COLOR: '1',
        CI: 'true',
        ...(databaseUrl ? { WACX_DATABASE_URL: databaseUrl } : { WACX_DB: db }),
        WACX_APP_SECRET: SECRET,
        ...(mode === 'main' ? { WACX_WEBHOOK_STORE_ON_MAIN: '1' } : {}),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stderrLines = 0;
  createInterface({ input: child.stderr }).on('line', () => stderrLines++);
  const stdout = createInterface({ input: child.stdout });
  const url = await new Promise((resolve, reject) => {
    stdout.on('line', (l) => {
      const o = JSON.parse(l);
      if (o.type === 'listening') resolve(o.url);
    });
    child.once('exit', (code) => reject(new Error(`server exited early (${code})`)));
  });
  const exited = new Promise((r) => child.once('exit', (code) => r(code)));

  const { origin, pathname } = new URL(url);
  const pool = new Pool(origin, { connections: 32, pipelining: 1, keepAliveTimeout: 10_000 });
  const latencies = [];
  let ok = 0;
  let failed = 0;
  let sent = 0;
  const inflight = new Set();

  async function send(i) {
    const { body, signature } = bodies[i];
    const t0 = performance.now();
    try {
      const res = await pool.request({
        method: 'POST',
        path: pathname,
        headers: { 'content-type': 'application/json', 'x-hub-signature-256': signature },
        body,
      });
      await res.body.dump();
      latencies.push(performance.now() - t0);
      if (res.statusCode === 200) ok++;
      else failed++;
    } catch {
      failed++;
    }
  }

  const load0 = loadavg()[0];
  const cpu0 = cpuMs(child.pid);
  const start = performance.now();
  await new Promise((resolve) => {
    const tick = () => {
      const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * RATE));
      while (sent < due) {
        const p = send(sent++);
        inflight.add(p);
        p.finally(() => inflight.delete(p));
      }
      if (sent >= total) resolve();
      else setTimeout(tick, 1);
    };
    tick();
  });
  await Promise.all([...inflight]);
  const elapsed = (performance.now() - start) / 1000;
  const cpu1 = cpuMs(child.pid);

  const bigT0 = performance.now();
  const bigRes = await pool.request({
    method: 'POST',
    path: pathname,
    headers: { 'content-type': 'application/json', 'x-hub-signature-256': bigSignature },
    body: bigBody,
  });
  await bigRes.body.dump();
  const bigMs = performance.now() - bigT0;
  await pool.close();
  child.kill('SIGTERM');
  const code = await exited;

  const conn = databaseUrl ? new PostgresDatabase(databaseUrl) : new Database(db, { readonly: true });
  const rows = conn.prepare('SELECT COUNT(*) AS n FROM message_statuses').get().n;
  const events = conn.prepare("SELECT COUNT(*) AS n FROM webhook_events WHERE field = 'messages'").get().n;
  const chunk = conn.prepare('SELECT messages FROM history_chunks').get();
  const historyRows = conn.prepare('SELECT COUNT(*) AS n FROM history_messages').get().n;
  conn.close();
  rmSync(home, { recursive: true, force: true });

  latencies.sort((a, b) => a - b);
  const pct = (p) =>
    latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? Number.NaN;
  const rate = ok / elapsed;
  const p99 = pct(99);
  const label = {
    thread: 'SQLite, store writer thread (as shipped)',
    main: 'SQLite, commits on the main thread (yardstick)',
    postgres: 'PostgreSQL (as shipped: the store writer a child process, libpq)',
  }[mode];
  console.log(`\n--- ${label}; load average ${load0.toFixed(1)} at the start`);
  console.log(`sent ${total} signed events in ${elapsed.toFixed(2)} s (offered ${RATE}/s for ${SECONDS} s)`);
  console.log(
    `answered 200: ${ok}, failed: ${failed}; rows in message_statuses: ${rows}, webhook_events: ${events}`,
  );
  console.log(`throughput: ${rate.toFixed(0)} events/s (target >= ${TARGET_RATE})`);
  console.log(
    `time to 200: p50 ${pct(50).toFixed(2)} ms, p90 ${pct(90).toFixed(2)} ms, p99 ${p99.toFixed(2)} ms (target < ${TARGET_P99_MS}), max ${latencies[latencies.length - 1].toFixed(2)} ms`,
  );
  console.log(
    `history chunk of ${Buffer.byteLength(bigBody)} bytes: HTTP ${bigRes.statusCode} in ${bigMs.toFixed(0)} ms, ${chunk?.messages ?? 0} messages in the chunk, ${historyRows} history rows`,
  );
  if (cpu0 && cpu1)
    console.log(
      `server CPU during the load: main thread ${(cpu1.main - cpu0.main).toFixed(0)} ms, other threads ${(cpu1.others - cpu0.others).toFixed(0)} ms (${(((cpu1.main - cpu0.main) / ok) * 1000).toFixed(0)} µs of main thread per event)`,
    );
  console.log(`server: exit ${code} after SIGTERM, ${stderrLines} stderr lines`);

  const problems = [];
  if (rate < TARGET_RATE) problems.push(`throughput ${rate.toFixed(0)}/s < ${TARGET_RATE}/s`);
  if (p99 >= TARGET_P99_MS) problems.push(`p99 ${p99.toFixed(2)} ms >= ${TARGET_P99_MS} ms`);
  if (failed > 0 || ok !== total) problems.push(`${total - ok} requests not answered 200`);
  if (rows !== ok || events !== ok)
    problems.push(`loss: ${ok} acknowledged, ${rows} status rows, ${events} events`);
  if (bigRes.statusCode !== 200 || chunk?.messages !== CHUNK_MESSAGES || historyRows !== CHUNK_MESSAGES)
    problems.push(`the ${Buffer.byteLength(bigBody)}-byte history chunk was not accepted and parsed`);
  if (code !== 0) problems.push(`server exit ${code}`);
  return problems;
}

let missed = false;
for (const mode of MODES) {
  const problems = await runOnce(mode);
  if (mode === 'main') {
    if (problems.length) console.log(`(yardstick: ${problems.join('; ')})`);
    continue;
  }
  if (problems.length) {
    console.log(`MISSED: ${problems.join('; ')}`);
    missed = true;
  } else {
    console.log('OK: target met');
  }
}
postgres?.stop();
process.exitCode = missed ? 1 : 0;
