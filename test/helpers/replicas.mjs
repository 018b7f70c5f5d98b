// Receiver replicas for tests and benchmarks: `wacx webhooks serve` processes (the built CLI) on one store, and a
// round-robin load balancer in front of them, as a team deploys the receiver. A plain ES module, shared with bench/.
import { spawn } from 'node:child_process';
import { createServer, request } from 'node:http';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The environment of a replica: the shared PostgreSQL store and the app's secrets, nothing of the developer's. */
export function replicaEnv(databaseUrl, { appSecret, verifyToken }) {
  return {
    PATH: process.env.PATH,
    HOME: '/nonexistent',
    NO_COLOR: '1',
    CI: 'true',
    WACX_KEYCHAIN: '0',
    WACX_DATABASE_URL: databaseUrl,
    WACX_APP_SECRET: appSecret,
    WACX_VERIFY_TOKEN: verifyToken,
  };
}

/** Starts one `wacx webhooks serve --json` child on a free port; resolves once it listens. */
export function startReplica(env, args = []) {
  const child = spawn(
    process.execPath,
    [join(root, 'bin', 'wacx.js'), 'webhooks', 'serve', '--port', '0', '--json', ...args],
    {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  const lines = [];
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      const event = JSON.parse(line);
      lines.push(event);
      if (event.type === 'listening') resolve({ url: event.url, child, lines, exited, stderr: () => stderr });
    });
    void exited.then(({ code, signal }) =>
      reject(new Error(`webhooks serve ended (${code ?? signal}): ${stderr}`)),
    );
  });
}

/**
 * An HTTP load balancer: each POST goes to the next replica in turn (a replica that refuses the connection is
 * skipped for the next one, as a health-checking balancer would), its answer passed back; 502 when none answers.
 * `acknowledged[i]` holds the bodies replica i answered 200.
 */
export async function startBalancer(targets) {
  const acknowledged = targets.map(() => []);
  let next = 0;
  const forward = (i, body, headers) =>
    new Promise((resolve) => {
      const upstream = request(targets[i], { method: 'POST', headers }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 502, body: Buffer.concat(chunks) }));
        res.on('error', () => resolve(null));
      });
      upstream.on('error', () => resolve(null));
      upstream.end(body);
    });
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks);
      const headers = { ...req.headers, host: undefined, connection: 'close' };
      delete headers.host;
      for (let tries = 0; tries < targets.length; tries++) {
        const i = next++ % targets.length;
        const answer = await forward(i, body, headers);
        if (answer === null) continue;
        if (answer.status === 200) acknowledged[i].push(body.toString('utf8'));
        res.writeHead(answer.status, { 'content-type': 'text/plain' }).end(answer.body);
        return;
      }
      res.writeHead(502).end('no replica answered');
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}/webhook`,
    acknowledged,
    /** The replicas' URLs, in place: a test may put a new replica in a stopped one's place. */
    targets,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** The status ids (wamids) in a webhook body. */
export function statusIds(body) {
  const ids = [];
  for (const entry of JSON.parse(body).entry ?? [])
    for (const change of entry.changes ?? []) for (const s of change.value?.statuses ?? []) ids.push(s.id);
  return ids;
}
