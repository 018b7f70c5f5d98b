#!/usr/bin/env node
// Launcher: checks the Node version, runs the built CLI, sets process.exitCode. Never process.exit on success.
// CommonJS (bin/package.json), like the bundle it runs: a run that loads no ES module never starts Node's ES module
// loader (scripts/build.mjs says why).
const nodeModule = require('node:module');

const [major] = process.versions.node.split('.').map(Number);
if (major < 20) {
  process.stderr.write(`wacx needs Node.js 20 or newer (this is ${process.versions.node}).\n`);
  process.exitCode = 1;
} else {
  // Node >= 22.1 can cache compiled code between runs (faster start-up); older versions simply skip it.
  try {
    nodeModule.enableCompileCache?.();
  } catch {
    // a read-only cache directory only costs speed
  }
  // `wacx … | head` closes the pipe early: that is not an error, stop quietly.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error) => {
      if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw error;
    });
  }
  const controller = new AbortController();
  let interrupts = 0;
  // First Ctrl+C (or SIGTERM): abort deps.signal so the command stops cleanly (checkpoints, exit 130).
  // Second one: exit at once.
  const onSignal = (signal) => {
    interrupts++;
    if (interrupts > 1) process.exit(130);
    if (process.stderr.isTTY) process.stderr.write('\nStopping… (press Ctrl+C again to force)\n');
    controller.abort(Object.assign(new Error(`Interrupted by ${signal}`), { name: 'AbortError' }));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const { main } = require('../dist/bundle/main.cjs');
  main(process.argv.slice(2), {
    env: process.env,
    // stdin is opened on first use (a prompt, --token-stdin): most runs, and every --help, never read it.
    streams: {
      get stdin() {
        return process.stdin;
      },
      stdout: process.stdout,
      stderr: process.stderr,
    },
    signal: controller.signal,
  }).then((code) => {
    process.exitCode = code;
  });
}
