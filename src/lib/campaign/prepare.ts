import { basename, resolve } from 'node:path';
import type { CountryCode } from 'libphonenumber-js';
import { ConfigError, UsageError, WacxError } from '../errors.js';
import type { Graph } from '../graph/graph.js';
import type { MessageTemplate } from '../graph/types.js';
import { versionMajor } from '../graph/versions.js';
import type { Store } from '../store/store.js';
import type { WorkerThreads } from '../threads.js';
import { checkReadable, checkReportPath } from './files.js';
import { checkCampaignId, deriveCampaignId, fileSha256 } from './id.js';
import { storeIdentityLinks } from './identities.js';
import type { Campaign } from './ledger.js';
import { checkMappedColumns, type MapSpec, parseMapSpec, resolveSlots } from './mapping.js';
import { type ExcludeList, readExcludeFile } from './opt-outs.js';
import { checkDefaultCountry } from './phone.js';
import { checkRateCeiling, defaultWindow, numberThroughput, resolveRate, THROUGHPUT_FIELDS } from './rate.js';
import { type ReadTask, runRead } from './reader.js';
import { type IdentityLinks, NO_LINKS } from './recipient.js';
import { findRecipientColumns, type Problem, type RowShape, readHeader } from './rows.js';
import { checkTemplateRef, fetchApprovedTemplate } from './template.js';
import {
  type CampaignConsent,
  type CampaignOptions,
  type ConsentReader,
  SEND_APIS,
  type SendApi,
  type SendEndpoint,
  type Slot,
} from './types.js';

/**
 * The plan of a campaign run: everything `wacx send`, its dry run and `wacx campaigns resume` check before the
 * first message, made once by `prepare()`. A run sends exactly what its plan says; nothing in it changes afterwards.
 */

/** Where reading the CSV starts (a byte offset, its line, and the number of the next row). */
export type ReadFrom = ReadTask['from'];

/** The flags that shape a run, each checked here once, before anything is looked up. */
export interface RunFlags {
  rate: number | null;
  force: boolean;
  maxInFlight: number | null;
  strict: boolean;
  /** `--api`; null: as the campaign was started (`auto` for a new one). */
  api: SendApi | null;
}

/** What a plan is made for: the campaign's identity, CSV and mapping, from `send`'s flags or from the ledger. */
export interface PlanTarget {
  id: string;
  template: string;
  language: string;
  phoneNumberId: string;
  wabaId: string;
  csvPath: string;
  columns: readonly string[];
  phoneIndex: number;
  bsuidIndex: number;
  specs: readonly MapSpec[];
  defaultCountry: CountryCode | null;
  /** Where reading the CSV starts; null when the whole file is in the ledger already. */
  from: ReadFrom | null;
  /** A stored campaign's parameter slots: the template must still give the same. */
  slots: readonly Slot[] | null;
  /** A stored campaign's `--api` (null: a new campaign). */
  api: SendApi | null;
}

export interface Plan {
  readonly id: string;
  readonly templateName: string;
  readonly language: string;
  readonly phoneNumberId: string;
  readonly wabaId: string;
  /** The APPROVED template, as looked up for this run. */
  readonly template: MessageTemplate;
  readonly csvPath: string;
  readonly csvName: string;
  /** Identity rules and mapping: the phone and BSUID columns, the default country, the columns that fill each slot. */
  readonly shape: RowShape;
  /** The webhook store's phone ↔ BSUID links, read once for this run. */
  readonly links: IdentityLinks;
  readonly specs: readonly MapSpec[];
  readonly from: ReadFrom | null;
  /** Messages per second, the number's throughput it was checked against, and requests in flight at most. */
  readonly rate: number;
  readonly rateSource: string;
  readonly window: number;
  /** `--api` for this run, and the endpoint it chose for the template (its category now, the WABA's onboarding). */
  readonly api: SendApi;
  readonly endpoint: SendEndpoint;
  /** `--exclude FILE` (absolute) and its numbers. */
  readonly exclude: string | null;
  readonly excluded: ReadonlySet<string>;
  /** `--require-consent`, and the consent register for the template's scope. */
  readonly requireConsent: boolean;
  readonly consent: CampaignConsent;
  /** `--strict`: every row not read yet was checked (and none is invalid), or not asked, or nothing left to read. */
  readonly strict: 'checked' | 'off' | 'nothing_to_read';
  /** `--report PATH`, checked writable. */
  readonly report: string | null;
}

