import type { Command } from 'commander';
import { defineCommand } from '../../cli/define.js';
import { countryCode } from '../../cli/flags.js';
import { ExitCode } from '../../lib/errors.js';
import { eventJson, openRegister, subjectOf } from './shared.js';

export default defineCommand({
  flags: (cmd: Command) => {
    cmd
      .description("A person's whole consent history and current state, fit to answer an access request")
      .argument('<id>', 'phone number (+CC…) or BSUID')
      .option(
        '--default-country <CC>',
        'country of a number written without +CC',
        countryCode('--default-country'),
      )
      .addHelpText(
        'after',
        '\nExamples:\n  $ wacx consent show +4915112345678\n  $ wacx consent show +4915112345678 --json',
      );
  },
  run: async (deps, id: string, opts: { defaultCountry?: string }) => {
    const { stateAfter } = await import('../../lib/consent/register.js');
    const subject = await subjectOf(id, opts.defaultCountry);
    const history = (await openRegister(deps)).history(subject);
    const state = { marketing: stateAfter(history, 'marketing'), utility: stateAfter(history, 'utility') };
    if (deps.globals.json) {
      deps.io.printJson({ subject, state, history: history.map(eventJson) });
      return ExitCode.OK;
    }
    if (history.length === 0) {
      deps.io.out(`${subject}: no consent recorded (marketing: none, utility: none).`);
      return ExitCode.OK;
    }
    deps.io.out(`${subject}: marketing ${state.marketing}, utility ${state.utility}.`);
    deps.io.table(
      ['WHEN', 'ACTION', 'SCOPE', 'SOURCE', 'PROOF', 'RECORDED'],
      history.map((e) => {
        const j = eventJson(e);
        return [j.at, j.action, j.scope, j.source, j.proof ?? '', j.recorded_at];
      }),
    );
    return ExitCode.OK;
  },
});
