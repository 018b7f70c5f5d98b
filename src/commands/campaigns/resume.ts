import type { Command } from 'commander';
import { defineCommand } from '../../cli/define.js';
import { resumeCampaign } from '../../lib/campaign/campaign.js';
import { campaignEnv } from '../../lib/campaign/env.js';
import type { Deps } from '../../lib/deps.js';
import { UsageError } from '../../lib/errors.js';

interface ResumeOptions {
  rate?: string;
  force?: boolean;
  resendUnknown?: boolean;
  report?: string;
  maxInFlight?: string;
  strict?: boolean;
}

export default defineCommand({
  flags: (cmd: Command) => {
    cmd
      .description(
        'Continue a stopped campaign where it stopped: sent rows are never sent again, unknown rows are reconciled ' +
          'from status webhooks first.',
      )
      .argument('<id>', 'campaign id (see `wacx campaigns list`)')
      .option('--rate <n>', "messages per second (default: the number's throughput minus 5 %)")
      .option('--force', "allow --rate above the number's throughput")
      .option(
        '--resend-unknown',
        'send again the rows whose outcome is still unknown (they may get it twice)',
      )
      .option('--report <file>', "write every row's outcome as CSV")
      .option('--max-in-flight <n>', 'requests in flight at most')
      .option('--strict', 'refuse to continue if a row not read yet is invalid')
      .addHelpText(
        'after',
        `
Examples:
  $ wacx campaigns resume order_update-3f9a1c2b7e
  $ wacx campaigns resume order_update-3f9a1c2b7e --rate 10 --report outcome.csv`,
      );
  },
  run: (deps, id: string, opts: ResumeOptions) => run(id, opts, deps),
});

function num(value: string | undefined, flag: string, integer = false): number | null {
  if (value === undefined) return null;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
    throw new UsageError(`${flag} must be a positive ${integer ? 'integer' : 'number'}, got "${value}".`, {
      location: flag,
    });
  }
  return n;
}

export async function run(id: string, opts: ResumeOptions, deps: Deps): Promise<number> {
  return resumeCampaign(
    id,
    {
      rate: num(opts.rate, '--rate'),
      force: Boolean(opts.force),
      resendUnknown: Boolean(opts.resendUnknown),
      report: opts.report ?? null,
      maxInFlight: num(opts.maxInFlight, '--max-in-flight', true),
      strict: Boolean(opts.strict),
    },
    campaignEnv(deps),
  );
}
