import type { Command } from 'commander';
import { defineCommand } from '../cli/define.js';
import type { Deps } from '../cli/deps.js';
import { phoneNumberIdOption, wabaIdOption } from '../cli/flags.js';
import type {
  ActivePeriod,
  CheckStatus,
  EligibilityReport,
  ParsedPhone,
  PolicyId,
} from '../lib/eligibility/check.js';
import { DEFAULT_MIN_DAYS, MIN_APP_VERSION } from '../lib/eligibility/inputs.js';
import { DEFAULT_POLICY, POLICY_IDS } from '../lib/eligibility/policies.js';
import { UsageError } from '../lib/errors.js';

/** The checks (phone parsing, policies, live lookups): loaded when the check runs, not for `--help`. */
type Eligibility = typeof import('../lib/eligibility/check.js');

export interface EligibilityOptions {
  appVersion?: string;
  activeSince?: string;
  daysActive?: string;
  policy?: string;
  defaultCountry?: string;
  minDays?: string;
  phoneNumberId?: string;
  wabaId?: string;
  offline?: boolean;
}

export default defineCommand({
  flags: (cmd: Command) => {
    cmd
      .description('Check whether a WhatsApp Business app number can be onboarded for coexistence')
      .argument(
        '[phone]',
        'the number in any format, e.g. "+44 20 7946 0958" (asked on a terminal when missing)',
      )
      .option('--app-version <version>', `WhatsApp Business app version (needs ≥ ${MIN_APP_VERSION})`)
      .option('--active-since <YYYY-MM-DD>', 'day the number started being used in the Business App')
      .option('--days-active <n>', 'or: number of days it has been used in the Business App')
      .option('--policy <id>', `country policy: ${POLICY_IDS.join(' | ')}`, DEFAULT_POLICY)
      .option('--default-country <CC>', 'country of numbers written without +, e.g. GB')
      .option('--min-days <n>', 'days of Business App use required', String(DEFAULT_MIN_DAYS))
      .addOption(
        phoneNumberIdOption("phone number id for the live checks (default: the profile's phoneNumberId)"),
      )
      .addOption(wabaIdOption("WABA whose numbers the live checks search (default: the profile's wabaId)"))
      .option('--offline', 'skip the live checks (no API calls)')
      .addHelpText(
        'after',
        `
Checks (each pass / warn / fail / skip, with its reason):
  phone         parsed to E.164, region detected
  country       against a dated policy: "current" (Meta today: no excluded country) or
                "2025-02" (the launch list, each exclusion with the date it was lifted)
  app_version   WhatsApp Business app ≥ ${MIN_APP_VERSION}
  days_active   used in the Business App for at least ${DEFAULT_MIN_DAYS} days
  live_*        with a token and a phone number id / WABA id: not already a pure Cloud API
                number, status not BANNED/DELETED, health_status not BLOCKED

Exit codes: 0 eligible, 1 not eligible, 2 bad input.

Examples:
  $ wacx eligibility "+44 20 7946 0958" --app-version 2.25.3.78 --active-since 2025-06-01
  $ wacx eligibility 0612345678 --default-country FR --app-version 2.24.17 --days-active 30 --json
  $ wacx eligibility +919876543210 --app-version 2.25.1 --days-active 90 --policy 2025-02`,
      );
  },
  run: (deps, phone: string | undefined, opts: EligibilityOptions) => run(phone, opts, deps),
});

/** Validates every flag given before anything is asked or sent. */
function validateFlags(
  opts: EligibilityOptions,
  now: number,
  { activeSince, daysActive, isPolicyId, parseAppVersion, parseDefaultCountry }: Eligibility,
): { policy: PolicyId; minDays: number; period?: ActivePeriod } {
  const p = opts.policy ?? DEFAULT_POLICY;
  if (!isPolicyId(p)) {
    throw new UsageError(`Unknown policy "${p}".`, {
      location: '--policy',
      hint: `Use one of: ${POLICY_IDS.join(', ')}.`,
    });
  }
  if (opts.defaultCountry !== undefined) parseDefaultCountry(opts.defaultCountry);
  if (opts.appVersion !== undefined) parseAppVersion(opts.appVersion);
  const minDays = daysActive(opts.minDays ?? String(DEFAULT_MIN_DAYS), '--min-days').daysActive;
  if (opts.activeSince !== undefined && opts.daysActive !== undefined) {
    throw new UsageError('Pass either --active-since or --days-active, not both.', {
      location: '--days-active',
    });
  }
  const period =
    opts.activeSince !== undefined
      ? activeSince(opts.activeSince, now)
      : opts.daysActive !== undefined
        ? daysActive(opts.daysActive)
        : undefined;
  return { policy: p, minDays, ...(period ? { period } : {}) };
}

