import { isIP } from 'node:net';
import type { Command } from 'commander';
import { defineCommand } from '../../cli/define.js';
import type { Deps } from '../../cli/deps.js';
import { byteSize, integer, port } from '../../cli/flags.js';
import { ConfigError, ExitCode, UsageError } from '../../lib/errors.js';
import type { RequestOutcome } from '../../lib/webhooks/server.js';
import type { StoredEvent } from '../../lib/webhooks/storage.js';

interface ServeOptions {
  port: string;
  host: string;
  path: string;
  verifyToken?: string;
  /** Bytes; parsed by byteSize. */
  maxBody?: number;
  /** Bytes the bodies in flight may hold in total; parsed by byteSize. */
  maxBuffered?: number;
  maxConnections?: number;
}

/** The default body limit (Meta's documented maximum, 3 MB; storage.ts MAX_BODY_BYTES) and the largest allowed. */
const DEFAULT_MAX_BODY = 3 * 1024 * 1024;
const LARGEST_MAX_BODY = 64 * 1024 * 1024;
/** The largest buffer budget (--max-buffered) and connection cap (--max-connections) accepted. */
const LARGEST_MAX_BUFFERED = 4 * 1024 * 1024 * 1024;
const LARGEST_MAX_CONNECTIONS = 65_535;
/** How often the counters the server keeps without a request to report (408s, refused connections, 503s) are read. */
const PRESSURE_REPORT_MS = 1000;

export default defineCommand({
  flags: (cmd: Command) => {
    cmd
      .description(
        'Run the signed webhook receiver: answers the verification handshake, checks X-Hub-Signature-256, stores each event once in the local database.',
      )
      .option('--port <n>', 'port to listen on (0 = any free port)', '8080')
      .option(
        '--host <addr>',
        'address to listen on (use 0.0.0.0 behind a reverse proxy or tunnel)',
        '127.0.0.1',
      )
      .option('--path <path>', 'callback path', '/webhook')
      .option('--verify-token <token>', 'token expected in the GET handshake (env WACX_VERIFY_TOKEN)')
      .option(
        '--max-body <size>',
        "largest body accepted, e.g. 3mb or 512kb (larger ones get 413; default 3mb, Meta's documented maximum)",
        byteSize('--max-body', 1024, LARGEST_MAX_BODY),
      )
      .option(
        '--max-buffered <size>',
        'bodies being received or stored hold at most this much in all; a request that does not fit gets 503 + Retry-After (default 64mb, never below --max-body)',
        byteSize('--max-buffered', 1024, LARGEST_MAX_BUFFERED),
      )
      .option(
        '--max-connections <n>',
        'open connections at most; further ones are closed as soon as accepted (default 256)',
        integer('--max-connections', 1, LARGEST_MAX_CONNECTIONS),
      )
      .addHelpText(
        'after',
        `
The app secret (to verify signatures) comes from the profile or WACX_APP_SECRET.
Events print one line each on stderr; with --json, one NDJSON object per event on stdout.
Requests refused under pressure (503 busy, 408 timeouts, connections over the cap) print a line per second
with what to do, and are counted in the summary printed on stop.
Stops cleanly on Ctrl+C / SIGTERM (exit 0): in-flight requests finish, every acknowledged event is on disk.

Examples:
  $ WACX_VERIFY_TOKEN=s3cret wacx webhooks serve --port 8080
  $ wacx webhooks serve --host 0.0.0.0 --path /meta/webhook --verify-token s3cret --json | jq .summary
  $ wacx webhooks serve --sandbox`,
      );
  },
  run: (deps, opts: ServeOptions) => run(opts, deps),
});

