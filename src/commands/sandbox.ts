import type { Command } from 'commander';
import { defineCommand } from '../cli/define.js';
import type { Deps } from '../cli/deps.js';
import { integer, port } from '../cli/flags.js';
import { UsageError } from '../lib/errors.js';
import { parseScenarioSpec, SCENARIOS, ScenarioError } from '../sandbox/scenario-spec.js';
import { SEED } from '../sandbox/seed.js';

interface Opts {
  port?: string;
  host?: string;
  webhookUrl?: string;
  appSecret?: string;
  verifyToken?: string;
  scenario?: string;
  reviewDelay?: string;
  statusDelay?: string;
  requireAppsecretProof?: boolean;
  seedActivity?: boolean;
  problemTemplates?: boolean;
  quiet?: boolean;
}

export default defineCommand({
  flags: (cmd: Command) => {
    cmd
      .description('Run a local, stateful emulator of the WhatsApp Cloud API (Graph API) with a seeded world')
      .option('--port <n>', 'port to listen on (0 = any free port)', '8787')
      .option('--host <host>', 'address to listen on', '127.0.0.1')
      .option('--webhook-url <url>', 'POST signed webhooks here (default: the sandbox keeps them itself)')
      .option(
        '--app-secret <secret>',
        'app secret used to sign webhooks and check appsecret_proof',
        SEED.app.secret,
      )
      .option('--verify-token <token>', 'verify token of the webhook handshake', SEED.verifyToken)
      .option(
        '--scenario <name>',
        `apply a scenario at start: ${SCENARIOS.join(', ')} (parameters: name:key=value,…)`,
      )
      .option('--review-delay <ms>', 'template review delay, PENDING -> APPROVED/REJECTED', '2000')
      .option('--status-delay <ms>', 'pacing of sent -> delivered -> read status webhooks', '500')
      .option('--require-appsecret-proof', 'reject calls without a valid appsecret_proof')
      .option('--seed-activity', 'start with onboarding activity for the coexistence number (webhooks)')
      .option(
        '--no-problem-templates',
        'do not seed the PAUSED and DISABLED templates (a fully healthy world)',
      )
      .option('--quiet', 'do not log requests and webhooks on stderr')
      .addHelpText(
        'after',
        `
Runs until Ctrl+C. Graph paths: http://HOST:PORT/v21.0 … /v27.0. Control and inspection API under /__sandbox/
(messages, send-counts, webhooks, scenario, clock, numbers/{id}, emit, reset, flush, limits).
The API may enforce less than a number advertises: numbers/{id} {"enforced_mps": 10} (null: the advertised rate
again) at any time, {"throttle_storm_ms": 10000} refuses every send with 130429 for 10 s; at start with
--scenario throttling:enforced_mps=10,storm_ms=0.

Examples:
  $ wacx sandbox
  $ wacx sandbox --port 0 --json
  $ wacx sandbox --webhook-url http://127.0.0.1:3000/webhook --scenario history_declined
  $ wacx sandbox --scenario faults:error_rate=0.1,latency_ms=50
  $ wacx sandbox --scenario throttling:10                  # every number enforces 10 msg/s
  $ eval "$(curl -s http://127.0.0.1:8787/__sandbox/env)"   # point this shell's wacx at it`,
      );
  },
  run: (deps, opts: Opts) => run(opts, deps),
});

export async function run(opts: Opts, deps: Deps): Promise<number> {
  const listenPort = port('--port')(opts.port ?? '8787');
  const reviewDelayMs = integer('--review-delay', 0, 86_400_000)(opts.reviewDelay ?? '2000');
  const statusDelayMs = integer('--status-delay', 0, 86_400_000)(opts.statusDelay ?? '500');
  const host = opts.host ?? '127.0.0.1';
  if (opts.webhookUrl !== undefined) {
    let ok = false;
    try {
      ok = /^https?:$/.test(new URL(opts.webhookUrl).protocol);
    } catch {
      ok = false;
    }
    if (!ok)
      throw new UsageError(`--webhook-url must be an http(s) URL, got "${opts.webhookUrl}".`, {
        location: '--webhook-url',
      });
  }
  if (opts.scenario !== undefined) {
    const { name } = parseScenarioSpec(opts.scenario);
    if (!(SCENARIOS as readonly string[]).includes(name)) {
      throw new UsageError(`Unknown scenario "${name}".`, {
        location: '--scenario',
        hint: `Use one of: ${SCENARIOS.join(', ')}.`,
      });
    }
  }
  if (opts.appSecret !== undefined && opts.appSecret.length < 8) {
    throw new UsageError('--app-secret must be at least 8 characters.', { location: '--app-secret' });
  }
  const io = deps.io;
  if (!['127.0.0.1', 'localhost', '::1'].includes(host)) {
    io.warn(`Listening on ${host}: the sandbox has no real security, keep it off untrusted networks.`);
  }
  const { startSandbox } = await import('../sandbox/server.js');
  const sandbox = await startSandbox({
    port: listenPort,
    host,
    ...(opts.webhookUrl ? { webhookUrl: opts.webhookUrl } : {}),
    ...(opts.appSecret ? { appSecret: opts.appSecret } : {}),
    ...(opts.verifyToken ? { verifyToken: opts.verifyToken } : {}),
    ...(opts.scenario ? { scenario: opts.scenario } : {}),
    reviewDelayMs,
    statusDelayMs,
    requireAppSecretProof: Boolean(opts.requireAppsecretProof),
    seedActivity: Boolean(opts.seedActivity),
    problemTemplates: opts.problemTemplates !== false,
    ...(opts.quiet ? { quiet: true } : { log: (line: string) => io.info(io.style.dim(line)) }),
  }).catch((error: unknown) => {
    throw startError(error, opts.scenario, listenPort, host);
  });
  try {
    const world = describeWorld(sandbox.url, sandbox.appSecret, opts.verifyToken ?? SEED.verifyToken);
    // The sandbox's token and secret are public fixtures (src/sandbox/seed.ts), printed on purpose: written
    // straight to stdout because the output redactor masks anything that looks like a Meta token.
    const stdout = io.streams.stdout;
    if (deps.globals.json) {
      stdout.write(`${JSON.stringify(world, null, 2)}\n`);
    } else {
      io.success(`Sandbox running at ${sandbox.url} (Ctrl+C to stop)`);
      stdout.write(humanWorld(world));
    }
    await new Promise<void>((resolve) => {
      if (deps.signal.aborted) resolve();
      else deps.signal.addEventListener('abort', () => resolve(), { once: true });
    });
  } finally {
    await sandbox.close();
  }
  io.info('Sandbox stopped.');
  return 0;
}

