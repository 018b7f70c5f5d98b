const steps = ['./dist/lib/errors.js','./dist/lib/config/redact.js','./dist/lib/graph/url.js','./dist/lib/config/settings.js','./dist/lib/config/profiles.js','./dist/lib/config/secrets.js','./dist/lib/config/index.js','./dist/lib/clock.js','./dist/lib/io/io.js','./dist/lib/io/prompter.js','./dist/lib/version.js','./dist/lib/graph/error-codes.js','./dist/lib/graph/errors.js','./dist/lib/exit-codes.js','./dist/lib/deps.js','commander','./dist/commands/registry.js','./dist/cli.js'];
const out = [];
for (const s of steps) { const t = performance.now(); await import(s); out.push(performance.now() - t); }
const { main } = await import('./dist/cli.js');
const t = performance.now();
await main(['--help'], { env: {}, streams: { stdin: process.stdin, stdout: { write() {} }, stderr: { write() {} } } });
out.push(performance.now() - t);
out.push(performance.now());
console.log(JSON.stringify(out));