/** What prepare() needs from the run's environment. */
/** What the ledger keeps of a plan's options, so that a resume rebuilds the same plan (see storedTarget). */
export function storedOptions(plan: Plan): CampaignOptions {
  return {
    map: [...plan.specs],
    phoneColumn: plan.shape.columns[plan.shape.phoneIndex] ?? null,
    bsuidColumn: plan.shape.columns[plan.shape.bsuidIndex] ?? null,
    defaultCountry: plan.shape.defaultCountry,
    api: plan.api,
    exclude: plan.exclude,
    requireConsent: plan.requireConsent,
    slots: [...plan.shape.slots],
  };
}

export interface PrepareEnv {
  graph: () => Promise<Graph>;
  store: () => Promise<Store>;
  signal: AbortSignal;
  threads: WorkerThreads | null;
  events: { warn(text: string): void };
}

/** The run flags, checked before anything is read or looked up (a --rate no number can have, --max-in-flight). */
export function checkRunFlags(flags: RunFlags): RunFlags {
  checkRateCeiling(flags.rate, flags.force);
  if (flags.maxInFlight !== null && !(Number.isInteger(flags.maxInFlight) && flags.maxInFlight > 0)) {
    throw new UsageError(`--max-in-flight must be a positive integer.`, { location: '--max-in-flight' });
  }
  if (flags.api !== null && !SEND_APIS.includes(flags.api)) {
    throw new UsageError(`--api must be one of ${SEND_APIS.join(', ')}.`, { location: '--api' });
  }
  return flags;
}

/**
 * The plan of a run of `target`: the template (APPROVED, and the same parameters as when the campaign started),
 * the mapping, the number's throughput and the rate (checked here, once), the --exclude list, and with --strict
 * every row not read yet.
 */
export async function prepare(
  target: PlanTarget,
  flags: RunFlags,
  o: {
    exclude: string | null;
    excludeList?: ExcludeList | null;
    report: string | null;
    requireConsent?: boolean;
    consent?: ConsentReader | undefined;
  },
  env: PrepareEnv,
): Promise<Plan> {
  const csvName = basename(target.csvPath);
  const excludeList =
    o.excludeList ?? (o.exclude ? await readExcludeFile(o.exclude, target.defaultCountry) : null);
  const graph = await env.graph();
  // The number's throughput is asked for with the template: one round trip less before the first send. Its answer
  // is awaited after the template's and the checks that need it, so that theirs is the error reported first.
  const phoneNumber = graph.phoneNumbers.get(target.phoneNumberId, THROUGHPUT_FIELDS, env.signal);
  phoneNumber.catch(() => {});
  const template = await fetchApprovedTemplate(
    graph,
    target.wabaId,
    target.template,
    target.language,
    env.signal,
  );
  const links = storeIdentityLinks((await env.store()).db);
  if (target.from) {
    // before the mapping: who a row goes to is checked without its parameters
    await refuseBsuidSends(
      {
        path: target.csvPath,
        csvName,
        shape: identityShape(target),
        from: target.from,
        links,
      },
      { template, apiVersion: graph.client.apiVersion },
      env.threads,
    );
  }
  const slots = resolveSlots(template, target.columns, target.specs, csvName);
  if (target.slots && !sameSlots(slots, target.slots)) {
    throw new UsageError(
      `Template "${target.template}" (${target.language}) changed since campaign ${target.id} started: its parameters are not the same any more.`,
      {
        location: '--template',
        hint: 'Start a new campaign (--campaign NEW-ID) for the new version of the template.',
      },
    );
  }
  const shape: RowShape = Object.freeze({
    columns: Object.freeze([...target.columns]),
    phoneIndex: target.phoneIndex,
    bsuidIndex: target.bsuidIndex,
    slots: Object.freeze([...slots]),
    defaultCountry: target.defaultCountry,
  });
  const api = flags.api ?? target.api ?? 'auto';
  const endpoint = await chooseEndpoint(api, template, graph, target.wabaId);
  const pn = await phoneNumber;
  const limit = numberThroughput(pn);
  const rate = resolveRate(flags.rate, flags.force, limit);
  let strict: Plan['strict'] = 'off';
  if (flags.strict) {
    strict = target.from ? 'checked' : 'nothing_to_read';
    if (target.from) await strictCheck(target.csvPath, shape, target.from, csvName, env.threads);
  }

  if (o.exclude && excludeList && excludeList.invalid.length > 0) {
    env.events.warn(
      `${basename(o.exclude)}: ${excludeList.invalid.length} line(s) are neither phone numbers nor BSUIDs (first: line ${excludeList.invalid[0]!.line}).`,
    );
  }
  const requireConsent = o.requireConsent ?? false;
  const consent = o.consent
    ? await o.consent(String(template.category), requireConsent)
    : { granted: requireConsent ? new Set<string>() : null, revoked: new Set<string>() };
  return Object.freeze({
    id: target.id,
    templateName: target.template,
    language: target.language,
    phoneNumberId: target.phoneNumberId,
    wabaId: target.wabaId,
    template,
    csvPath: target.csvPath,
    csvName,
    shape,
    links,
    specs: Object.freeze([...target.specs]),
    from: target.from,
    rate,
    rateSource: limit.source,
    window: flags.maxInFlight ?? defaultWindow(rate),
    api,
    endpoint,
    exclude: o.exclude,
    excluded: excludeList?.numbers ?? new Set<string>(),
    requireConsent,
    consent,
    strict,
    report: o.report,
  });
}

