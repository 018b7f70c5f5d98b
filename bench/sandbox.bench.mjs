#!/usr/bin/env node
// Message-send throughput of the sandbox: the sandbox runs in a child process, the load generator here
// (undici Pool, many requests in flight). Target: >= 5,000 accepted template sends per second.
// `node bench/sandbox.bench.mjs` (after `npm run build`); env BENCH_SECONDS (default 5), BENCH_INFLIGHT (128).
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { templateMessageBody } from '../dist/lib/graph/resources/messages.js';
import { orderComponents } from './send-common.mjs';

const TARGET = 5000;

if (process.argv[2] === '--serve') {
  const { startSandbox } = await import('../dist/sandbox/server.js');
  const sandbox = await startSandbox({ port: 0, quiet: true, statusDelayMs: 200 });
  process.send({ url: sandbox.url });
  process.on('message', async (m) => {
    if (m === 'stop') {
      await sandbox.close();
      process.exit(0);
    }
  });
} else {
  const child = fork(fileURLToPath(import.meta.url), ['--serve'], {
    execArgv: process.env.BENCH_PROF ? ['--cpu-prof', '--cpu-prof-dir=/tmp/prof'] : [],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const { url } = await new Promise((resolve, reject) => {
    child.once('message', resolve);
    child.once('exit', (code) => reject(new Error(`sandbox exited with ${code}`)));
  });
  const seconds = Number(process.env.BENCH_SECONDS ?? 5);
  const inflight = Number(process.env.BENCH_INFLIGHT ?? 128);
  const phone = '5000000000000002';
  const token = 'EAASANDBOXSYSTEMUSERTOKEN0000000000000000000001';
  const control = async (path, body) => {
    const r = await fetch(`${url}/__sandbox/${path}`, {
      method: body ? 'POST' : 'GET',
      headers: { 'content-type': 'application/json' },
      body: body ? JSON.stringify(body) : undefined,
    });
    return r.json();
  };
  // the bench measures the server, not the limits: lift the number's mps and the pair limiter
  await control(`numbers/${phone}`, { mps: 1_000_000, pair_limit: false });

  const pool = new Pool(url, { connections: 32, pipelining: 1, keepAliveTimeout: 30_000 });
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  let n = 0;
  const body = () => {
    n++;
    return JSON.stringify(
      templateMessageBody({
        to: `+1650${String(1_000_000 + (n % 9_000_000)).padStart(7, '0')}`,
        name: 'order_update',
        language: 'en_US',
        components: orderComponents('Ana', `A-${n}`),
        bizOpaqueCallbackData: `bench:${n}`,
      }),
    );
  };
  let ok = 0;
  let failed = 0;
  const statuses = new Map();
  const latencies = [];
  let measuring = false;
  let stop = false;
  const worker = async () => {
    while (!stop) {
      const t0 = performance.now();
      const res = await pool.request({
        path: `/v25.0/${phone}/messages`,
        method: 'POST',
        headers,
        body: body(),
      });
      await res.body.text();
      if (!measuring) continue;
      latencies.push(performance.now() - t0);
      if (res.statusCode === 200) ok++;
      else {
        failed++;
        statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
      }
    }
  };
  const workers = Array.from({ length: inflight }, worker);
  await new Promise((r) => setTimeout(r, 1000)); // warm-up
  measuring = true;
  const started = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  measuring = false;
  const elapsed = (performance.now() - started) / 1000;
  const okCount = ok;
  stop = true;
  await Promise.all(workers);
  await pool.close();
  const counts = await control(`send-counts?phone_number_id=${phone}`);
  child.send('stop');
  latencies.sort((a, b) => a - b);
  const pct = (p) =>
    latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))]?.toFixed(1);
  const rps = okCount / elapsed;
  process.stdout.write(
    `sandbox message sends: ${Math.round(rps)} req/s accepted over ${elapsed.toFixed(1)} s ` +
      `(${inflight} in flight, 32 connections; p50 ${pct(50)} ms, p99 ${pct(99)} ms; ` +
      `errors ${failed}${failed ? ` ${JSON.stringify(Object.fromEntries(statuses))}` : ''}; ` +
      `busiest second on the sandbox: ${counts.max_per_second} accepted)\n`,
  );
  process.stdout.write(`target >= ${TARGET} req/s: ${rps >= TARGET && failed === 0 ? 'met' : 'MISSED'}\n`);
  process.exitCode = rps >= TARGET && failed === 0 ? 0 : 1;
}
