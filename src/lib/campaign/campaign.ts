import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import type { Clock } from '../clock.js';
import { ConfigError, ExitCode, UsageError, WacxError } from '../errors.js';
import type { Graph } from '../graph/graph.js';
import type { MessageTemplate } from '../graph/types.js';
import { favourMemoryAtRate } from '../heap.js';
import { startCheckpointer } from '../store/checkpointer.js';
import { Store } from '../store/sqlite.js';
import { syncHealth } from '../webhooks/queries.js';
import { Engine, type EngineOutcome } from './engine.js';
import { meaningOfCode, meaningOfSkip, type SendEvents, type Snapshot, type Summary } from './events.js';
import { checkReadable, checkReportPath, fileProblem } from './files.js';
import { checkCampaignId, deriveCampaignId, fileSha256 } from './id.js';
import { type Campaign, type Counts, type IngestRow, Ledger } from './ledger.js';
import { checkMappedColumns, type MapSpec, parseMapSpec, resolveSlots } from './mapping.js';
import { type ExcludeList, readExcludeFile, storeOptOuts } from './opt-outs.js';
import { Pacer, PairLimiter } from './pacer.js';
import { checkDefaultCountry } from './phone.js';
import { checkRateCeiling, defaultWindow, numberThroughput, resolveRate, THROUGHPUT_FIELDS } from './rate.js';
import { type ReadTask, runRead } from './reader.js';
import { reconcileUnknown } from './reconcile.js';
import { writeReport } from './report.js';
import { findPhoneColumn, type Problem, type RowShape, readHeader } from './rows.js';
import { checkTemplateRef, fetchApprovedTemplate } from './template.js';
import { graphTransport } from './transport.js';
import { INVALID_REASONS, type RowOutcome, type SkipReason, type Slot, type StopReason } from './types.js';
import { type Committer, startWriter } from './writer.js';

export interface SendRequest {
  csvPath: string;
  template: string;
  language: string;
  map: readonly string[];
  phoneColumn: string | null;
  defaultCountry: string | null;
  rate: number | null;
  force: boolean;
  campaignId: string | null;
  exclude: string | null;
  strict: boolean;
  dryRun: boolean;
  report: string | null;
  resendUnknown: boolean;
  maxInFlight: number | null;
}

export interface ResumeRequest {
  rate: number | null;
  force: boolean;
  resendUnknown: boolean;
  report: string | null;
  maxInFlight: number | null;
  strict: boolean;
}

/** What the commands give the campaign domain. */
export interface RunEnv {
  /** Where the run reports what it does; the cli renders it. */
  events: SendEvents;
  /** Dry run: every rendered message as an NDJSON line (else a few previews for people). */
  messagesAsNdjson: boolean;
  clock: Clock;
  signal: AbortSignal;
  /** The API core for management calls (template, phone number). */
  graph: () => Promise<Graph>;
  /** The API core for sends, over an undici Pool of `connections` connections; closed by the caller's cleanup. */
  sendGraph: (connections: number) => Promise<Graph>;
  store: () => Promise<Store>;
  phoneNumberId: () => string;
  wabaId: () => string;
  host?: string;
  pid?: number;
  /** A lease whose heartbeat is older than this is taken over (default 30 s). */
  leaseStaleMs?: number;
}

export const LEASE_STALE_MS = 30_000;

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: string }).code === 'EPERM';
  }
}

async function statCsv(path: string): Promise<{ size: number; mtimeMs: number }> {
  const s = await checkReadable(path, '--csv');
  return { size: s.size, mtimeMs: Math.round(s.mtimeMs) };
}

/**
 * `--report PATH` resolved, after checking that it can be written (before anything is sent) and is none of the
 * campaign's input files (the report replaces the file it names).
 */
