import type { Command } from 'commander';
import { defineCommand, type VerbDefinition } from '../../cli/define.js';
import type { Deps } from '../../cli/deps.js';
import { countryCode } from '../../cli/flags.js';
import type { ConsentEvent } from '../../lib/consent/register.js';
import { ExitCode, UsageError } from '../../lib/errors.js';

export const SCOPE_HELP = 'marketing, utility (also authentication templates) or all';

export async function openRegister(deps: Deps) {
  const { ConsentRegister } = await import('../../lib/consent/register.js');
  return new ConsentRegister((await deps.store()).db, () => deps.clock.now());
}

/** The recipient key of ID (a phone number or a BSUID); exit 2 naming the argument otherwise. */
export async function subjectOf(id: string, defaultCountry: string | undefined): Promise<string> {
  const { subjectKey } = await import('../../lib/consent/import.js');
  const r = subjectKey(id, (defaultCountry as never) ?? null);
  if (!r.ok)
    throw new UsageError(`${r.reason}.`, {
      location: 'ID',
      hint: 'Give a phone number with +CC, or a BSUID (US.1349…).',
    });
  return r.key;
}

export function eventJson(e: ConsentEvent) {
  return {
    action: e.action,
    scope: e.scope,
    at: new Date(e.at).toISOString(),
    source: e.source,
    proof: e.proof,
    recorded_at: new Date(e.recordedAt).toISOString(),
  };
}

interface ChangeOptions {
  source: string;
  proof?: string;
  scope: string;
  at?: string;
  defaultCountry?: string;
}

/** `consent grant` and `consent revoke`: one change, recorded with its source and proof. */
export function changeVerb(action: 'grant' | 'revoke'): VerbDefinition {
  const verb = action === 'grant' ? 'Record that ID agreed to' : 'Record that ID withdrew consent for';
  return defineCommand({
    flags: (cmd: Command) => {
      cmd
        .description(`${verb} WhatsApp messages of a scope, with where it came from and its proof`)
        .argument('<id>', 'phone number (+CC…) or BSUID')
        .requiredOption(
          '--source <text>',
          action === 'grant' ? 'where or how: web form, paper, call…' : 'where or how: e-mail, call, STOP…',
        )
        .option('--proof <text-or-url>', 'the evidence: a form submission id, a recording URL, a document')
        .option('--scope <scope>', SCOPE_HELP, 'all')
        .option('--at <time>', 'when it happened, ISO 8601 (default: now)')
        .option(
          '--default-country <CC>',
          'country of a number written without +CC',
          countryCode('--default-country'),
        )
        .addHelpText(
          'after',
          `\nExamples:\n  $ wacx consent ${action} +4915112345678 --source "web form" --proof "https://crm.example/f/812"\n` +
            `  $ wacx consent ${action} US.13491208655302741918 --scope marketing --source call`,
        );
    },
    run: async (deps, id: string, opts: ChangeOptions) => {
      const [{ CONSENT_SCOPES }, { parseConsentTime }] = await Promise.all([
        import('../../lib/consent/register.js'),
        import('../../lib/consent/import.js'),
      ]);
      const subject = await subjectOf(id, opts.defaultCountry);
      const scope = opts.scope.toLowerCase();
      if (!(CONSENT_SCOPES as readonly string[]).includes(scope)) {
        throw new UsageError(
          `expected ${SCOPE_HELP.replace(' (also authentication templates)', '')}, got "${opts.scope}".`,
          {
            location: '--scope',
          },
        );
      }
      const now = deps.clock.now();
      const at = opts.at === undefined ? now : parseConsentTime(opts.at, now);
      if (typeof at === 'string') throw new UsageError(`${at}.`, { location: '--at' });
      if (opts.source.trim() === '') throw new UsageError('the source is empty.', { location: '--source' });
      const register = await openRegister(deps);
      register.record([
        {
          subject,
          scope: scope as never,
          action,
          at,
          source: opts.source.trim(),
          proof: opts.proof?.trim() || null,
        },
      ]);
      if (deps.globals.json) deps.io.printJson({ subject, action, scope, at: new Date(at).toISOString() });
      else
        deps.io.success(
          `${action === 'grant' ? 'Consent recorded' : 'Withdrawal recorded'} for ${subject} (${scope}).`,
        );
      return ExitCode.OK;
    },
  });
}
