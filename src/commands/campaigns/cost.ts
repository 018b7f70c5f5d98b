import type { Command } from 'commander';
import { defineCommand } from '../../cli/define.js';
import type { Deps } from '../../cli/deps.js';
import { ExitCode, WacxError } from '../../lib/errors.js';

interface Options {
  rateCard?: string;
}

export default defineCommand({
  flags: (cmd: Command) => {
    cmd
      .description(
        'What a sent campaign cost, from the pricing objects of its status webhooks, next to the estimate; rows whose ' +
          'pricing never arrived are listed. Works offline (the store and the rate card).',
      )
      .argument('<id>', 'campaign id')
      .option(
        '--rate-card <file>',
        "Meta's rate card, the CSV from its pricing page (default: the profile's rateCard)",
      )
      .addHelpText(
        'after',
        '\nExamples:\n  $ wacx campaigns cost order_update-3f9a1c2b7e --rate-card rates-usd.csv\n' +
          '  $ wacx campaigns cost order_update-3f9a1c2b7e --json | jq .differences',
      );
  },
  run: (deps, id: string, opts: Options) => run(id, opts, deps),
});

export async function run(id: string, opts: Options, deps: Deps): Promise<number> {
  const [{ readRateCard }, { actualCost }, { pricingCategory }, { campaignDeliveries }, output] =
    await Promise.all([
      import('../../lib/pricing/rate-card.js'),
      import('../../lib/pricing/actual.js'),
      import('../../lib/pricing/categories.js'),
      import('../../lib/campaign/stored-campaigns.js'),
      import('../../cli/cost-output.js'),
    ]);
  const card = readRateCard(
    deps.config().withFlags({ rateCard: opts.rateCard }).require('rateCard', '--rate-card'),
  );
  const store = await deps.store();
  const { campaign, rows } = campaignDeliveries(store, id);
  const category = pricingCategory(campaign.templateSnapshot.category);
  if (!category)
    throw new WacxError(
      `Template category ${campaign.templateSnapshot.category} has no price on rate cards.`,
    );
  const actual = actualCost(
    store.db,
    {
      card,
      rows,
      category,
      phoneNumberId: campaign.phoneNumberId,
      startedAt: campaign.startedAt ?? campaign.createdAt,
    },
    new Date(deps.clock.now()),
  );
  if (deps.globals.json) deps.io.printJson(output.actualCostJson(id, actual, card));
  else output.printActualCost(deps.io, id, actual, card);
  return ExitCode.OK;
}
