import type { Command } from 'commander';
import { defineCommand } from '../../cli/define.js';
import type { Deps } from '../../cli/deps.js';
import { ExitCode } from '../../lib/errors.js';

export default defineCommand({
  flags: (cmd: Command) => {
    cmd
      .description(
        'Settle the rows whose outcome is unknown from the status webhooks in the store (joined by callback data ' +
          '<campaign>:<row>). Exit 0 when none is left unknown, 3 otherwise.',
      )
      .argument('<id>', 'campaign id')
      .addHelpText(
        'after',
        '\nExamples:\n  $ wacx campaigns reconcile order_update-3f9a1c2b7e\n  $ wacx campaigns reconcile order_update-3f9a1c2b7e --json',
      );
  },
  run: (deps, id: string) => run(id, deps),
});

export async function run(id: string, deps: Deps): Promise<number> {
  const { reconcileCampaign } = await import('../../lib/campaign/stored-campaigns.js');

  const r = reconcileCampaign(await deps.store(), deps.clock, id);
  const code = r.stillUnknown > 0 ? ExitCode.PARTIAL : ExitCode.OK;
  if (deps.globals.json) {
    deps.io.printJson({
      campaign: id,
      checked: r.checked,
      sent: r.sent,
      failed: r.failed,
      still_unknown: r.stillUnknown,
      in_flight_of_dead_run: r.inFlightOfDeadRun,
      failed_after_accept: r.failedAfterAccept,
    });
    return code;
  }
  if (r.failedAfterAccept > 0) {
    deps.io.out(
      `Campaign ${id}: ${r.failedAfterAccept} accepted row(s) failed afterwards (failed status webhooks); see \`wacx campaigns show ${id}\`.`,
    );
  }
  if (r.checked === 0) {
    deps.io.out(`Campaign ${id}: no row has an unknown outcome.`);
    return code;
  }
  deps.io.out(
    `Campaign ${id}: ${r.checked} unknown row(s) checked against status webhooks: ${r.sent} sent, ${r.failed} failed, ${r.stillUnknown} still unknown.`,
  );
  if (r.stillUnknown > 0) {
    deps.io.info(
      `  → Make sure the webhook receiver stores statuses (\`wacx webhooks serve\`), try again later, or send them again with \`wacx campaigns resume ${id} --resend-unknown\`.`,
    );
  }
  return code;
}
