import type { Command } from 'commander';
import { defineCommand } from '../../cli/define.js';
import type { Deps } from '../../cli/deps.js';

export default defineCommand({
  flags: (cmd: Command) => {
    cmd
      .description('List the campaigns in the ledger with their counts')
      .addHelpText(
        'after',
        "\nExamples:\n  $ wacx campaigns list\n  $ wacx campaigns list --json | jq '.[] | select(.unknown > 0)'",
      );
  },
  run: (deps) => run(deps),
});

export async function run(deps: Deps): Promise<number> {
  const { listCampaigns } = await import('../../lib/campaign/stored-campaigns.js');

  const list = listCampaigns(await deps.store(), deps.clock);
  if (deps.globals.json) {
    deps.io.printJson(
      list.map((c) => ({
        id: c.id,
        status: c.status,
        template: c.template,
        language: c.language,
        phone_number_id: c.phoneNumberId,
        csv: c.csv,
        rows: c.counts.total,
        sent: c.counts.sent,
        failed: c.counts.failed,
        skipped: c.counts.skipped,
        unknown: c.counts.unknown,
        pending: c.counts.pending + c.counts.in_flight,
        created_at: new Date(c.createdAt).toISOString(),
        updated_at: new Date(c.updatedAt).toISOString(),
      })),
    );
    return 0;
  }
  if (list.length === 0) {
    deps.io.info('No campaigns yet. Start one with `wacx send --csv FILE --template NAME --language CODE`.');
    return 0;
  }
  deps.io.table(
    [
      'ID',
      'STATUS',
      'TEMPLATE',
      'LANG',
      'ROWS',
      'SENT',
      'FAILED',
      'SKIPPED',
      'UNKNOWN',
      'PENDING',
      'UPDATED',
    ],
    list.map((c) => [
      c.id,
      c.status,
      c.template,
      c.language,
      c.counts.total,
      c.counts.sent,
      c.counts.failed,
      c.counts.skipped,
      c.counts.unknown,
      c.counts.pending + c.counts.in_flight,
      new Date(c.updatedAt).toISOString().replace('T', ' ').slice(0, 19),
    ]),
  );
  return 0;
}
