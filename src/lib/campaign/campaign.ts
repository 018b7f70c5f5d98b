import { randomUUID } from 'node:crypto';
import { basename } from 'node:path';
import { UsageError, WacxError } from '../errors.js';
import { type DryRunRows, dryRun } from './dry-run.js';
import { leaseHolder, NumberBusyError, numberJudge, takeLease, withLease } from './lease.js';
import { type Campaign, Ledger } from './ledger.js';
import type { MapSpec } from './mapping.js';
import { concludeRun } from './outcome.js';
import {
  checkRunFlags,
  checkSendFlags,
  type Plan,
  prepare,
  type RunFlags,
  reportPath,
  type SendFlags,
  type SendInput,
  storedOptions,
  storedTarget,
} from './prepare.js';
import { type Leased, prestartRunThreads, type RunEnv, runCampaign } from './run.js';
import type { ConsentReader } from './types.js';

/**
 * `wacx send` and `wacx campaigns resume`, top-down: check the flags, find or create the campaign under its lease,
 * make the plan (prepare.ts), run it (run.ts) or dry-run it (dry-run.ts), and conclude (outcome.ts).
 */

export type { RunEnv } from './run.js';

export interface SendRequest extends SendFlags, RunFlags {
  dryRun: boolean;
  /** `--require-consent`: skip the rows without an opt-in for the template's scope. */
  requireConsent: boolean;
  /** The consent register (read by the command layer); revoked recipients are skipped whatever the flag. */
  consent?: ConsentReader;
  /** Called once the plan is made, before anything is sent (not on a dry run): `--exclude` records its revokes. */
  beforeSend?: (plan: Plan) => void | Promise<void>;
  resendUnknown: boolean;
  /** With dryRun: the rows that would be sent, handed over before the dry run's store goes (`send --estimate`). */
  onDryRunRows?: DryRunRows;
}

export interface ResumeRequest extends RunFlags {
  resendUnknown: boolean;
  consent?: ConsentReader;
  report: string | null;
}

/** `wacx send`: validates everything, then creates or resumes the campaign and sends it. Returns the exit code. */
export async function sendCampaign(req: SendRequest, env: RunEnv): Promise<number> {
  const flags = checkRunFlags(req);
  const input = await checkSendFlags(req, env);
  const consent = { requireConsent: req.requireConsent, consent: req.consent };
  if (req.dryRun) {
    const plan = await prepare(input.target, flags, { ...input, ...consent }, env);
    return dryRun(plan, env, req.onDryRunRows);
  }
  const store = await env.store();
  prestartRunThreads(store, env);
  const ledger = new Ledger(store.db);
  const existing = ledger.find(input.target.id);
  if (existing) {
    refuseOtherCampaign(existing, input);
    return withLease(ledger, existing, env, async (leaseOwner) => {
      if (input.exclude && input.exclude !== existing.options.exclude) {
        env.events.warn(
          `Campaign ${existing.id} was started with ${existing.options.exclude ? `--exclude ${existing.options.exclude}` : 'no --exclude'}; using the new --exclude for the rows not sent yet.`,
        );
      }
      env.events.info(
        `Resuming campaign ${existing.id} (started ${new Date(existing.createdAt).toISOString()}).`,
      );
      const exclude = input.exclude ?? existing.options.exclude;
      const plan = await prepare(
        await storedTarget(existing),
        flags,
        {
          exclude,
          excludeList: input.exclude ? input.excludeList : null,
          report: input.report,
          ...consent,
          requireConsent: req.requireConsent || Boolean(existing.options.requireConsent),
        },
        env,
      );
      await req.beforeSend?.(plan);
      return runAndConclude({ ledger, store, campaign: existing, plan, leaseOwner }, req, env);
    });
  }
  if (!input.named) refuseChangedCsv(ledger, input);
  const plan = await prepare(input.target, flags, { ...input, ...consent }, env);
  await req.beforeSend?.(plan);
  const { campaign, leaseOwner } = createCampaign(ledger, plan, input, env);
  return withLease(
    ledger,
    campaign,
    env,
    (owner) => runAndConclude({ ledger, store, campaign, plan, leaseOwner: owner }, req, env),
    leaseOwner,
  );
}

/** `wacx campaigns resume ID`. */
export async function resumeCampaign(id: string, req: ResumeRequest, env: RunEnv): Promise<number> {
  const flags = checkRunFlags(req);
  const store = await env.store();
  const ledger = new Ledger(store.db);
  const campaign = ledger.find(id);
  if (!campaign) {
    throw new UsageError(`No campaign "${id}" in the ledger.`, {
      hint: 'List them with `wacx campaigns list`.',
    });
  }
  prestartRunThreads(store, env);
  const report = await reportPath(req.report, [
    ["the campaign's CSV", campaign.csvPath],
    ["the campaign's --exclude file", campaign.options.exclude],
  ]);
  return withLease(ledger, campaign, env, async (leaseOwner) => {
    const plan = await prepare(
      await storedTarget(campaign),
      flags,
      {
        exclude: campaign.options.exclude,
        report,
        requireConsent: Boolean(campaign.options.requireConsent),
        consent: req.consent,
      },
      env,
    );
    return runAndConclude({ ledger, store, campaign, plan, leaseOwner }, req, env);
  });
}

