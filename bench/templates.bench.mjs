// Templates as code against the sandbox, through the built CLI (child processes) and a counting proxy that
// sees every HTTP request the CLI makes to the Graph API.
// Targets:
//   - a plan of 200 unchanged templates makes no write call and takes < 5 s (wall clock, CLI start included);
//   - with 200 templates of which 10 changed, a push makes exactly 10 write calls.
// (The setup push of the 200 new templates must also make exactly 200 write calls.)
//   node bench/templates.bench.mjs [count=200] [changed=10]
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const COUNT = Number(process.argv[2] ?? 200);
const CHANGED = Number(process.argv[3] ?? 10);
const PLAN_TARGET_MS = 5000;

const { startSandbox, SEED } = await import(join(root, 'dist', 'sandbox', 'server.js'));
const sandbox = await startSandbox({ quiet: true, reviewDelayMs: 5 });
const sandboxUrl = new URL(sandbox.url);

// ---- counting proxy: forwards everything to the sandbox, records method + path of each request
let log = [];
const proxy = createServer((req, res) => {
  log.push({ method: req.method, path: req.url.split('?')[0] });
  const up = request(
    {
      host: sandboxUrl.hostname,
      port: sandboxUrl.port,
      method: req.method,
      path: req.url,
      headers: req.headers,
    },
    (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    },
  );
  up.on('error', (e) => {
    res.writeHead(502);
    res.end(String(e));
  });
  req.pipe(up);
});
await new Promise((r) => proxy.listen(0, '127.0.0.1', r));
const proxyUrl = `http://127.0.0.1:${proxy.address().port}`;
const writes = () => log.filter((x) => x.method !== 'GET');

async function control(path, body) {
  const res = await fetch(`${sandbox.url}/__sandbox/${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`control ${path}: ${res.status} ${await res.text()}`);
  return res.json();
}
await control('limits', { templates_per_hour: 100_000, template_count: 10_000 });

const home = mkdtempSync(join(tmpdir(), 'wacx-bench-tpl-'));
const dir = join(home, 'templates');
const env = {
  PATH: process.env.PATH,
  HOME: home,
  XDG_CONFIG_HOME: join(home, '.config'),
  WACX_KEYCHAIN: '0',
  NO_COLOR: '1',
  CI: 'true',
  WACX_GRAPH_URL: proxyUrl,
  WACX_TOKEN: SEED.token,
  WACX_APP_SECRET: SEED.app.secret,
  WACX_WABA_ID: SEED.waba.id,
};

function wacx(args) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [join(root, 'bin', 'wacx.js'), ...args], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr, ms: performance.now() - started }));
  });
}

const name = (i) => `bench_notice_${String(i).padStart(3, '0')}`;
const file = (i) => join(dir, `${name(i)}.en_US.yaml`);
const { mkdirSync } = await import('node:fs');
mkdirSync(dir, { recursive: true });
for (let i = 0; i < COUNT; i++) {
  writeFileSync(
    file(i),
    `name: ${name(i)}
language: en_US
category: UTILITY
components:
  - type: BODY
    text: Hi {{1}}, notice ${i} about your order {{2}} is ready in your account.
    example:
      body_text: [["Pablo", "A-${1000 + i}"]]
  - type: FOOTER
    text: Reply STOP to opt out
`,
  );
}

const failures = [];
const check = (ok, message) => {
  if (!ok) failures.push(message);
};

try {
  // ---- setup: create the 200 templates
  log = [];
  const setup = await wacx(['templates', 'push', dir, '--json']);
  check(setup.code === 0, `setup push exited ${setup.code}: ${setup.stderr}`);
  const setupWrites = writes();
  check(setupWrites.length === COUNT, `setup push made ${setupWrites.length} write calls, expected ${COUNT}`);
  await control('flush', {}); // reviews done: all APPROVED

  // ---- plan of COUNT unchanged templates
  log = [];
  const plan = await wacx(['templates', 'plan', dir, '--json']);
  check(plan.code === 0, `plan exited ${plan.code}: ${plan.stderr}`);
  const summary = plan.code === 0 ? JSON.parse(plan.stdout).summary : {};
  check(
    summary.unchanged === COUNT && summary.create === 0 && summary.update === 0,
    `plan summary ${JSON.stringify(summary)}`,
  );
  const planWrites = writes().length;
  const planGets = log.length - planWrites;
  check(planWrites === 0, `plan made ${planWrites} write calls, expected 0`);
  check(plan.ms < PLAN_TARGET_MS, `plan took ${plan.ms.toFixed(0)} ms, target < ${PLAN_TARGET_MS} ms`);

  // ---- change CHANGED of them, push
  for (let i = 0; i < CHANGED; i++) {
    const f = file(i * Math.floor(COUNT / CHANGED));
    writeFileSync(
      f,
      readFileSync(f, 'utf8').replace('is ready in your account.', 'is now ready in your account.'),
    );
  }
  log = [];
  const push = await wacx(['templates', 'push', dir, '--json']);
  check(push.code === 0, `push exited ${push.code}: ${push.stderr}`);
  const pushWrites = writes();
  check(pushWrites.length === CHANGED, `push made ${pushWrites.length} write calls, expected ${CHANGED}`);
  check(
    pushWrites.every((w) => w.method === 'POST' && /^\/v\d+\.0\/\d+$/.test(w.path)),
    `push writes are not all template edits: ${JSON.stringify(pushWrites.slice(0, 3))}`,
  );
  const pushDoc = push.code === 0 ? JSON.parse(push.stdout) : {};

  // ---- and a plan right after shows nothing left to do
  log = [];
  const after = await wacx(['templates', 'plan', dir, '--json']);
  const afterSummary = after.code === 0 ? JSON.parse(after.stdout).summary : {};
  check(afterSummary.unchanged === COUNT, `plan after push: ${JSON.stringify(afterSummary)}`);

  console.log(`templates: ${COUNT}, changed: ${CHANGED}`);
  console.log(`setup push (create ${COUNT}): ${setupWrites.length} write calls, ${setup.ms.toFixed(0)} ms`);
  console.log(
    `plan (${COUNT} unchanged):  ${planWrites} write calls, ${planGets} GET calls, ${plan.ms.toFixed(0)} ms (target < ${PLAN_TARGET_MS} ms, 0 writes)`,
  );
  console.log(
    `push (${CHANGED} changed):     ${pushWrites.length} write calls (target exactly ${CHANGED}), applied ${pushDoc.applied ?? '?'}, ${push.ms.toFixed(0)} ms`,
  );
  console.log(
    `plan after push:          ${afterSummary.unchanged ?? '?'} unchanged, ${after.ms.toFixed(0)} ms`,
  );
} finally {
  proxy.close();
  await sandbox.close();
  rmSync(home, { recursive: true, force: true });
}

if (failures.length > 0) {
  for (const f of failures) console.error(`MISSED: ${f}`);
  process.exitCode = 1;
} else {
  console.log('OK: all targets met');
}
