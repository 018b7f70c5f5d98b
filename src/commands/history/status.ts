import type { Command } from 'commander';
import { defineCommand } from '../../cli/define.js';
import type { Deps } from '../../cli/deps.js';
import { duration } from '../../cli/flags.js';
import { ExitCode, UsageError } from '../../lib/errors.js';
import type { historyStatus } from '../../lib/history/queries.js';

interface StatusOptions {
  watch?: boolean;
  interval: string;
  timeout?: string;
  phoneNumberId?: string;
}

export default defineCommand({
  flags: (cmd: Command) => {
    cmd
      .description(
        'Show the history import (per phase, chunks, missing chunks) and the contact sync, from received webhooks.',
      )
      .option('--watch', 'keep updating until the import is complete, declined or failed')
      .option('--interval <seconds>', 'seconds between updates with --watch', '2')
      .option(
        '--timeout <duration>',
        'with --watch: stop waiting after this long (e.g. 30m, 2h); exit 8 if still in progress',
      )
      .addHelpText(
        'after',
        `
Reads the local store filled by \`wacx webhooks serve\` / \`wacx webhooks ingest\`. History is complete when a chunk
reports progress 100 and no chunk_order is missing.

Exit codes: 0 complete, 8 still in progress (also when --watch --timeout runs out), 1 declined (2593109),
failed or not requested, 130 Ctrl+C.

Examples:
  $ wacx history status
  $ wacx history status --watch --interval 5
  $ wacx history status --watch --timeout 30m    # in cron or CI: never waits forever
  $ wacx history status --json | jq .history.progress`,
      );
  },
  run: (deps, opts: StatusOptions) => run(opts, deps),
});

export async function run(opts: StatusOptions, deps: Deps): Promise<number> {
  // The store's queries and the status rules load when the command runs, not for its `--help`.
  const [{ historyStatus }, { isPending, statusExitCode, statusJson, statusLines, statusSummary }] =
    await Promise.all([import('../../lib/history/queries.js'), import('../../lib/history/status.js')]);
  const io = deps.io;
  const interval = Number(opts.interval);
  if (!Number.isFinite(interval) || interval <= 0 || interval > 3600) {
    throw new UsageError(`"${opts.interval}" is not a number of seconds between 0 and 3600.`, {
      location: '--interval',
    });
  }
  const timeoutMs = opts.timeout === undefined ? null : duration('--timeout', { min: 1 })(opts.timeout);
  if (timeoutMs !== null && !opts.watch) {
    throw new UsageError('--timeout only applies with --watch.', {
      location: '--timeout',
      hint: 'Add --watch, or drop --timeout.',
    });
  }
  const phoneNumberId = deps.config().withFlags({ phoneNumberId: opts.phoneNumberId }).get('phoneNumberId');
  const store = await deps.store();
  const read = () => historyStatus(store.db, phoneNumberId);

  if (!opts.watch) {
    const s = read();
    const now = deps.clock.now();
    if (deps.globals.json) io.printJson(statusJson(s, now));
    else for (const l of statusLines(s, now)) io.out(l);
    return finalHint(deps, s, statusExitCode(s));
  }

  const deadline = timeoutMs === null ? null : deps.clock.now() + timeoutMs;
  const redraw = io.stdoutIsTTY && !io.ci && !deps.globals.json;
  let drawn = 0;
  let last = '';
  for (;;) {
    const s = read();
    const now = deps.clock.now();
    if (deps.globals.json) {
      const obj = statusJson(s, now);
      const key = JSON.stringify({ ...obj, window_left_seconds: null });
      if (key !== last) io.printJson({ at: new Date(now).toISOString(), ...obj }, { ndjson: true });
      last = key;
    } else if (redraw) {
      const lines = statusLines(s, now);
      if (drawn > 0) io.write(`\x1b[${drawn}A\x1b[0J`);
      for (const l of lines) io.out(l);
      drawn = lines.length;
    } else {
      const line = statusSummary(s);
      if (line !== last) io.out(`${new Date(now).toISOString()} ${line}`);
      last = line;
    }
    if (!isPending(s.history.state)) return finalHint(deps, s, statusExitCode(s));
    const left = deadline === null ? Number.POSITIVE_INFINITY : deadline - deps.clock.now();
    if (left <= 0) {
      io.warn(
        `Stopped watching after ${opts.timeout} (--timeout): the history import is not complete yet (${s.history.state}).`,
      );
      return finalHint(deps, s, statusExitCode(s));
    }
    try {
      await deps.clock.sleep(Math.min(interval * 1000, left), deps.signal);
    } catch {
      io.info('Stopped watching.');
      return ExitCode.CANCELLED;
    }
  }
}

/** Prints what to do next (not with --json) and returns `code`, the status's exit code. */
function finalHint(deps: Deps, s: ReturnType<typeof historyStatus>, code: number): number {
  const io = deps.io;
  if (deps.globals.json) return code;
  const h = s.history;
  if (h.state === 'not_requested') {
    io.info(
      `${io.style.cyan('→')} No history sync requested or received yet: run \`wacx history sync\` within 24 h of onboarding.`,
    );
  } else if (h.state === 'requested') {
    io.info(
      `${io.style.cyan('→')} Waiting for history webhooks: keep \`wacx webhooks serve\` running and the Business App open on the phone.`,
    );
  } else if (h.state === 'in_progress' && h.missingChunks.length > 0) {
    io.info(
      `${io.style.cyan('→')} Chunks may arrive out of order; Meta redelivers missed webhooks for up to 7 days.`,
    );
  }
  return code;
}