/** A validate callback for prompts: true, or the error message to show before asking again. */
function validator(fn: (v: string) => unknown): (v: string) => true | string {
  return (v) => {
    try {
      fn(v);
      return true;
    } catch (error) {
      return error instanceof Error ? error.message : String(error);
    }
  };
}

async function resolvePhone(
  raw: string | undefined,
  opts: EligibilityOptions,
  deps: Deps,
  { hasCallingCode, parseDefaultCountry, parsePhone }: Eligibility,
): Promise<ParsedPhone> {
  let text = raw;
  if (text === undefined || text.trim() === '') {
    text = await deps.prompter.input({
      message: 'Phone number (with country code)',
      flag: 'the PHONE argument',
      validate: validator((v) => parsePhone(v, opts.defaultCountry)),
    });
  }
  let country = opts.defaultCountry;
  if (!hasCallingCode(text) && country === undefined && deps.io.interactive) {
    country = await deps.prompter.input({
      message: `Country of ${text.trim()} (ISO code, e.g. GB)`,
      flag: '--default-country',
      validate: validator((v) => parseDefaultCountry(v)),
    });
  }
  return parsePhone(text, country);
}

export async function run(
  phoneArg: string | undefined,
  opts: EligibilityOptions,
  deps: Deps,
): Promise<number> {
  const eligibility: Eligibility = await import('../lib/eligibility/check.js');
  const { activePeriodFromAnswer, parseAppVersion } = eligibility;
  const now = deps.clock.now();
  const flags = validateFlags(opts, now, eligibility);
  const phone = await resolvePhone(phoneArg, opts, deps, eligibility);
  const appVersion =
    opts.appVersion ??
    (await deps.prompter.input({
      message: 'WhatsApp Business app version (Settings › Help › App info)',
      flag: '--app-version',
      validate: validator((v) => parseAppVersion(v)),
    }));
  parseAppVersion(appVersion);
  const period =
    flags.period ??
    activePeriodFromAnswer(
      await deps.prompter.input({
        message: 'In use in the Business App since (YYYY-MM-DD, or a number of days)',
        flag: '--active-since or --days-active',
        validate: validator((v) => activePeriodFromAnswer(v, now)),
      }),
      now,
    );

  const config = deps.config().withFlags({ phoneNumberId: opts.phoneNumberId, wabaId: opts.wabaId });
  const report = await eligibility.checkEligibility(
    { phone, appVersion: appVersion.trim(), period, policy: flags.policy, minDays: flags.minDays },
    {
      graph: () => deps.graph(),
      phoneNumberId: config.get('phoneNumberId'),
      wabaId: config.get('wabaId'),
      offline: Boolean(opts.offline),
      signal: deps.signal,
    },
  );
  if (deps.globals.json) deps.io.printJson(report);
  else await render(report, deps);
  return report.eligible ? 0 : 1;
}

const SYMBOL: Record<CheckStatus, string> = { pass: '✓', warn: '!', fail: '✗', skip: '-' };

async function render(report: EligibilityReport, deps: Deps): Promise<void> {
  const { io } = deps;
  const s = io.style;
  const colour: Record<CheckStatus, (t: string) => string> = {
    pass: s.green,
    warn: s.yellow,
    fail: s.red,
    skip: s.dim,
  };
  const where = report.phone.country ? ` (${report.phone.country})` : '';
  io.out(s.bold(`Coexistence eligibility of ${report.phone.international}${where}`));
  io.out(s.dim(`Country policy: ${report.policy.id} — ${report.policy.title}, as of ${report.policy.as_of}`));
  const live = report.checks.filter((c) => c.id.startsWith('live_'));
  // three identical "skipped" lines say nothing more than one
  const collapse = live.length > 1 && live.every((c) => c.status === 'skip' && c.reason === live[0]!.reason);
  const rows = collapse
    ? [...report.checks.filter((c) => !c.id.startsWith('live_')), { ...live[0]!, label: 'Live checks' }]
    : report.checks;
  const width = Math.max(...rows.map((c) => c.label.length));
  for (const c of rows) {
    io.out(`  ${colour[c.status](SYMBOL[c.status])} ${c.label.padEnd(width)}  ${c.reason}`);
  }
  const { fail, warn } = report.summary;
  if (report.eligible) {
    io.out(s.green(`Eligible${warn ? ` (${warn} warning${warn === 1 ? '' : 's'})` : ''}.`));
    const already = report.checks.find((c) => c.id === 'live_platform')?.status === 'warn';
    if (!already) {
      const { appChangeLines } = await import('../lib/onboarding/app-changes.js');
      io.out('');
      for (const line of appChangeLines()) io.out(line);
      io.out('');
      io.out(s.dim('Next: `wacx onboard` (it shows these changes again and asks before the signup)'));
    }
  } else {
    io.out(s.red(`Not eligible: ${fail} check${fail === 1 ? '' : 's'} failed.`));
  }
}