async function reportPath(
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

/** Writes the report at the end of a run; a failure (rare after the check at the start) names --report and the path. */
async function writeRunReport(path: string, rows: Iterable<RowOutcome>, retry: string): Promise<void> {
  try {
    await writeReport(path, rows);
  } catch (error) {
    throw new WacxError(`Cannot write the report --report ${path}: ${fileProblem(path, error)}.`, {
      cause: error,
      hint: retry,
    });
  }
}

function problemsError(problems: readonly Problem[], count: number, csvName: string): UsageError {
  const shown = problems
    .slice(0, 20)
    .map((p) => `  ${csvName}:${p.line}: ${p.message}`)
    .join('\n');
  const more = count > 20 ? `\n  … and ${count - 20} more` : '';
  const first = problems[0]!;
  return new UsageError(
    `${count} invalid row${count === 1 ? '' : 's'} (--strict): nothing was sent.\n${shown}${more}`,
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
  from: ReadTask['from'],
  csvName: string,
): Promise<void> {
  const r = await runRead(
    {
      kind: 'problems',
      dbPath: '',
      cid: 0,
      path,
      shape,
      from,
      excluded: [],
      optedOut: [],
      batchRows: 0,
      batchMs: 0,
      problemLimit: 20,
    },
    {},
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

function mapKey(specs: readonly MapSpec[]): string {
  return JSON.stringify([...specs].map((s) => [s.column, s.param]).sort());
}

// ---------------------------------------------------------------------------------------------------------------

/** `wacx send`: validates everything, then creates or resumes the campaign and sends it. Returns the exit code. */
export async function sendCampaign(req: SendRequest, env: RunEnv): Promise<number> {
  favourMemoryAtRate(req.rate);
  // ---- everything that can be checked before the first request ----
  const csvPath = resolve(req.csvPath);
  const csvName = basename(csvPath);
  const csv = await statCsv(csvPath);
  const defaultCountry = checkDefaultCountry(req.defaultCountry);
  const specs = req.map.map(parseMapSpec);
  checkTemplateRef(req.template, req.language);
  checkRateCeiling(req.rate, req.force);
  const exclude = req.exclude ? resolve(req.exclude) : null;
  const report = await reportPath(req.report, [
    ['the --csv file', csvPath],
    ['the --exclude file', exclude],
  ]);
  const excludeList = exclude ? await readExcludeFile(exclude, defaultCountry) : undefined;
  const header = await readHeader(csvPath);
  const phoneIndex = findPhoneColumn(header.columns, req.phoneColumn, csvName);
  checkMappedColumns(header.columns, specs, csvName);
  const phoneNumberId = env.phoneNumberId();
  const wabaId = env.wabaId();
  const csvSha256 = await fileSha256(csvPath);
  const id = req.campaignId
    ? checkCampaignId(req.campaignId)
    : deriveCampaignId(csvSha256, req.template, req.language, phoneNumberId);

  if (req.dryRun) {
    return dryRun(req, env, {
      csvPath,
      csvName,
      defaultCountry,
      specs,
      phoneNumberId,
      wabaId,
      id,
      exclude,
      excluded: excludeList?.numbers ?? new Set(),
      header,
      phoneIndex,
      report,
    });
  }

  const store = await env.store();
  const ledger = new Ledger(store.db);
  const existing = ledger.find(id);
  if (existing) {
    const mismatch: [string, string] | null =
      existing.template !== req.template
        ? ['--template', `template ${existing.template}`]
        : existing.language !== req.language
          ? ['--language', `language ${existing.language}`]
          : existing.phoneNumberId !== phoneNumberId
            ? ['--phone-number-id', `phone number ${existing.phoneNumberId}`]
            : existing.csvSha256 !== csvSha256
              ? ['--csv', `another CSV (${existing.csvPath})`]
              : mapKey(existing.options.map) !== mapKey(specs)
                ? [
                    '--map',
                    `other --map options (${existing.options.map.map((m) => `${m.column}=${m.param}`).join(' ') || 'none'})`,
                  ]
                : (existing.options.defaultCountry ?? null) !== (defaultCountry ?? null)
                  ? ['--default-country', `--default-country ${existing.options.defaultCountry ?? '(none)'}`]
                  : null;
    if (mismatch) {
      throw new UsageError(
        `Campaign "${id}" ${req.campaignId ? '' : '(this CSV, template and number) '}was started with ${mismatch[1]}: the rows it has not sent yet would not be the same messages.`,
        {
          location: mismatch[0],
          hint: `Run it as it was started (or \`wacx campaigns resume ${id}\`); for a new campaign pass --campaign NEW-ID (recipients it already reached would get the message again).`,
        },
      );
    }
    return withLease(ledger, existing, env, (owner) => {
      if (exclude && exclude !== existing.options.exclude) {
        env.events.warn(
          `Campaign ${id} was started with ${existing.options.exclude ? `--exclude ${existing.options.exclude}` : 'no --exclude'}; using the new --exclude for the rows not sent yet.`,
        );
      }
      env.events.info(`Resuming campaign ${id} (started ${new Date(existing.createdAt).toISOString()}).`);
      return runCampaign(
        ledger,
        store,
        existing,
        { ...req, report, exclude: exclude ?? existing.options.exclude },
        env,
        owner,
        { exclude: excludeList },
      );
    });
  }

  if (!req.campaignId) {
    // The same list for the same template, but with different content: running it as a new campaign would send
    // the message again to everyone already reached. Make that an explicit choice.
    const sibling = ledger
      .list()
      .find(
        (c) =>
          c.csvPath === csvPath &&
          c.template === req.template &&
          c.language === req.language &&
          c.phoneNumberId === phoneNumberId,
      );
    if (sibling) {
      throw new UsageError(
        `${csvName} changed since campaign ${sibling.id} was started from it: running it again would message again everyone that campaign reached.`,
        {
          location: '--csv',
          hint: `To continue the old campaign: \`wacx campaigns resume ${sibling.id}\`. To send the new file anyway, name a new campaign with --campaign ID.`,
        },
      );
    }
  }

  const graph = await env.graph();
  const template = await fetchApprovedTemplate(graph, wabaId, req.template, req.language, env.signal);
  const slots = resolveSlots(template, header.columns, specs, csvName);
  const shape: RowShape = { columns: header.columns, phoneIndex, slots, defaultCountry };
  // the rate is checked before anything is written
  const pn = await graph.phoneNumbers.get(phoneNumberId, THROUGHPUT_FIELDS, env.signal);
  resolveRate(req.rate, req.force, numberThroughput(pn));
  if (req.strict) {
    await strictCheck(csvPath, shape, { offset: header.end, lines: header.endLines, nextRow: 1 }, csvName);
  }
  const now = env.clock.now();
  // Created holding its lease, atomically: a run of the same campaign started at the same moment either finds
  // it here and is refused by the lease, or created it first and refuses this one below.
  const owner = randomUUID();
  const me = { owner, host: env.host ?? hostname(), pid: env.pid ?? process.pid };
  const made = ledger.createLeased(
    {
      id,
      template: req.template,
      language: req.language,
      phoneNumberId,
      wabaId,
      csvPath,
      csvSize: csv.size,
      csvMtime: csv.mtimeMs,
      csvSha256,
      options: { map: specs, phoneColumn: header.columns[phoneIndex]!, defaultCountry, exclude, slots },
      templateSnapshot: template,
    },
    now,
    me,
  );
  if (!made.created) {
    // another run created it since this one looked: its lease decides (the lease message while it runs)
    takeLease(ledger, made.campaign, owner, env);
    ledger.releaseLease(made.campaign.cid, owner);
    throw new WacxError(
      `Campaign ${id} was started by another run at the same moment: not starting a second run.`,
      { hint: `See it with \`wacx campaigns show ${id}\`; run the same command again to resume it.` },
    );
  }
  const created = made.campaign;
  ledger.ingestBatch(
    created.cid,
    [],
    { offset: header.end, line: header.endLines, nextRow: 1, done: false, columns: header.columns },
    now,
  );
  const campaign = ledger.find(id)!;
  return withLease(
    ledger,
    campaign,
    env,
    (owner) =>
      runCampaign(ledger, store, campaign, { ...req, report, exclude, strict: false }, env, owner, {
        template,
        pn,
        exclude: excludeList,
      }),
    owner,
  );
}

/** `wacx campaigns resume ID`. */
export async function resumeCampaign(id: string, req: ResumeRequest, env: RunEnv): Promise<number> {
  favourMemoryAtRate(req.rate);
  checkRateCeiling(req.rate, req.force);
  const store = await env.store();
  const ledger = new Ledger(store.db);
  const campaign = ledger.find(id);
  if (!campaign) {
    throw new UsageError(`No campaign "${id}" in the ledger.`, {
      hint: 'List them with `wacx campaigns list`.',
    });
  }
  const report = await reportPath(req.report, [
    ["the campaign's CSV", campaign.csvPath],
    ["the campaign's --exclude file", campaign.options.exclude],
  ]);
  return withLease(ledger, campaign, env, (owner) =>
    runCampaign(ledger, store, campaign, { ...req, report, exclude: campaign.options.exclude }, env, owner),
  );
}

/**
 * Runs `body` holding the campaign's lease, taken before anything is printed or requested: a second run of a
 * campaign that is being sent is refused first.
 */
async function withLease(
  ledger: Ledger,
  campaign: Campaign,
  env: RunEnv,
  body: (owner: string) => Promise<number>,
  /** The owner of a lease taken already (renewed here), e.g. by creating the campaign. */
  owner: string = randomUUID(),
): Promise<number> {
  takeLease(ledger, campaign, owner, env);
  try {
    return await body(owner);
  } finally {
    ledger.releaseLease(campaign.cid, owner);
  }
}

/** Takes the lease, or renews the one `owner` holds; throws when another live run holds it. */
function takeLease(ledger: Ledger, campaign: Campaign, owner: string, env: RunEnv): void {
  const { clock } = env;
  const staleMs = env.leaseStaleMs ?? LEASE_STALE_MS;
  const me = { owner, host: env.host ?? hostname(), pid: env.pid ?? process.pid };
  const lease = ledger.acquireLease(campaign.cid, me, clock.now(), staleMs, isAlive);
  if (!lease.ok) {
    const ago = Math.max(0, Math.round((clock.now() - lease.holder.heartbeat) / 1000));
    throw new WacxError(
      `Campaign ${campaign.id} is already being sent by pid ${lease.holder.pid} on ${lease.holder.host} (heartbeat ${ago} s ago): not starting a second run.`,
      {
        hint: `Wait for it to finish (\`wacx campaigns show ${campaign.id}\`). A run that died is taken over once its process is gone, or after ${Math.round(staleMs / 1000)} s without heartbeat.`,
      },
    );
  }
  if (lease.tookOver) {
    env.events.info(
      `Taking over campaign ${campaign.id} from a run that stopped (pid ${lease.tookOver.pid} on ${lease.tookOver.host}).`,
    );
  }
}

// ---------------------------------------------------------------------------------------------------------------

interface RunOptions {
  rate: number | null;
  force: boolean;
  resendUnknown: boolean;
  report: string | null;
  maxInFlight: number | null;
  strict: boolean;
  exclude: string | null;
}

/** Counts kept up to date while sending (the ledger holds the truth; this is for progress). */
class Tally {
  counts: Counts;
  answered = 0;
  lastAnswerAt: number | null = null;
  private samples: { t: number; n: number }[];
  constructor(counts: Counts, now: number) {
    this.counts = { ...counts };
    this.samples = [{ t: now, n: 0 }];
  }
  outcome(o: EngineOutcome, now: number): void {
    this.counts.pending--;
    this.counts[o.state]++;
    if (o.state !== 'skipped') {
      this.answered++;
      this.lastAnswerAt = now;
    }
  }
  ingested(pending: number, skipped: readonly IngestRow[]): void {
    this.counts.total += pending + skipped.length;
    this.counts.pending += pending;
    this.counts.skipped += skipped.length;
  }
  /** Answers per second over the last ~5 s. */
  rate(now: number): number {
    this.samples.push({ t: now, n: this.answered });
    while (this.samples.length > 2 && now - this.samples[0]!.t > 5000) this.samples.shift();
    const first = this.samples[0]!;
    const dt = now - first.t;
    return dt > 0 ? ((this.answered - first.n) * 1000) / dt : 0;
  }
}

function ingestOutcome(r: IngestRow): RowOutcome {
  return {
    row: r.row,
    line: r.line,
    recipient: r.recipient ?? r.input,
    state: r.state,
    reason: r.reason,
    errorCode: null,
    errorTitle: null,
    wamid: null,
    attempts: 0,
  };
}

async function runCampaign(
  ledger: Ledger,
  store: Store,
  campaign: Campaign,
  opts: RunOptions,
  env: RunEnv,
  leaseOwner: string,
  prefetched: {
    template?: MessageTemplate;
    pn?: Awaited<ReturnType<Graph['phoneNumbers']['get']>>;
    exclude?: ExcludeList | undefined;
  } = {},
): Promise<number> {
  const { events, clock } = env;
  const started = clock.now();
  const csvName = basename(campaign.csvPath);
  const cid = campaign.cid;
  if (opts.maxInFlight !== null && !(Number.isInteger(opts.maxInFlight) && opts.maxInFlight > 0)) {
    throw new UsageError(`--max-in-flight must be a positive integer.`, { location: '--max-in-flight' });
  }
  if (!campaign.wabaId) throw new ConfigError(`Campaign ${campaign.id} has no WABA id.`);
  const defaultCountry = checkDefaultCountry(campaign.options.defaultCountry);
  const exclude =
    prefetched.exclude ?? (opts.exclude ? await readExcludeFile(opts.exclude, defaultCountry) : null);
  const columns = campaign.columns ?? [];
  const phoneIndex = findPhoneColumn(columns, campaign.options.phoneColumn, csvName);
  if (!campaign.ingestDone) {
    // the rest of the CSV is read while sending: it must be the file the campaign was created from
    const now = await statCsv(campaign.csvPath);
    if (now.size !== campaign.csvSize || now.mtimeMs !== campaign.csvMtime) {
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

  const graph = await env.graph();
  const template =
    prefetched.template ??
    (await fetchApprovedTemplate(graph, campaign.wabaId, campaign.template, campaign.language, env.signal));
  const slots = resolveSlots(template, columns, campaign.options.map, csvName);
  if (!sameSlots(slots, campaign.options.slots)) {
    throw new UsageError(
      `Template "${campaign.template}" (${campaign.language}) changed since campaign ${campaign.id} started: its parameters are not the same any more.`,
      {
        location: '--template',
        hint: 'Start a new campaign (--campaign NEW-ID) for the new version of the template.',
      },
    );
  }
  const shape: RowShape = { columns, phoneIndex, slots, defaultCountry };

  const pn =
    prefetched.pn ?? (await graph.phoneNumbers.get(campaign.phoneNumberId, THROUGHPUT_FIELDS, env.signal));
  const limit = numberThroughput(pn);
  const rate = resolveRate(opts.rate, opts.force, limit);
  const window = opts.maxInFlight ?? defaultWindow(rate);

  if (!campaign.ingestDone && opts.strict) {
    const from = { offset: campaign.ingestOffset, lines: campaign.ingestLine, nextRow: campaign.nextRow };
    await strictCheck(campaign.csvPath, shape, from, csvName);
  }
  const excluded = exclude?.numbers ?? new Set<string>();
  if (opts.exclude && exclude && exclude.invalid.length > 0) {
    events.warn(
      `${basename(opts.exclude)}: ${exclude.invalid.length} line(s) are not phone numbers (first: line ${exclude.invalid[0]!.line}).`,
    );
  }

  // Only this campaign's WABA: an offboarding of another account must not stop it.
  const health = syncHealth(store.db, campaign.phoneNumberId, { wabaId: campaign.wabaId ?? undefined });
  if (health.offboardedWithoutReconnect) {
    const stop: StopReason = {
      kind: 'offboarded',
      code: null,
      title: 'Number offboarded',
      message:
        'The webhook store shows ACCOUNT_OFFBOARDED without a later ACCOUNT_RECONNECTED: sends would fail.',
      hint: 'Reconnect the number in the WhatsApp Business App (or re-onboard), check `wacx doctor`, then run again.',
    };
    const counts = ledger.counts(cid);
    ledger.setStatus(cid, 'stopped', clock.now(), { stopReason: stop });
    const summary = buildSummary(ledger, campaign, counts, {
      status: 'stopped',
      exitCode: ExitCode.FAILED,
      durationMs: clock.now() - started,
      requests: 0,
      achievedRate: null,
      targetRate: rate,
      stop,
      report: null,
    });
    events.summary(summary);
    return ExitCode.FAILED;
  }

  // the checks above (a --strict read of a large file) may outlast the lease's stale time: renew it before sending
  takeLease(ledger, campaign, leaseOwner, env);

  const stopIngest = new AbortController();
  const onAbort = () => stopIngest.abort();
  env.signal.addEventListener('abort', onAbort);
  let optOutTimer: NodeJS.Timeout | undefined;
  let stopCheckpointer: (() => Promise<void>) | undefined;
  let committer: Committer | null = null;
  let result: Awaited<ReturnType<Engine['run']>>;
  let ingestError: unknown;
  let tally: Tally;
  try {
    // ---- what the previous run left ----
    const now = clock.now();
    const wasInFlight = ledger.inFlightToUnknown(cid, now);
    const rec = reconcileUnknown(store.db, ledger, cid, campaign.id, now);
    if (wasInFlight > 0 || rec.checked > 0) {
      events.info(
        `${wasInFlight > 0 ? `${wasInFlight} row(s) were in flight when the previous run stopped. ` : ''}` +
          `Reconciled from status webhooks: ${rec.sent} sent, ${rec.failed} failed, ${rec.stillUnknown} still unknown.`,
      );
    }
    if (opts.resendUnknown) {
      const n = ledger.unknownToPending(cid, now);
      if (n > 0)
        events.warn(
          `--resend-unknown: ${n} row(s) whose outcome is unknown will be sent again (they may get it twice).`,
        );
    } else if (rec.stillUnknown > 0) {
      events.warn(
        `${rec.stillUnknown} row(s) have an unknown outcome and are not re-sent (see \`wacx campaigns show ${campaign.id}\`; --resend-unknown to send them again).`,
      );
    }
    ledger.durable();
    stopCheckpointer = await startCheckpointer(store.db, store.path);
    committer = startWriter(store.path, cid);
    ledger.setStatus(cid, 'running', now, { started: true, stopReason: null });
    tally = new Tally(ledger.counts(cid), clock.now());

    let optOuts = storeOptOuts(store.db);
    optOutTimer = setInterval(() => {
      optOuts = storeOptOuts(store.db);
    }, 30_000);
    optOutTimer.unref();

    const sendGraph = await env.sendGraph(Math.min(window, 128));
    const transport = graphTransport(sendGraph, {
      phoneNumberId: campaign.phoneNumberId,
      template: campaign.template,
      language: campaign.language,
      slots,
      campaignId: campaign.id,
    });
    let ingestDone = campaign.ingestDone;
    const t = tally;
    const engine = new Engine({
      ledger,
      cid,
      clock,
      signal: env.signal,
      transport,
      pacer: new Pacer(rate, clock.now()),
      pair: new PairLimiter(),
      window,
      leaseOwner,
      committer,
      ingestDone: () => ingestDone,
      blocked: (r) =>
        excluded.has(r)
          ? 'excluded: listed in --exclude'
          : optOuts.has(r)
            ? 'opted_out: the recipient opted out (inbound STOP or marketing preference)'
            : null,
      onOutcome: (o) => {
        t.outcome(o, clock.now());
        events.row(campaign.id, o, csvName);
      },
      onNotice: (n) => events.notice(n, clock.now()),
    });
    const ingesting = ingestDone
      ? Promise.resolve()
      : runRead(
          {
            kind: 'ingest',
            dbPath: store.path,
            cid,
            path: campaign.csvPath,
            shape,
            from: { offset: campaign.ingestOffset, lines: campaign.ingestLine, nextRow: campaign.nextRow },
            excluded: [...excluded],
            optedOut: [...optOuts],
            batchRows: 500,
            batchMs: 10,
          },
          {
            onBatch: (pending, skipped) => {
              t.ingested(pending, skipped);
              for (const r of skipped) events.row(campaign.id, ingestOutcome(r), csvName);
              engine.notify();
            },
          },
          stopIngest.signal,
        ).then(
          (r) => {
            if (!r.aborted) ingestDone = true;
            engine.notify();
          },
          (error: unknown) => {
            ingestError = error;
            ingestDone = true; // nothing more will come: let the engine finish what it has
            engine.notify();
          },
        );
    events.sending(
      {
        campaign: campaign.id,
        template: campaign.template,
        language: campaign.language,
        csvName,
        rate,
        rateSource: limit.source,
        window,
      },
      (): Snapshot => ({
        counts: {
          ...t.counts,
          in_flight: engine.outstanding,
          pending: t.counts.pending - engine.outstanding,
        },
        outstanding: engine.outstanding,
        rate: t.rate(clock.now()),
        targetRate: rate,
        ingesting: !ingestDone,
      }),
    );
    result = await engine.run();
    stopIngest.abort();
    await ingesting;
  } finally {
    env.signal.removeEventListener('abort', onAbort);
    if (optOutTimer) clearInterval(optOutTimer);
    events.sendingEnded();
    await committer?.close();
    await stopCheckpointer?.();
  }

  // ---- the end of this run ----
  const end = clock.now();
  const counts = ledger.counts(cid);
  let stop = result.stop;
  if (!stop && result.leaseLost) {
    stop = {
      kind: 'lease',
      code: null,
      title: 'Lease lost',
      message: 'Another run took this campaign over (this one looked dead): stopped sending.',
      hint: `Check \`wacx campaigns show ${campaign.id}\`.`,
    };
  }
  if (!stop && ingestError) {
    stop = {
      kind: 'input',
      code: null,
      title: 'CSV unreadable',
      message: ingestError instanceof Error ? ingestError.message : String(ingestError),
      hint: 'Restore the CSV, then run the same command again to resume.',
    };
  }
  const invalid = ledger
    .skipsByReason(cid)
    .filter((k) => INVALID_REASONS.has(k.reason as SkipReason))
    .reduce((n, k) => n + k.count, 0);
  let status: Summary['status'];
  let exitCode: number;
  if (result.cancelled) {
    status = 'cancelled';
    exitCode = ExitCode.CANCELLED;
  } else if (stop) {
    status = 'stopped';
    exitCode =
      stop.kind === 'api' && stop.code !== null && [0, 190].includes(stop.code)
        ? ExitCode.AUTH
        : ExitCode.FAILED;
  } else if (counts.failed + counts.unknown + counts.pending + counts.in_flight + invalid > 0) {
    status = 'partial';
    exitCode = ExitCode.PARTIAL;
  } else {
    status = 'completed';
    exitCode = ExitCode.OK;
  }
  const finished =
    counts.pending + counts.in_flight === 0 && (status === 'completed' || status === 'partial');
  ledger.setStatus(cid, status === 'partial' ? 'completed' : status, end, {
    stopReason: stop,
    activeMs: end - started,
    finished,
  });
  let reportError: unknown;
  if (opts.report) {
    await writeRunReport(
      opts.report,
      ledger.allRows(cid),
      `The ledger has every row: \`wacx campaigns resume ${campaign.id} --report FILE\` with a writable FILE writes it (rows already sent are never sent again).`,
    ).catch((error: unknown) => {
      reportError = error;
    });
  }
  const firstAt = result.firstRequestAt;
  const lastAt = tally.lastAnswerAt;
  // N answers span N - 1 intervals
  const achievedRate =
    firstAt !== null && lastAt !== null && lastAt > firstAt && tally.answered > 1
      ? ((tally.answered - 1) * 1000) / (lastAt - firstAt)
      : null;
  events.summary(
    buildSummary(ledger, campaign, counts, {
      status,
      exitCode,
      durationMs: end - started,
      requests: result.requests,
      achievedRate,
      targetRate: rate,
      stop,
      report: reportError ? null : opts.report,
      commits: result.commits,
    }),
  );
  if (reportError) throw reportError;
  return exitCode;
}

export function buildSummary(
  ledger: Ledger,
  campaign: Campaign,
  counts: Counts,
  s: Pick<
    Summary,
    'status' | 'exitCode' | 'durationMs' | 'requests' | 'achievedRate' | 'targetRate' | 'stop' | 'report'
  > & {
    rendered?: number;
    commits?: number;
  },
): Summary {
  return {
    campaign: campaign.id,
    template: campaign.template,
    language: campaign.language,
    counts,
    failedByCode: ledger
      .failuresByCode(campaign.cid)
      .map((f) => ({ code: f.code, title: f.title, meaning: meaningOfCode(f.code), count: f.count })),
    skippedByReason: ledger
      .skipsByReason(campaign.cid)
      .map((k) => ({ reason: k.reason, meaning: meaningOfSkip(k.reason), count: k.count })),
    unknownRows: ledger.rowsInState(campaign.cid, 'unknown', 100),
    ...s,
  };
}

// ---------------------------------------------------------------------------------------------------------------

/**
 * `--dry-run`: everything a real run checks (template, mapping, rate, every row), every message rendered, nothing
 * sent and nothing written to the profile's ledger (rows go through a temporary database, which also dedupes
 * recipients with bounded memory whatever the file size).
 */
async function dryRun(
  req: SendRequest,
  env: RunEnv,
  c: {
    csvPath: string;
    csvName: string;
    defaultCountry: ReturnType<typeof checkDefaultCountry>;
    specs: MapSpec[];
    phoneNumberId: string;
    wabaId: string;
    id: string;
    exclude: string | null;
    excluded: ReadonlySet<string>;
    header: Awaited<ReturnType<typeof readHeader>>;
    phoneIndex: number;
    report: string | null;
  },
): Promise<number> {
  const { events, clock } = env;
  const { header, phoneIndex, excluded } = c;
  const started = clock.now();
  const graph = await env.graph();
  const template = await fetchApprovedTemplate(graph, c.wabaId, req.template, req.language, env.signal);
  const slots = resolveSlots(template, header.columns, c.specs, c.csvName);
  const shape: RowShape = { columns: header.columns, phoneIndex, slots, defaultCountry: c.defaultCountry };
  const pn = await graph.phoneNumbers.get(c.phoneNumberId, THROUGHPUT_FIELDS, env.signal);
  const rate = resolveRate(req.rate, req.force, numberThroughput(pn));
  if (req.strict) {
    await strictCheck(
      c.csvPath,
      shape,
      { offset: header.end, lines: header.endLines, nextRow: 1 },
      c.csvName,
    );
  }
  const optedOut = storeOptOuts((await env.store()).db);

  const dir = await mkdtemp(join(tmpdir(), 'wacx-dry-run-'));
  const dbPath = join(dir, 'dry-run.db');
  const temp = Store.open(dbPath);
  try {
    temp.db.pragma('synchronous = OFF');
    temp.db.pragma('cache_size = -4000');
    const ledger = new Ledger(temp.db);
    const campaign = ledger.create(
      {
        id: c.id,
        template: req.template,
        language: req.language,
        phoneNumberId: c.phoneNumberId,
        wabaId: c.wabaId,
        csvPath: c.csvPath,
        csvSize: 0,
        csvMtime: 0,
        csvSha256: '',
        options: {
          map: c.specs,
          phoneColumn: header.columns[phoneIndex]!,
          defaultCountry: c.defaultCountry,
          exclude: c.exclude,
          slots,
        },
        templateSnapshot: template,
      },
      clock.now(),
    );
    // read and render every message exactly as it would be sent (in the reader worker: bounded memory)
    let rendered = 0;
    await runRead(
      {
        kind: 'ingest',
        dbPath,
        cid: campaign.cid,
        path: c.csvPath,
        shape,
        from: { offset: header.end, lines: header.endLines, nextRow: 1 },
        excluded: [...excluded],
        optedOut: [...optedOut],
        batchRows: 1000,
        batchMs: 50,
        render: {
          campaignId: c.id,
          template: req.template,
          language: req.language,
          json: env.messagesAsNdjson,
          previews: 3,
        },
      },
      {
        onBatch: (_pending, skipped) => {
          for (const r of skipped) events.row(c.id, ingestOutcome(r), c.csvName);
        },
        onRendered: async (lines, count) => {
          rendered = count;
          await events.rendered(lines);
        },
      },
      env.signal,
    );
    const counts = ledger.counts(campaign.cid);
    const invalid = ledger
      .skipsByReason(campaign.cid)
      .filter((k) => INVALID_REASONS.has(k.reason as SkipReason))
      .reduce((n, k) => n + k.count, 0);
    const exitCode = env.signal.aborted ? ExitCode.CANCELLED : invalid > 0 ? ExitCode.PARTIAL : ExitCode.OK;
    // every row as this run would start: pending (to be sent) or skipped, with why
    if (c.report) {
      await writeRunReport(
        c.report,
        ledger.allRows(campaign.cid),
        'Nothing was sent: run the dry run again with a writable --report FILE.',
      );
    }
    events.summary(
      buildSummary(ledger, campaign, counts, {
        status: 'dry_run',
        exitCode,
        durationMs: clock.now() - started,
        requests: 0,
        achievedRate: null,
        targetRate: rate,
        stop: null,
        report: c.report,
        rendered,
      }),
    );
    return exitCode;
  } finally {
    temp.close();
    await rm(dir, { recursive: true, force: true });
  }
}
