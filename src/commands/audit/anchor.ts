import type { Command } from 'commander';
import { defineCommand } from '../../cli/define.js';
import type { Deps } from '../../cli/deps.js';
import { ExitCode } from '../../lib/errors.js';

export default defineCommand({
  flags: (cmd: Command) => {
    cmd
      .description(
        'Print the head of the audit chain (sequence, hash, time) to publish elsewhere; ' +
          '`wacx audit verify --anchor SEQ:HASH` later proves the chain still extends it',
      )
      .addHelpText(
        'after',
        '\nExamples:\n  $ wacx audit anchor\n  $ wacx audit anchor --json >> anchors.jsonl',
      );
  },
  run: (deps) => run(deps),
});

export async function run(deps: Deps): Promise<number> {
  const { AuditJournal } = await import('../../lib/audit/journal.js');
  const head = new AuditJournal((await deps.store()).db).head();
  if (deps.globals.json) {
    deps.io.printJson(head ? { seq: head.seq, hash: head.hash, at: new Date(head.at).toISOString() } : null);
    return ExitCode.OK;
  }
  if (!head) {
    deps.io.info('The audit trail is empty: nothing to anchor yet.');
    return ExitCode.OK;
  }
  deps.io.out(`${head.seq}:${head.hash}`);
  deps.io.info(
    `Record ${head.seq}, written ${new Date(head.at).toISOString()}. Publish this line somewhere you do not control alone.`,
  );
  return ExitCode.OK;
}