// ---- the targets: `wacx send`'s flags, or a campaign in the ledger ----------------------------------------------

export interface SendFlags {
  csvPath: string;
  template: string;
  language: string;
  map: readonly string[];
  phoneColumn: string | null;
  defaultCountry: string | null;
  campaignId: string | null;
  exclude: string | null;
  report: string | null;
}

/** `wacx send`'s flags and files, checked before anything is looked up; the target of a new campaign. */
export interface SendInput {
  target: PlanTarget;
  csv: { size: number; mtimeMs: number; sha256: string };
  /** The campaign id was given with --campaign (else derived from the CSV, template and number). */
  named: boolean;
  exclude: string | null;
  excludeList: ExcludeList | null;
  report: string | null;
}

/** Everything `wacx send` can check before the first request: files, header, mapping, ids. */
export async function checkSendFlags(
  req: SendFlags,
  ids: { phoneNumberId: () => string; wabaId: () => string },
): Promise<SendInput> {
  const csvPath = resolve(req.csvPath);
  const csvName = basename(csvPath);
  const stat = await checkReadable(csvPath, '--csv');
  const defaultCountry = checkDefaultCountry(req.defaultCountry);
  const specs = req.map.map(parseMapSpec);
  checkTemplateRef(req.template, req.language);
  const exclude = req.exclude ? resolve(req.exclude) : null;
  const report = await reportPath(req.report, [
    ['the --csv file', csvPath],
    ['the --exclude file', exclude],
  ]);
  const excludeList = exclude ? await readExcludeFile(exclude, defaultCountry) : null;
  const header = await readHeader(csvPath);
  const { phoneIndex, bsuidIndex } = findRecipientColumns(header.columns, req.phoneColumn, csvName);
  checkMappedColumns(header.columns, specs, csvName);
  const phoneNumberId = ids.phoneNumberId();
  const wabaId = ids.wabaId();
  const sha256 = await fileSha256(csvPath);
  const id = req.campaignId
    ? checkCampaignId(req.campaignId)
    : deriveCampaignId(sha256, req.template, req.language, phoneNumberId);
  return {
    target: {
      id,
      template: req.template,
      language: req.language,
      phoneNumberId,
      wabaId,
      csvPath,
      columns: header.columns,
      phoneIndex,
      bsuidIndex,
      specs,
      defaultCountry,
      from: { offset: header.end, lines: header.endLines, nextRow: 1 },
      slots: null,
      api: null,
    },
    csv: { size: stat.size, mtimeMs: Math.round(stat.mtimeMs), sha256 },
    named: req.campaignId !== null,
    exclude,
    excludeList,
    report,
  };
}

