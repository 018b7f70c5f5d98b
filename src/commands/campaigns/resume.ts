import type { Command } from 'commander';
import { defineCommand } from '../../cli/define.js';
import type { Deps } from '../../cli/deps.js';
import { positiveNumber } from '../../cli/flags.js';
import type { SendApi } from '../../lib/campaign/types.js';

interface ResumeOptions {
  rate?: number;
  force?: boolean;
  resendUnknown?: boolean;
  report?: string;
  maxInFlight?: number;
  strict?: boolean;
  api?: SendApi;
  wait?: boolean;
}

export default defineCommand({
  flags: (cmd: Command) => {
    cmd
      .description(
        'Continue a stopped campaign where it stopped: sent rows are never sent again, unknown rows are reconciled ' +
          'from status webhooks first.',
      )
      .argument('<id>', 'campaign id (see `wacx campaigns list`)')
      .option(
        '--rate <n>',
        "messages per second (default: the number's throughput minus 5 %)",
        positiveNumber('--rate'),
      )
      .option('--force', "allow --rate above the number's throughput")
      .option(
        '--no-wait',
        'when another campaign is sending from the same phone number, exit at once (exit 1) instead of waiting for it',
      )
      .option(
        '--resend-unknown',
        'send again the rows whose outcome is still unknown (they may get it twice)',
      )
      .option('--report <file>', "write every row's outcome as CSV")
      .option(
        '--max-in-flight <n>',
        'requests in flight at most',
        positiveNumber('--max-in-flight', { integer: true }),
      )
      .option('--strict', 'refuse to continue if a row not read yet is invalid')
      .option('--api <api>', 'endpoint: auto, messages or marketing (default: as the campaign was started)')
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

export async function run(id: string, opts: ResumeOptions, deps: Deps): Promise<number> {
  const { campaignEnv } = await import('../../cli/campaign-context.js');
  // before the campaign domain loads: the heap settings for this rate, and the worker threads
  const env = campaignEnv(deps, { rate: opts.rate, wait: opts.wait });
  const [{ resumeCampaign }, { consentReader }] = await Promise.all([
    import('../../lib/campaign/campaign.js'),
    import('../../lib/consent/campaign.js'),
  ]);

  return resumeCampaign(
    id,
    {
      rate: opts.rate ?? null,
      force: Boolean(opts.force),
      resendUnknown: Boolean(opts.resendUnknown),
      report: opts.report ?? null,
      maxInFlight: opts.maxInFlight ?? null,
      strict: Boolean(opts.strict),
      api: opts.api ?? null,
      consent: consentReader(async () => (await deps.store()).db),
    },
    env,
  );
}