/** The run of a leased campaign, then its outcome. */
async function runAndConclude(c: Leased, o: { resendUnknown: boolean }, env: RunEnv): Promise<number> {
  const end = await runCampaign(c, o, env);
  return concludeRun(c.ledger, c.campaign, end, { rate: c.plan.rate, report: c.plan.report }, env);
}

// ---- finding or creating the campaign ---------------------------------------------------------------------------

function mapKey(specs: readonly MapSpec[]): string {
  return JSON.stringify([...specs].map((s) => [s.column, s.param]).sort());
}

/** A campaign with this id exists: it must be the same messages (template, number, CSV, mapping). */
function refuseOtherCampaign(existing: Campaign, input: SendInput): void {
  const t = input.target;
  const mismatch: [string, string] | null =
    existing.template !== t.template
      ? ['--template', `template ${existing.template}`]
      : existing.language !== t.language
        ? ['--language', `language ${existing.language}`]
        : existing.phoneNumberId !== t.phoneNumberId
          ? ['--phone-number-id', `phone number ${existing.phoneNumberId}`]
          : existing.csvSha256 !== input.csv.sha256
            ? ['--csv', `another CSV (${existing.csvPath})`]
            : mapKey(existing.options.map) !== mapKey(t.specs)
              ? [
                  '--map',
                  `other --map options (${existing.options.map.map((m) => `${m.column}=${m.param}`).join(' ') || 'none'})`,
                ]
              : (existing.options.defaultCountry ?? null) !== (t.defaultCountry ?? null)
                ? ['--default-country', `--default-country ${existing.options.defaultCountry ?? '(none)'}`]
                : null;
  if (mismatch) {
    throw new UsageError(
      `Campaign "${t.id}" ${input.named ? '' : '(this CSV, template and number) '}was started with ${mismatch[1]}: the rows it has not sent yet would not be the same messages.`,
      {
        location: mismatch[0],
        hint: `Run it as it was started (or \`wacx campaigns resume ${t.id}\`); for a new campaign pass --campaign NEW-ID (recipients it already reached would get the message again).`,
      },
    );
  }
}

/**
 * The same list for the same template, but with different content: running it as a new campaign would send the
 * message again to everyone already reached. Make that an explicit choice.
 */
function refuseChangedCsv(ledger: Ledger, input: SendInput): void {
  const t = input.target;
  const sibling = ledger
    .list()
    .find(
      (c) =>
        c.csvPath === t.csvPath &&
        c.template === t.template &&
        c.language === t.language &&
        c.phoneNumberId === t.phoneNumberId,
    );
  if (sibling) {
    throw new UsageError(
      `${basename(t.csvPath)} changed since campaign ${sibling.id} was started from it: running it again would message again everyone that campaign reached.`,
      {
        location: '--csv',
        hint: `To continue the old campaign: \`wacx campaigns resume ${sibling.id}\`. To send the new file anyway, name a new campaign with --campaign ID.`,
      },
    );
  }
}

/**
 * Creates the campaign of a plan holding its lease, atomically: a run of the same campaign started at the same
 * moment either finds it and is refused by the lease, or created it first and refuses this one.
 */
function createCampaign(
  ledger: Ledger,
  plan: Plan,
  input: SendInput,
  env: RunEnv,
): { campaign: Campaign; leaseOwner: string } {
  const now = env.clock.now();
  const leaseOwner = randomUUID();
  const made = ledger.createLeased(
    {
      id: plan.id,
      template: plan.templateName,
      language: plan.language,
      phoneNumberId: plan.phoneNumberId,
      wabaId: plan.wabaId,
      csvPath: plan.csvPath,
      csvSize: input.csv.size,
      csvMtime: input.csv.mtimeMs,
      csvSha256: input.csv.sha256,
      options: storedOptions(plan),
      templateSnapshot: plan.template,
    },
    now,
    leaseHolder(leaseOwner, env),
    numberJudge(env),
  );
  if (!made.created) {
    // another run created it since this one looked: its lease decides (the lease message while it runs)
    try {
      takeLease(ledger, made.campaign, leaseOwner, env);
      ledger.releaseLease(made.campaign.cid, leaseOwner);
    } catch (error) {
      if (!(error instanceof NumberBusyError)) throw error;
    }
    throw new WacxError(
      `Campaign ${plan.id} was started by another run at the same moment: not starting a second run.`,
      { hint: `See it with \`wacx campaigns show ${plan.id}\`; run the same command again to resume it.` },
    );
  }
  const from = plan.from!;
  ledger.ingestBatch(
    made.campaign.cid,
    [],
    {
      offset: from.offset,
      line: from.lines,
      nextRow: from.nextRow,
      done: false,
      columns: [...plan.shape.columns],
    },
    now,
  );
  return { campaign: ledger.find(plan.id)!, leaseOwner };
}