/** The target of a campaign in the ledger; the part of its CSV not read yet must be the file it started from. */
export async function storedTarget(campaign: Campaign): Promise<PlanTarget> {
  const csvName = basename(campaign.csvPath);
  if (!campaign.wabaId) throw new ConfigError(`Campaign ${campaign.id} has no WABA id.`);
  const defaultCountry = checkDefaultCountry(campaign.options.defaultCountry);
  const columns = campaign.columns ?? [];
  const { phoneIndex, bsuidIndex } = findRecipientColumns(columns, campaign.options.phoneColumn, csvName);
  if (!campaign.ingestDone) {
    // the rest of the CSV is read while sending: it must be the file the campaign was created from
    const s = await checkReadable(campaign.csvPath, '--csv');
    if (s.size !== campaign.csvSize || Math.round(s.mtimeMs) !== campaign.csvMtime) {
      if ((await fileSha256(campaign.csvPath)) !== campaign.csvSha256) {
        throw new WacxError(
          `${csvName} changed since campaign ${campaign.id} started, and not all of it was read.`,
          {
            hint: 'Restore the original file to resume, or start a new campaign with --campaign NEW-ID.',
          },
        );
      }
    }
  }
  return {
    id: campaign.id,
    template: campaign.template,
    language: campaign.language,
    phoneNumberId: campaign.phoneNumberId,
    wabaId: campaign.wabaId,
    csvPath: campaign.csvPath,
    columns,
    phoneIndex,
    bsuidIndex,
    specs: campaign.options.map,
    defaultCountry,
    from: campaign.ingestDone
      ? null
      : { offset: campaign.ingestOffset, lines: campaign.ingestLine, nextRow: campaign.nextRow },
    slots: campaign.options.slots,
    api: campaign.options.api ?? 'auto',
  };
}

/**
 * `--report PATH` resolved, after checking that it can be written (before anything is sent) and is none of the
 * campaign's input files (the report replaces the file it names).
 */
export async function reportPath(
  report: string | null,
  inputs: readonly [what: string, path: string | null][],
): Promise<string | null> {
  if (report === null) return null;
  const path = resolve(report);
  const input = inputs.find(([, p]) => p === path);
  if (input) {
    throw new UsageError(`${path} is also ${input[0]}: the report would replace it.`, {
      location: '--report',
      hint: 'Give the report another file name.',
    });
  }
  await checkReportPath(path);
  return path;
}

// ---- --strict ---------------------------------------------------------------------------------------------------

/** `  file.csv:12: why` for the first 20 problems, and how many more. */
function rowLines(problems: readonly Problem[], count: number, csvName: string): string {
  const shown = problems
    .slice(0, 20)
    .map((p) => `  ${csvName}:${p.line}: ${p.message}`)
    .join('\n');
  return `${shown}${count > 20 ? `\n  … and ${count - 20} more` : ''}`;
}

function problemsError(problems: readonly Problem[], count: number, csvName: string): UsageError {
  const first = problems[0]!;
  return new UsageError(
    `${count} invalid row${count === 1 ? '' : 's'} (--strict): nothing was sent.\n${rowLines(problems, count, csvName)}`,
    {
      location: `${csvName}:${first.line}`,
      hint: 'Fix these rows, or run without --strict to skip them and send the rest.',
    },
  );
}

/** `--strict`: every row of the file (from `from`) is checked before anything is sent; throws with the first problems. */
async function strictCheck(
  path: string,
  shape: RowShape,
  from: ReadFrom,
  csvName: string,
  threads: WorkerThreads | null,
): Promise<void> {
  const r = await runRead(
    {
      kind: 'problems',
      store: null,
      cid: 0,
      path,
      shape,
      from,
      excluded: [],
      optedOut: [],
      links: NO_LINKS,
      batchRows: 0,
      batchMs: 0,
      problemLimit: 20,
    },
    {},
    { threads },
  );
  if (r.problems && r.problems.count > 0) throw problemsError(r.problems.problems, r.problems.count, csvName);
}

function sameSlots(a: readonly Slot[], b: readonly Slot[]): boolean {
  if (a.length !== b.length) return false;
  return a.every(
    (s, i) =>
      s.component === b[i]!.component &&
      s.name === b[i]!.name &&
      s.kind === b[i]!.kind &&
      s.columnIndex === b[i]!.columnIndex &&
      s.buttonIndex === b[i]!.buttonIndex &&
      s.named === b[i]!.named,
  );
}

// ---- rows that would go to a BSUID ------------------------------------------------------------------------------