/** A bad scenario parameter or a port that cannot be listened on, as a usage error naming the flag. */
function startError(
  error: unknown,
  scenario: string | undefined,
  port: number | undefined,
  host: string,
): unknown {
  if (error instanceof ScenarioError) {
    return new UsageError(`${error.message} (in "${scenario}").`, { location: '--scenario', cause: error });
  }
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE')
    return new UsageError(`Port ${port} on ${host} is already in use.`, {
      location: '--port',
      hint: 'Stop what listens there, pass another --port, or --port 0 for any free port.',
      cause: error,
    });
  if (code === 'EACCES')
    return new UsageError(`Not allowed to listen on port ${port} (ports below 1024 need privileges).`, {
      location: '--port',
      hint: 'Pass a port from 1024 up, or --port 0 for any free port.',
      cause: error,
    });
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EAI_AGAIN')
    return new UsageError(`Cannot listen on "${host}": not an address of this machine.`, {
      location: '--host',
      hint: 'Use 127.0.0.1 (the default), ::1, or an address of one of its interfaces.',
      cause: error,
    });
  return error;
}

export function describeWorld(url: string, appSecret: string, verifyToken: string) {
  const p = SEED.phoneNumbers;
  const env = {
    WACX_GRAPH_URL: url,
    WACX_TOKEN: SEED.token,
    WACX_APP_ID: SEED.app.id,
    WACX_APP_SECRET: appSecret,
    WACX_BUSINESS_ID: SEED.businessId,
    WACX_WABA_ID: SEED.waba.id,
    WACX_PHONE_NUMBER_ID: p.coex.id,
    WACX_CONFIG_ID: SEED.configId,
  };
  return {
    url,
    control_url: `${url}/__sandbox`,
    app: { id: SEED.app.id, name: SEED.app.name, secret: appSecret },
    business_id: SEED.businessId,
    waba: { id: SEED.waba.id, name: SEED.waba.name },
    token: SEED.token,
    config_id: SEED.configId,
    verify_token: verifyToken,
    phone_numbers: {
      coexistence: { id: p.coex.id, display: p.coex.display, mps: p.coex.mps },
      cloud_api: { id: p.cloud.id, display: p.cloud.display, mps: p.cloud.mps },
      pending_business_app: { id: p.pending.id, display: p.pending.display },
    },
    templates: SEED.templates.map((t) => ({
      id: t.id,
      name: t.name,
      language: t.language,
      status: t.status,
    })),
    env,
    config_commands: [
      `wacx config set graphUrl ${url} --profile sandbox`,
      `wacx config set appId ${SEED.app.id} --profile sandbox`,
      `wacx config set businessId ${SEED.businessId} --profile sandbox`,
      `wacx config set wabaId ${SEED.waba.id} --profile sandbox`,
      `wacx config set phoneNumberId ${p.coex.id} --profile sandbox`,
      `wacx config set configId ${SEED.configId} --profile sandbox`,
    ],
  };
}

function humanWorld(w: ReturnType<typeof describeWorld>): string {
  const rows: [string, string][] = [
    ['Graph URL', w.url],
    ['Control API', w.control_url],
    ['App id', w.app.id],
    ['App secret', w.app.secret],
    ['Business id', w.business_id],
    ['WABA id', `${w.waba.id} (${w.waba.name})`],
    ['Token', w.token],
    [
      'Coexistence number',
      `${w.phone_numbers.coexistence.id} ${w.phone_numbers.coexistence.display} (20 msg/s)`,
    ],
    ['Cloud API number', `${w.phone_numbers.cloud_api.id} ${w.phone_numbers.cloud_api.display} (80 msg/s)`],
    [
      'Pending App number',
      `${w.phone_numbers.pending_business_app.id} ${w.phone_numbers.pending_business_app.display} (Embedded Signup)`,
    ],
    ['Configuration id', w.config_id],
    ['Verify token', w.verify_token],
    ['Templates', w.templates.map((t) => `${t.name}/${t.language}`).join(', ')],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  const lines = rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`);
  lines.push('', 'Point wacx at it (environment):');
  for (const [k, v] of Object.entries(w.env)) lines.push(`  export ${k}=${v}`);
  lines.push('', 'or a profile (the token goes in with `wacx auth login`, or WACX_TOKEN):');
  for (const c of w.config_commands) lines.push(`  ${c}`);
  return `${lines.join('\n')}\n`;
}
