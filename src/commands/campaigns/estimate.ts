import type { Command } from 'commander';
import { defineCommand } from '../../cli/define.js';
import type { Deps } from '../../cli/deps.js';
import { ExitCode } from '../../lib/errors.js';

interface Options {
  rateCard?: string;
  at?: string;
}

export default defineCommand({
  flags: (cmd: Command) => {
    cmd
      .description(
        "Price a stored campaign's rows with Meta's rate card: by country and category, with the windows and volume " +
          'tiers from the store, before (or instead of) sending them',
      )
      .argument('<id>', 'campaign id')
      .option(
        '--rate-card <file>',
        "Meta's rate card, the CSV from its pricing page (default: the profile's rateCard)",
      )
      .option('--at <date>', 'the send date to price for, YYYY-MM-DD (default: now)')
      .addHelpText(
        'after',
        '\nExamples:\n  $ wacx campaigns estimate order_update-3f9a1c2b7e --rate-card rates-usd.csv\n' +
          '  $ wacx campaigns estimate order_update-3f9a1c2b7e --at 2026-12-24 --json',
      );
  },
  run: (deps, id: string, opts: Options) => run(id, opts, deps),
});

export async function run(id: string, opts: Options, deps: Deps): Promise<number> {
  const [
    { parseIsoDate },
    { readRateCard },
    { currentTemplate, estimateRecipients },
    { campaignRecipients },
    output,
  ] = await Promise.all([
    import('../../lib/dates.js'),
    import('../../lib/pricing/rate-card.js'),
    import('../../lib/pricing/campaign-estimate.js'),
    import('../../lib/campaign/stored-campaigns.js'),
    import('../../cli/cost-output.js'),
  ]);
  const now = deps.clock.now();
  const sendDate = new Date(opts.at === undefined ? now : parseIsoDate(opts.at, '--at'));
  const config = deps.config().withFlags({ rateCard: opts.rateCard });
  const card = readRateCard(config.require('rateCard', '--rate-card'));
  const store = await deps.store();
  const { campaign, recipients } = campaignRecipients(store, id);
  const wabaId = campaign.wabaId ?? config.require('wabaId', '--waba-id');
  const estimate = await estimateRecipients(
    store.db,
    {
      phoneNumberId: campaign.phoneNumberId,
      template: await currentTemplate(await deps.graph(), wabaId, campaign.template, campaign.language),
    },
    recipients,
    card,
    sendDate,
    new Date(now),
  );
  if (deps.globals.json) deps.io.printJson(output.estimateJson(estimate, { campaign: id }));
  else output.printEstimate(deps.io, estimate, `Estimate for campaign ${id}`);
  return ExitCode.OK;
}
