#!/usr/bin/env node
// `npm run demo`: walks through wacx against the built-in sandbox, with no Meta account and nothing
// written outside a temporary directory: eligibility → onboard (the QR code "scanned" by an HTTP GET)
// → history status → templates push → a small send → doctor. Exits 0 when every step did what it should.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const wacxBin = join(root, 'bin', 'wacx.js');
const home = mkdtempSync(join(tmpdir(), 'wacx-demo-'));
const APP_SECRET = 'sandbox-app-secret-0123456789abcdef';
const VERIFY_TOKEN = 'sandbox-verify-token';
const env = {
  ...process.env,
  HOME: home,
  XDG_CONFIG_HOME: join(home, '.config'),
  WACX_CONFIG_DIR: join(home, 'wacx'),
  WACX_PROFILE: 'demo',
  WACX_KEYCHAIN: '0',
  WACX_APP_SECRET: APP_SECRET,
  WACX_VERIFY_TOKEN: VERIFY_TOKEN,
  WACX_TOKEN: '',
};
const children = [];
const bold = (s) => (process.stdout.isTTY && !process.env.NO_COLOR ? `\x1b[1m${s}\x1b[0m` : s);

function title(text) {
  process.stdout.write(`\n${bold(`── ${text}`)}\n`);
}

/** Runs `wacx …` showing its output; resolves with its exit code and what it printed. */
function wacx(args, { quiet = false, onStderr } = {}) {
  process.stdout.write(`${bold('$')} wacx ${args.map((a) => (/\s/.test(a) ? `"${a}"` : a)).join(' ')}\n`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [wacxBin, ...args], {
      env,
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
      if (!quiet) process.stdout.write(d);
    });
    child.stderr.on('data', (d) => {
      stderr += d;
      if (!quiet) process.stdout.write(d);
      onStderr?.(stderr);
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Starts a long-running `wacx …` and resolves with the first JSON document it prints on stdout. */
function startServer(args) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [wacxBin, ...args], {
      env,
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let out = '';
    let err = '';
    child.stderr.on('data', (d) => {
      err += d;
    });
    child.stdout.on('data', (d) => {
      out += d;
      for (let end = out.indexOf('}'); end !== -1; end = out.indexOf('}', end + 1)) {
        try {
          resolve(JSON.parse(out.slice(0, end + 1)));
          return;
        } catch {
          // not a whole document yet
        }
      }
    });
    child.on('close', (code) => reject(new Error(`wacx ${args[0]} exited ${code}: ${err}`)));
  });
}

function expect(step, result, codes = [0]) {
  if (!codes.includes(result.code))
    throw new Error(`${step}: exit code ${result.code}, expected ${codes.join(' or ')}`);
}

async function main() {
  title('Start a webhook receiver and the sandbox (a local WhatsApp Cloud API)');
  const receiver = await startServer(['webhooks', 'serve', '--port', '0', '--json']);
  const world = await startServer([
    'sandbox',
    '--port',
    '0',
    '--json',
    '--quiet',
    '--no-problem-templates',
    '--webhook-url',
    receiver.url,
    '--review-delay',
    '500',
    '--status-delay',
    '200',
  ]);
  const graphUrl = world.url ?? world.graph_url;
  process.stdout.write(`receiver ${receiver.url}\nsandbox  ${graphUrl}\n`);
  expect('config', await wacx(['config', 'set', 'graphUrl', graphUrl]));
  expect('config', await wacx(['config', 'set', 'appId', '1000000000000001']));
  expect('config', await wacx(['config', 'set', 'configId', '4000000000000001']));

  title('1. Can this Business App number be onboarded?');
  expect(
    'eligibility',
    await wacx(['eligibility', '+1 555 010 0003', '--app-version', '2.25.3', '--days-active', '30']),
  );

  title(
    '2. Onboard it: Embedded Signup URL, the QR code scanned (here: an HTTP GET), code exchange, webhooks, syncs',
  );
  let scanned = false;
  const onboard = await wacx(['onboard', '--yes', '--timeout', '60s'], {
    onStderr: (text) => {
      const url = text.match(/https?:\/\/127\.0\.0\.1:\d+\/v\d+\.0\/dialog\/oauth\?\S+/)?.[0];
      if (url && !scanned) {
        scanned = true;
        process.stdout.write('(demo: scanning the QR code…)\n');
        fetch(url, { redirect: 'follow' }).catch((error) => process.stdout.write(`scan failed: ${error}\n`));
      }
    },
  });
  expect('onboard', onboard);

  title('3. Follow the history import until it is complete');
  expect('history status', await wacx(['history', 'status', '--watch', '--interval', '1']));

  title('4. Templates as code: lint, plan, push and wait for the review');
  expect('templates lint', await wacx(['templates', 'lint', 'examples/templates']));
  expect('templates plan', await wacx(['templates', 'plan', 'examples/templates']));
  expect(
    'templates push',
    await wacx(['templates', 'push', 'examples/templates', '--wait', '--timeout', '30s']),
  );

  title('5. A small campaign from a CSV (paced, resumable, never twice)');
  const sendArgs = [
    'send',
    '--csv',
    'examples/contacts.csv',
    '--template',
    'shipping_update',
    '--language',
    'en_US',
  ];
  expect('send', await wacx([...sendArgs, '--map', 'name=1', '--map', 'order=2']));
  expect('send again', await wacx([...sendArgs, '--map', 'name=1', '--map', 'order=2']));

  title('6. Sync health');
  expect('doctor', await wacx(['doctor']));

  process.stdout.write(`\n${bold('Demo complete.')} Everything above ran against the local sandbox.\n`);
}

let exitCode = 0;
try {
  await main();
} catch (error) {
  process.stderr.write(`\nDemo failed: ${error instanceof Error ? error.message : error}\n`);
  exitCode = 1;
} finally {
  for (const child of children) child.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 300));
  rmSync(home, { recursive: true, force: true });
}
process.exitCode = exitCode;
