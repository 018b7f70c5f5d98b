import type { Command } from 'commander';
import { defineCommand } from '../cli/define.js';
import type { Deps } from '../cli/deps.js';
import { phoneNumberIdOption, positiveNumber, wabaIdOption } from '../cli/flags.js';
import type { Plan } from '../lib/campaign/prepare.js';
import type { SendApi } from '../lib/campaign/types.js';
import { UsageError } from '../lib/errors.js';
import type { Store } from '../lib/store/store.js';

export interface SendOptions {
  csv: string;
  template: string;
  language: string;
  map?: string[];
  phoneColumn?: string;
  defaultCountry?: string;
  rate?: number;
  force?: boolean;
  campaign?: string;
  exclude?: string;
  strict?: boolean;
  dryRun?: boolean;
  report?: string;
  resendUnknown?: boolean;
  maxInFlight?: number;
  api?: SendApi;
  phoneNumberId?: string;
  wabaId?: string;
  estimate?: boolean;
  rateCard?: string;
  wait?: boolean;
  requireConsent?: boolean;
}

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

export default defineCommand({
  flags: (cmd: Command) => {
    cmd
      .description(
        "Send a template to every row of a CSV, paced to the number's real throughput, with a durable ledger: " +
          'running the same command again resumes, and no row is ever sent twice.',
      )
      .requiredOption('--csv <file>', 'CSV with a header line; one recipient per row')
      .requiredOption('--template <name>', 'APPROVED template to send')
      .requiredOption('--language <code>', "the template's language, e.g. en_US")
      .option(
        '--map <COLUMN=PARAM>',
        'fill a template parameter from a column (repeatable): PARAM is 1, body.2, first_name, header, header.1, button.0',
        collect,
      )
      .option(
        '--phone-column <column>',
        'column with the phone numbers (default: phone, to, wa_id, mobile, …)',
      )
      .option('--default-country <CC>', 'country of numbers written without +CC (ISO code, e.g. DE)')
      .option(
        '--rate <n>',
        "messages per second (default: the number's throughput minus 5 %; never above it without --force)",
        positiveNumber('--rate'),
      )
      .option('--force', "allow --rate above the number's throughput")
      .option(
        '--no-wait',
        'when another campaign is sending from the same phone number, exit at once (exit 1) instead of waiting for it',
      )
      .option(
        '--campaign <id>',
        'campaign id (default: derived from the CSV content, template, language and number)',
      )
      .option(
        '--exclude <file>',
        'phone numbers never to message (one per line, or a CSV with a phone column)',
      )
      .option(
        '--require-consent',
        "skip the rows without an opt-in in the consent register for the template's category (marketing, or utility for UTILITY and AUTHENTICATION); a revoked consent is always skipped",
      )
      .option('--strict', 'refuse the whole run (exit 2) if any row is invalid, before anything is sent')
      .option('--dry-run', 'validate everything and render every message; send nothing')
      .option(
        '--estimate',
        "a dry run that also prices the rows that would be sent, with Meta's rate card (nothing is sent)",
      )
      .option('--rate-card <file>', "Meta's rate card for --estimate (default: the profile's rateCard)")
      .option(
        '--report <file>',
        "write every row's outcome as CSV (spreadsheet-safe, owner-only); with --dry-run, what each row would be",
      )
      .option(
        '--resend-unknown',
        'send again the rows whose outcome is unknown (they may get the message twice)',
      )
      .option(
        '--max-in-flight <n>',
        'requests waiting for an answer, at most (default: what the answer time needs)',
        positiveNumber('--max-in-flight', { integer: true }),
      )
      .option(
        '--api <api>',
        'endpoint: auto (default: MARKETING templates through the Marketing Messages API once the WABA is onboarded to it), messages, marketing',
      )
      .addOption(phoneNumberIdOption("sending phone number id (default: the profile's phoneNumberId)"))
      .addOption(wabaIdOption())
      .addHelpText(
        'after',
        `
Examples:
  $ wacx send --csv customers.csv --template order_update --language en_US --map name=1 --map order=2
  $ wacx send --csv leads.csv --template promo --language de --default-country DE --exclude optouts.txt --strict
  $ wacx send --csv customers.csv --template order_update --language en_US --dry-run --json | head
  $ wacx send … --report outcome.csv     # every row: sent / failed (code) / skipped (why) / unknown

Exit codes: 0 all sent · 3 partial (some rows failed, skipped as invalid, or unknown) · 1 stopped (spam
limit, template paused, offboarded…; run again to resume) · 2 bad input, nothing sent · 4 stopped on auth
(token expired, missing permission) · 130 Ctrl+C.`,
      );
  },
  run: (deps, opts: SendOptions) => run(opts, deps),
});

