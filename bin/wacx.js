#!/usr/bin/env node
// Launcher: checks the Node version, runs the built CLI, sets process.exitCode. Never process.exit on success.
const [major] = process.versions.node.split('.').map(Number);
if (major < 20) {
  process.stderr.write(`wacx needs Node.js 20 or newer (this is ${process.versions.node}).\n`);
  process.exitCode = 1;
} else {
  const controller = new AbortController();
  let interrupts = 0;
  const onSignal = (signal) => {
    interrupts++;
    if (interrupts > 1 || signal === 'SIGHUP') process.exit(130);
    if (process.stderr.isTTY) process.stderr.write('\nStopping… (press Ctrl+C again to force)\n');
    controller.abort(Object.assign(new Error(`Interrupted by ${signal}`), { name: 'AbortError' }));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const { main } = await import('../dist/cli.js');
  process.exitCode = await main(process.argv.slice(2), {
    env: process.env,
    streams: { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr },
    signal: controller.signal,
  });
  if (controller.signal.aborted && process.exitCode === 0) process.exitCode = 130;
}
