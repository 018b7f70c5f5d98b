import type { Command } from 'commander';
import { defineCommand } from '../cli/define.js';
import type { Deps } from '../cli/deps.js';
import { phoneNumberIdOption, positiveNumber, wabaIdOption } from '../cli/flags.js';
import { DEFAULT_DOCTOR_OPTIONS, type DoctorOptions } from '../lib/doctor/types.js';

/** The checks, their gathering and rendering: loaded when the doctor runs, not for `wacx doctor --help`. */
type Doctor = typeof import('../lib/doctor/run.js');

import { UsageError } from '../lib/errors.js';

interface DoctorFlags {
  strict?: boolean;
  offline?: boolean;
  skip?: string[];
  activityWarnDays?: string;
  activityFailDays?: string;
  wabaId?: string;
  phoneNumberId?: string;
}

const collect = (value: string, previous: string[] = []) => [...previous, ...value.split(',')];

export default defineCommand({
  flags: (cmd: Command) => {
    cmd
      .description(
        'Check coexistence sync health (set-up, token, WABA, number, webhooks, templates), with a fix for every problem. Read-only.',
      )
      .option('--strict', 'exit 1 on warnings too, not only on failures')
      .option(
        '--offline',
        'do not contact the API: run only the local checks (config, secrets, webhook store)',
      )
      .option(
        '--skip <ids>',
        'skip checks by id or group, comma-separated (e.g. templates,sync.history)',
        collect,
      )
      .option(
        '--activity-warn-days <n>',
        `warn when the last Business App activity (echo or contact sync) is older than n days (default ${DEFAULT_DOCTOR_OPTIONS.activityWarnDays})`,
      )
      .option(
        '--activity-fail-days <n>',
        `fail when it is older than n days (default ${DEFAULT_DOCTOR_OPTIONS.activityFailDays}; Meta disconnects after about 14)`,
      )
      .addOption(wabaIdOption())
      .addOption(phoneNumberIdOption())
      .addHelpText(
        'after',
        `
Checks, grouped: Set-up (Node, profile, config file mode, secrets, API reachable, clock skew), Token (valid,
expiry, scopes, WABA access), WABA (reachable, app subscribed, webhook fields, rate usage), Number (coexistence,
status, health, quality, throughput, messaging limit, display name, API version), Sync health (webhooks received,
Business App activity, account updates, history import, contact sync, signatures), Templates (counts, paused,
disabled, rejected). It only reads (GET requests and the local store): it never changes anything.

Exit codes: 0 nothing failed, 1 a check failed (or warned, with --strict), 2 bad flag.

Examples:
  $ wacx doctor
  $ wacx doctor --json | jq '.[] | select(.status == "fail")'
  $ wacx doctor --strict --skip templates.rejected      # cron / CI health probe
  $ wacx doctor --offline                               # local checks only
  $ wacx doctor --sandbox                               # try it against the built-in sandbox`,
      );
  },
  run: (deps, opts: DoctorFlags) => run(opts, deps),
});

/** Validates the flags into doctor options (UsageError, exit 2, before anything is read). */
export function doctorOptions(
  opts: DoctorFlags,
  unknownSkipPatterns: Doctor['unknownSkipPatterns'],
): Partial<DoctorOptions> {
  const days = (raw: string | undefined, flag: string, fallback: number) =>
    raw === undefined ? fallback : positiveNumber(flag)(raw);
  const activityWarnDays = days(
    opts.activityWarnDays,
    '--activity-warn-days',
    DEFAULT_DOCTOR_OPTIONS.activityWarnDays,
  );
  const activityFailDays = days(
    opts.activityFailDays,
    '--activity-fail-days',
    DEFAULT_DOCTOR_OPTIONS.activityFailDays,
  );
  if (activityWarnDays >= activityFailDays) {
    throw new UsageError(
      `--activity-warn-days (${activityWarnDays}) must be lower than --activity-fail-days (${activityFailDays}).`,
      {
        location: '--activity-warn-days',
      },
    );
  }
  const skip = (opts.skip ?? []).map((s) => s.trim()).filter(Boolean);
  const unknown = unknownSkipPatterns(skip);
  if (unknown.length) {
    throw new UsageError(`Unknown check or group "${unknown.join('", "')}".`, {
      location: '--skip',
      hint: 'Run `wacx doctor --json` to see the check ids (e.g. token.valid, sync.echo_age) or use a group: setup, token, waba, number, sync, templates.',
    });
  }
  return { activityWarnDays, activityFailDays, skip };
}

export async function run(opts: DoctorFlags, deps: Deps): Promise<number> {
  const doctor: Doctor = await import('../lib/doctor/run.js');
  const options = doctorOptions(opts, doctor.unknownSkipPatterns);
  const config = deps.config().withFlags({ wabaId: opts.wabaId, phoneNumberId: opts.phoneNumberId });
  // The doctor opens the database only when it exists (it never creates one).
  const storePath = deps.storeDescription();
  const storeExists = deps.storeExists();
  const spinner = deps.globals.json ? undefined : await deps.io.spinner('Running checks…');
  let report: Awaited<ReturnType<Doctor['runDoctor']>>;
  try {
    report = await doctor.runDoctor(
      {
        config,
        now: deps.clock.now(),
        offline: Boolean(opts.offline),
        graph: () => deps.graph({ config }),
        storePath,
        storeExists,
        openStore: async () => (await deps.store()).db,
        signal: deps.signal,
      },
      options,
    );
  } finally {
    spinner?.stop();
  }
  const { results } = report;
  if (deps.globals.json) deps.io.printJson(doctor.toJson(results));
  else {
    for (const line of doctor.renderText(results, deps.io.style, { strict: Boolean(opts.strict) }))
      deps.io.out(line);
    const changes = doctor.appChangesOf(report.facts);
    if (changes.length) {
      const { style } = deps.io;
      deps.io.out('');
      deps.io.out(style.bold('Information: what coexistence changes in the WhatsApp Business app'));
      for (const c of changes) deps.io.out(`  ${style.dim('i')} ${c.feature}: ${c.change}.`);
    }
  }
  return doctor.doctorExitCode(results, Boolean(opts.strict));
}