/** The rows' identity columns only (no parameter slots). */
function identityShape(target: PlanTarget): RowShape {
  return {
    columns: target.columns,
    phoneIndex: target.phoneIndex,
    bsuidIndex: target.bsuidIndex,
    slots: [],
    defaultCountry: target.defaultCountry,
  };
}

/** The first Graph API version that takes `recipient` (meta-cloud-api.md §15.1: older ones are not known to). */
const RECIPIENT_MIN_VERSION = 24;

/**
 * A row sent to a BSUID (no phone in the row, none linked in the store) goes in `recipient`: refused before anything
 * is sent when the API version is older than v24.0, or when the template is an AUTHENTICATION template (by its
 * category as the API gave it now; Meta answers 131062). The file is read once for it only in those two cases.
 */
async function refuseBsuidSends(
  csv: { path: string; csvName: string; shape: RowShape; from: ReadFrom; links: IdentityLinks },
  o: { template: MessageTemplate; apiVersion: string },
  threads: WorkerThreads | null,
): Promise<void> {
  const oldVersion = versionMajor(o.apiVersion) < RECIPIENT_MIN_VERSION;
  const authentication = String(o.template.category).toUpperCase() === 'AUTHENTICATION';
  if (!oldVersion && !authentication) return;
  const r = await runRead(
    {
      kind: 'bsuids',
      store: null,
      cid: 0,
      path: csv.path,
      shape: csv.shape,
      from: csv.from,
      excluded: [],
      optedOut: [],
      links: csv.links,
      batchRows: 0,
      batchMs: 0,
      problemLimit: 20,
    },
    {},
    { threads },
  );
  const found = r.problems;
  if (!found || found.count === 0) return;
  const rows = `${found.count} row${found.count === 1 ? '' : 's'}`;
  const lines = rowLines(found.problems, found.count, csv.csvName);
  if (authentication) {
    throw new UsageError(
      `Template "${o.template.name}" (${o.template.language}) is an AUTHENTICATION template, which cannot go to a BSUID (Meta answers 131062); ${rows} name only a BSUID: nothing was sent.\n${lines}`,
      {
        location: `${csv.csvName}:${found.problems[0]!.line}`,
        hint: 'Give these rows a phone number (authentication templates need `to`), or leave them out of this CSV.',
      },
    );
  }
  throw new UsageError(
    `API version ${o.apiVersion} cannot send to a BSUID (the \`recipient\` field needs v${RECIPIENT_MIN_VERSION}.0 or later); ${rows} name only a BSUID: nothing was sent.\n${lines}`,
    {
      location: '--api-version',
      hint: `Pass --api-version v${RECIPIENT_MIN_VERSION}.0 or later (or \`wacx config set apiVersion v25.0\`).`,
    },
  );
}

// ---- which endpoint ---------------------------------------------------------------------------------------------

/** `marketing_messages_onboarding_status` values that mean onboarding is complete (exact values UNCERTAIN, §15.3). */
const ONBOARDED = new Set(['ONBOARDED', 'COMPLETE', 'COMPLETED', 'APPROVED', 'ACTIVE']);

/**
 * The endpoint of `--api` for this template, by its category as the API gives it now (meta-cloud-api.md §15.3):
 * the Marketing Messages API takes MARKETING templates only; `auto` uses it when the WABA reports a completed
 * onboarding (a WABA that cannot say is taken as not onboarded), else /messages.
 */
async function chooseEndpoint(
  api: SendApi,
  template: MessageTemplate,
  graph: Graph,
  wabaId: string,
): Promise<SendEndpoint> {
  const marketing = String(template.category).toUpperCase() === 'MARKETING';
  if (api === 'messages') return 'messages';
  if (api === 'marketing') {
    if (!marketing) {
      throw new UsageError(
        `Template "${template.name}" (${template.language}) is ${template.category} now: the Marketing Messages API takes MARKETING templates only.`,
        { location: '--api', hint: 'Send it with --api messages (or --api auto).' },
      );
    }
    return 'marketing_messages';
  }
  if (!marketing) return 'messages';
  const waba = await graph.waba.get(wabaId, ['id', 'marketing_messages_onboarding_status']).catch(() => null);
  const status = (waba as { marketing_messages_onboarding_status?: unknown } | null)
    ?.marketing_messages_onboarding_status;
  return typeof status === 'string' && ONBOARDED.has(status.toUpperCase())
    ? 'marketing_messages'
    : 'messages';
}