export async function run(opts: SendOptions, deps: Deps): Promise<number> {
  if (opts.rateCard !== undefined && !opts.estimate) {
    throw new UsageError('--rate-card prices a campaign: pass --estimate too.', { location: '--rate-card' });
  }
  const estimate = opts.estimate ? await estimator(opts, deps) : null;
  const { campaignEnv } = await import('../cli/campaign-context.js');
  // before the campaign domain loads: the heap settings for this rate, and the worker threads
  const env = campaignEnv(deps, {
    phoneNumberId: opts.phoneNumberId,
    wabaId: opts.wabaId,
    rate: opts.rate,
    wait: opts.wait,
  });
  const [{ sendCampaign }, consent] = await Promise.all([
    import('../lib/campaign/campaign.js'),
    import('../lib/consent/campaign.js'),
  ]);
  const db = async () => (await deps.store()).db;

  return sendCampaign(
    {
      csvPath: opts.csv,
      template: opts.template,
      language: opts.language,
      map: opts.map ?? [],
      phoneColumn: opts.phoneColumn ?? null,
      defaultCountry: opts.defaultCountry ?? null,
      rate: opts.rate ?? null,
      force: Boolean(opts.force),
      campaignId: opts.campaign ?? null,
      exclude: opts.exclude ?? null,
      strict: Boolean(opts.strict),
      dryRun: Boolean(opts.dryRun) || estimate !== null,
      onDryRunRows: estimate?.price,
      report: opts.report ?? null,
      resendUnknown: Boolean(opts.resendUnknown),
      maxInFlight: opts.maxInFlight ?? null,
      api: opts.api ?? null,
      requireConsent: Boolean(opts.requireConsent),
      consent: consent.consentReader(db),
      beforeSend: async (plan) => {
        if (!plan.exclude) return;
        const n = consent.recordExcludes(await db(), plan.exclude, plan.excluded, () => deps.clock.now());
        if (n > 0) deps.io.info(`Consent register: ${n} revoke(s) recorded from --exclude ${plan.exclude}.`);
      },
    },
    env,
  ).then(async (code) => (estimate ? estimate.print(code) : code));
}

/**
 * `--estimate`: the rate card is read (and a bad one refused) before anything else; the dry run hands over the rows
 * it would send, and they are priced against the profile's store (windows, month's volume) as of now.
 */
async function estimator(opts: SendOptions, deps: Deps) {
  const [{ readRateCard }, { estimateRecipients }, { campaignRecipients }, output] = await Promise.all([
    import('../lib/pricing/rate-card.js'),
    import('../lib/pricing/campaign-estimate.js'),
    import('../lib/campaign/stored-campaigns.js'),
    import('../cli/cost-output.js'),
  ]);
  const card = readRateCard(
    deps.config().withFlags({ rateCard: opts.rateCard }).require('rateCard', '--rate-card'),
  );
  let result: import('../lib/pricing/campaign-estimate.js').CampaignEstimate | null = null;
  let campaign = '';
  return {
    price: async (rows: Store, id: string, plan: Plan) => {
      const now = new Date(deps.clock.now());
      campaign = id;
      result = await estimateRecipients(
        (await deps.store()).db,
        {
          phoneNumberId: plan.phoneNumberId,
          template: { name: plan.templateName, language: plan.language, category: plan.template.category },
        },
        campaignRecipients(rows, id).recipients,
        card,
        now,
        now,
      );
    },
    print: (code: number): number => {
      if (!result) return code;
      if (deps.globals.json) {
        deps.io.printJson(
          { type: 'estimate', ...output.estimateJson(result, { campaign }) },
          { ndjson: true },
        );
      } else {
        deps.io.out();
        output.printEstimate(deps.io, result, `Estimate for campaign ${campaign} (nothing was sent)`);
      }
      return code;
    },
  };
}