/** ISO 8601 for a time in ms, or null when there is none or a Date cannot hold it (never throws). */
function isoTime(ms: number | null): string | null {
  if (ms === null || !Number.isFinite(ms)) return null;
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

/** 64 MB, 512 KB, 1.5 MB, 900 bytes (kb and mb count 1024, as --max-body and --max-buffered do). */
function formatSize(bytes: number): string {
  const mb = bytes / 1024 ** 2;
  if (mb >= 1) return `${Number.isInteger(mb) ? mb : mb.toFixed(1)} MB`;
  const kb = bytes / 1024;
  if (kb >= 1) return `${Number.isInteger(kb) ? kb : kb.toFixed(1)} KB`;
  return `${bytes} bytes`;
}

function seconds(ms: number): string {
  return `${Number.isInteger(ms / 1000) ? ms / 1000 : (ms / 1000).toFixed(1)} s`;
}

/** An IP address, or a host name this machine can resolve at listen time (a malformed dotted quad is not one). */
function parseHost(raw: string): string {
  const host = raw.trim();
  const dotted = /^[\d.]+$/.test(host);
  if (!host || (dotted && isIP(host) !== 4) || !/^[\w.:-]+$/.test(host)) {
    throw new UsageError(`"${raw}" is not an address to listen on.`, {
      location: '--host',
      hint: 'Use an address of this machine: 127.0.0.1 (this computer only) or 0.0.0.0 (all interfaces).',
    });
  }
  return host;
}

export async function run(opts: ServeOptions, deps: Deps): Promise<number> {
  // The receiver's modules (payload schemas, the store) load when it starts, not for `--help`.
  const [{ describeRejection }, { startWebhookServer, WEBHOOK_SERVER_LIMITS }, { startCheckpointer }] =
    await Promise.all([
      import('../../lib/webhooks/rejections.js'),
      import('../../lib/webhooks/server.js'),
      import('../../lib/store/checkpointer.js'),
    ]);
  const io = deps.io;
  const listenPort = port('--port')(opts.port);
  const host = parseHost(opts.host);
  const path = opts.path.startsWith('/') ? opts.path : `/${opts.path}`;
  const appSecret = (await deps.config().secret('appSecret')).value;
  if (!appSecret) {
    throw new ConfigError('No app secret configured: wacx cannot verify webhook signatures without it.', {
      hint: 'Set WACX_APP_SECRET, or run `wacx auth login` with the app secret (App Dashboard › App settings › Basic).',
    });
  }
  const verifyToken = opts.verifyToken ?? deps.verifyToken();
  if (!verifyToken) {
    io.warn(
      'No verify token (--verify-token or WACX_VERIFY_TOKEN): the GET verification handshake will be refused.',
    );
  }
  const store = await deps.store();

  // the receiver's limits, as the server applies them (for the lines that name them)
  const L = WEBHOOK_SERVER_LIMITS;
  const maxBody = opts.maxBody ?? DEFAULT_MAX_BODY;
  // as the server does: one body of the largest accepted size always fits
  const maxBuffered = Math.max(opts.maxBuffered ?? L.maxBufferedBytes, maxBody);
  const maxConnections = opts.maxConnections ?? L.maxConnections;

  // Output is buffered per turn of the event loop: under load, one write per batch instead of one per event.
  const outLines: string[] = [];
  const errLines: string[] = [];
  let flushScheduled = false;
  const flushOutput = () => {
    flushScheduled = false;
    if (outLines.length) io.write(outLines.splice(0).join(''));
    if (errLines.length) io.info(errLines.splice(0).join('\n'));
  };
  const emit = (err: string | null, json: Record<string, unknown> | null) => {
    if (err !== null) errLines.push(err);
    if (json !== null && deps.globals.json) outLines.push(`${JSON.stringify(json)}\n`);
    if (!flushScheduled) {
      flushScheduled = true;
      setImmediate(flushOutput);
    }
  };
  const warn = (m: string) => `${io.style.yellow('!')} ${m}`;

  const onEvent = (e: StoredEvent) => {
    const problems = e.problems ?? [];
    emit(
      `${io.style.dim(isoTime(e.receivedAt) ?? String(e.receivedAt))} ${e.parsed ? '' : io.style.yellow('unparsed ')}${e.summary}${
        problems.length ? ` ${io.style.yellow(`(problem: ${problems.join('; ')})`)}` : ''
      }`,
      {
        type: 'event',
        id: e.id,
        field: e.field,
        kind: e.kind,
        parsed: e.parsed,
        waba_id: e.wabaId,
        phone_number_id: e.phoneNumberId,
        occurred_at: isoTime(e.occurredAt),
        received_at: isoTime(e.receivedAt),
        summary: e.summary,
        problems,
      },
    );
  };
  // The printer must never take the receiver down: an event it cannot print is reported, not thrown.
  const onEventSafely = (e: StoredEvent) => {
    try {
      onEvent(e);
    } catch (error) {
      emit(warn(`Could not print event ${e.id}: ${(error as Error).message}`), null);
    }
  };
  const onRequest = (r: RequestOutcome) => {
    if (r.outcome === 'rejected') {
      emit(
        warn(
          `Rejected a POST (HTTP ${r.status}): ${r.reason ? describeRejection(r.reason) : 'store error'}.`,
        ),
        {
          type: 'rejected',
          status: r.status,
          reason: r.reason ?? null,
        },
      );
    } else if (r.outcome === 'duplicate') {
      if (io.verbose) emit(io.style.dim(`Duplicate delivery (${r.duplicates} events already stored).`), null);
    } else if (r.outcome === 'verified') {
      emit(`${io.style.green('✓')} Answered the verification handshake.`, null);
    } else if (r.outcome === 'signup_recorded') {
      emit(`${io.style.green('✓')} Received a signup redirect for a waiting \`wacx onboard\`.`, {
        type: 'signup',
        status: r.status,
      });
    } else if (r.outcome === 'verify_refused') {
      emit(warn('Refused a verification handshake (wrong hub.verify_token or hub.mode).'), null);
    } else if (r.outcome === 'overloaded') {
      // the line for people comes once a second with the count (reportPressure): a burst of 503s is one line
      emit(null, {
        type: 'overloaded',
        status: r.status,
        retry_after_s: L.retryAfterSeconds,
        max_buffered_bytes: maxBuffered,
      });
    }
  };

  // What the server counts without a request to report it on (a timed-out or refused connection), and 503s, are
  // read once a second: one line per kind with how many, what happened and what to do.
  const requests = (n: number) => (n === 1 ? '1 request' : `${n} requests`);
  const reported = { overloaded: 0, timedOut: 0, connectionsRefused: 0 };
  const reportPressure = (stats: { overloaded: number; timedOut: number; connectionsRefused: number }) => {
    const overloaded = stats.overloaded - reported.overloaded;
    const timedOut = stats.timedOut - reported.timedOut;
    const refused = stats.connectionsRefused - reported.connectionsRefused;
    reported.overloaded = stats.overloaded;
    reported.timedOut = stats.timedOut;
    reported.connectionsRefused = stats.connectionsRefused;
    if (overloaded > 0) {
      emit(
        warn(
          `503 busy (${requests(overloaded)}): the bodies in flight already hold the buffer budget (${formatSize(maxBuffered)}, --max-buffered), so nothing was read or stored; Meta retries later (Retry-After ${L.retryAfterSeconds} s). If this repeats, raise --max-buffered or add replicas.`,
        ),
        null,
      );
    }
    if (timedOut > 0) {
      emit(
        warn(
          `408 timeout (${requests(timedOut)}): the client did not send its headers within ${seconds(L.headersTimeoutMs)} or its whole request within ${seconds(L.requestTimeoutMs)}; the connection was closed and nothing stored. Meta sends promptly: look for a slow proxy or tunnel in between, or clients that are not Meta.`,
        ),
        { type: 'timed_out', status: 408, count: timedOut },
      );
    }
    if (refused > 0) {
      emit(
        warn(
          `${refused === 1 ? '1 connection' : `${refused} connections`} refused: ${maxConnections} were already open (--max-connections), so it was closed unread; Meta retries what it could not deliver. If this repeats, raise --max-connections or add replicas.`,
        ),
        { type: 'connections_refused', count: refused, max_connections: maxConnections },
      );
    }
  };

  // Every commit is fsync'ed (synchronous = FULL) and groups the requests that arrived together; the WAL
  // checkpoints (copying pages into the database file, and its fsync) run in a worker thread, not inside a commit
  // that requests wait for.
  const stopCheckpointer = await startCheckpointer(store.db);
  let server: Awaited<ReturnType<typeof startWebhookServer>>;
  try {
    server = await startWebhookServer({
      db: store.db,
      appSecret,
      verifyToken,
      port: listenPort,
      host,
      path,
      onEvent: onEventSafely,
      onRequest,
      clock: deps.clock,
      maxBytes: maxBody,
      maxBufferedBytes: maxBuffered,
      maxConnections,
    });
  } catch (error) {
    await stopCheckpointer();
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') {
      throw new UsageError(`Port ${listenPort} on ${host} is already in use.`, {
        location: '--port',
        hint: 'Pick another one with --port, or --port 0 for any free port.',
      });
    }
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
      throw new UsageError(`Cannot listen on ${host}: it is not an address of this machine (${code}).`, {
        location: '--host',
        hint: 'Use 127.0.0.1 (this computer only) or 0.0.0.0 (all interfaces).',
      });
    }
    if (code === 'EACCES') {
      throw new UsageError(`Cannot listen on ${host}:${listenPort} (${code}).`, {
        location: '--port',
        hint: 'Use a port above 1024, or run behind a reverse proxy.',
      });
    }
    throw error;
  }
  io.success(`Listening on ${server.url} (database ${store.describe()})`);
  io.info(
    io.style.dim('Point your Meta app callback URL here (through a tunnel or reverse proxy). Ctrl+C stops.'),
  );
  if (deps.globals.json)
    io.printJson({ type: 'listening', url: server.url, db: store.describe() }, { ndjson: true });

  const running = server;
  const pressure = setInterval(() => reportPressure(running.stats), PRESSURE_REPORT_MS);
  pressure.unref();

  await new Promise<void>((resolve) => {
    if (deps.signal.aborted) resolve();
    else deps.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  flushOutput();
  io.info('Stopping: finishing in-flight requests…');
  await server.close();
  await stopCheckpointer();
  clearInterval(pressure);
  reportPressure(server.stats);
  flushOutput();
  const s = server.stats;
  const pressed = [
    s.overloaded ? `${s.overloaded} answered 503 busy` : '',
    s.timedOut ? `${s.timedOut} timed out (408)` : '',
    s.connectionsRefused
      ? `${s.connectionsRefused} connection${s.connectionsRefused === 1 ? '' : 's'} refused`
      : '',
  ].filter(Boolean);
  io.info(
    `Stopped. ${s.events} events stored from ${s.stored} deliveries, ${s.duplicates} duplicate deliveries, ${s.rejected} rejected${
      pressed.length ? `, ${pressed.join(', ')}` : ''
    }.`,
  );
  if (deps.globals.json) {
    io.printJson(
      {
        type: 'stopped',
        requests: s.requests,
        events: s.events,
        stored: s.stored,
        duplicates: s.duplicates,
        rejected: s.rejected,
        overloaded: s.overloaded,
        timed_out: s.timedOut,
        connections_refused: s.connectionsRefused,
      },
      { ndjson: true },
    );
  }
  store.close();
  return ExitCode.OK;
}
