import type { Clock } from '../clock.js';
import type { Graph } from '../graph/graph.js';
import { CHECKPOINTER_THREAD, type StopCheckpointer, startCheckpointer } from '../store/checkpointer.js';
import { locationOf, type Store } from '../store/store.js';
import type { WorkerThreads } from '../threads.js';
import { syncHealth } from '../webhooks/queries.js';
import { Engine, type EngineOutcome, type EngineResult } from './engine.js';
import type { SendEvents, Snapshot } from './events.js';
import { type LeaseEnv, takeLease } from './lease.js';
import type { Campaign, Counts, IngestRow, Ledger } from './ledger.js';
import { storeOptOuts } from './opt-outs.js';
import { Pacer, PairLimiter } from './pacer.js';
import type { Plan } from './prepare.js';
import { MAX_SEND_CONNECTIONS } from './rate.js';
import { READER_THREAD, type ReadTask, runRead } from './reader.js';
import { reconcileUnknown } from './reconcile.js';
import { graphTransport } from './transport.js';
import { type CampaignConsent, consentSkip, type RowOutcome, type StopReason } from './types.js';
import { type Committer, startWriter, WRITER_THREAD } from './writer.js';

/** What the commands give the campaign domain. */
export interface RunEnv extends LeaseEnv {
  /** Where the run reports what it does; the cli renders it. */
  events: SendEvents;
  /** Dry run: every rendered message as an NDJSON line (else a few previews for people). */
  messagesAsNdjson: boolean;
  clock: Clock;
  signal: AbortSignal;
  /**
   * The CSV reader, the ledger writer and the WAL checkpointer run in worker threads (the CLI always asks for
   * them); null runs their work on the main thread. With threads, a missing compiled worker is an error.
   */
  threads: WorkerThreads | null;
  /** The API core for management calls (template, phone number). */
  graph: () => Promise<Graph>;
  /** The API core for sends, over an undici Pool of `connections` connections; closed by the caller's cleanup. */
  sendGraph: (connections: number) => Promise<Graph>;
  store: () => Promise<Store>;
  phoneNumberId: () => string;
  wabaId: () => string;
}

/** The ids of the threads a run used (null: that work ran on the main thread, or had nothing to do). */
export interface RunThreads {
  reader: number | null;
  writer: number | null;
  checkpointer: number | null;
}

/** How a run ended: what the outcome step turns into the campaign's status, the summary and the exit code. */
export interface RunEnd {
  startedAt: number;
  /** Why it stopped before the end (an API answer, the lease lost, the CSV unreadable, the number offboarded). */
  stop: StopReason | null;
  cancelled: boolean;
  requests: number;
  commits: number | undefined;
  /** Answers per second while sending. */
  achievedRate: number | null;
  threads: RunThreads;
}

/** A campaign with its plan, in the ledger, this run holding its lease. */
export interface Leased {
  ledger: Ledger;
  store: Store;
  campaign: Campaign;
  plan: Plan;
  leaseOwner: string;
}

/**
 * Starts the threads a run will use, so that they load while the run is prepared (its checks, its API calls):
 * the first sends leave as soon as the plan is made. On PostgreSQL the reader and the writer are child processes,
 * and nothing checkpoints.
 */
export function prestartRunThreads(store: Store, env: Pick<RunEnv, 'threads'>): void {
  if (locationOf(store.db)?.backend !== 'sqlite') return;
  env.threads?.prestart(READER_THREAD, WRITER_THREAD, CHECKPOINTER_THREAD);
}

const NO_THREADS: RunThreads = { reader: null, writer: null, checkpointer: null };

/** Sends what the plan says: first what the previous run left is settled, then the engine runs until the end. */
export async function runCampaign(c: Leased, o: { resendUnknown: boolean }, env: RunEnv): Promise<RunEnd> {
  const startedAt = env.clock.now();
  const offboarded = offboardedStop(c);
  if (offboarded) {
    return {
      startedAt,
      stop: offboarded,
      cancelled: false,
      requests: 0,
      commits: undefined,
      achievedRate: null,
      threads: NO_THREADS,
    };
  }
  // the checks before (a --strict read of a large file) may outlast the lease's stale time: renew it before sending
  takeLease(c.ledger, c.campaign, c.leaseOwner, env);
  let threads: Threads | undefined;
  try {
    settlePrevious(c, o.resendUnknown, env);
    threads = await startThreads(c, env.threads, env.clock.now());
    c.ledger.setStatus(c.campaign.cid, 'running', env.clock.now(), { started: true, stopReason: null });
    const { readerThread, ...end } = await send(c, threads, env);
    return { startedAt, ...end, threads: { ...threads.ids, reader: readerThread } };
  } finally {
    env.events.sendingEnded();
    await threads?.stop();
  }
}

/** Only this campaign's WABA: an offboarding of another account must not stop it. */
function offboardedStop({ store, campaign }: Leased): StopReason | null {
  const health = syncHealth(store.db, campaign.phoneNumberId, { wabaId: campaign.wabaId ?? undefined });
  if (!health.offboardedWithoutReconnect) return null;
  return {
    kind: 'offboarded',
    code: null,
    title: 'Number offboarded',
    message:
      'The webhook store shows ACCOUNT_OFFBOARDED without a later ACCOUNT_RECONNECTED: sends would fail.',
    hint: 'Reconnect the number in the WhatsApp Business App (or re-onboard), check `wacx doctor`, then run again.',
  };
}

/** What the previous run left: rows in flight become unknown, status webhooks settle what they can. */
function settlePrevious({ ledger, store, campaign }: Leased, resendUnknown: boolean, env: RunEnv): void {
  const { events } = env;
  const now = env.clock.now();
  const wasInFlight = ledger.inFlightToUnknown(campaign.cid, now);
  const rec = reconcileUnknown(store.db, ledger, campaign.cid, campaign.id, now);
  if (wasInFlight > 0 || rec.checked > 0) {
    events.info(
      `${wasInFlight > 0 ? `${wasInFlight} row(s) were in flight when the previous run stopped. ` : ''}` +
        `Reconciled from status webhooks: ${rec.sent} sent, ${rec.failed} failed, ${rec.stillUnknown} still unknown.`,
    );
  }
  if (resendUnknown) {
    const n = ledger.unknownToPending(campaign.cid, now);
    if (n > 0)
      events.warn(
        `--resend-unknown: ${n} row(s) whose outcome is unknown will be sent again (they may get it twice).`,
      );
  } else if (rec.stillUnknown > 0) {
    events.warn(
      `${rec.stillUnknown} row(s) have an unknown outcome and are not re-sent (see \`wacx campaigns show ${campaign.id}\`; --resend-unknown to send them again).`,
    );
  }
}

interface Threads {
  committer: Committer | null;
  /** The ledger writer is up (its first, empty commit confirmed). */
  ready: Promise<unknown>;
  ids: RunThreads;
  stop(): Promise<void>;
}

/**
 * Durable commits from here on; with `threads`, the ledger writer and the WAL checkpointer start. The writer starts
 * while the caller starts the CSV reader (`ready` says when it is up): the two threads load at the same time.
 */
async function startThreads(
  { ledger, store, campaign }: Leased,
  threads: WorkerThreads | null,
  now: number,
): Promise<Threads> {
  ledger.durable();
  let stopCheckpointer: StopCheckpointer | undefined;
  let committer: Committer | null = null;
  // the ledger writer and the checkpointer do not wait for each other: they stop together
  const stop = async () => {
    await Promise.all([committer?.close(), stopCheckpointer?.()]);
  };
  let ready: Promise<unknown>;
  try {
    stopCheckpointer = await startCheckpointer(store.db, { threads });
    committer = startWriter(locationOf(store.db), campaign.cid, { threads });
    // an empty first commit: the writer has started (on PostgreSQL a process, with its connection) before the
    // first send, instead of holding the first sends back and letting them leave in a burst
    ready = Promise.resolve(committer?.commit({ updates: [], intents: [] }, now));
    ready.catch(() => {}); // awaited later, by the sending: a failure meanwhile is not unhandled
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    committer,
    ready,
    ids: { reader: null, writer: committer?.threadId ?? null, checkpointer: stopCheckpointer.threadId },
    stop,
  };
}

/** The sending itself: the engine, fed by the CSV reader while the file is read, until it ends. */
async function send(
  { ledger, store, campaign, plan, leaseOwner }: Leased,
  { committer, ready }: Threads,
  env: RunEnv,
): Promise<Omit<RunEnd, 'startedAt' | 'threads'> & { readerThread: number | null }> {
  const { events, clock } = env;
  const { cid } = campaign;
  const tally = new Tally(ledger.counts(cid), clock.now());
  let optOuts = storeOptOuts(store.db);
  const optOutTimer = setInterval(() => {
    optOuts = storeOptOuts(store.db);
  }, 30_000);
  optOutTimer.unref();
  const stopIngest = new AbortController();
  const onAbort = () => stopIngest.abort();
  env.signal.addEventListener('abort', onAbort);
  try {
    const sendGraph = await env.sendGraph(Math.min(plan.window, MAX_SEND_CONNECTIONS));
    const transport = graphTransport(sendGraph, {
      phoneNumberId: campaign.phoneNumberId,
      template: campaign.template,
      language: campaign.language,
      slots: plan.shape.slots,
      campaignId: campaign.id,
      endpoint: plan.endpoint,
    });
    if (plan.endpoint === 'marketing_messages') {
      events.info(
        `MARKETING template: sending through the Marketing Messages API (/marketing_messages, --api ${plan.api}).`,
      );
    }
    const bsuidOnly = new BsuidOnlyPhones(plan.csvName);
    let ingestDone = plan.from === null;
    let ingestError: unknown;
    let readerThread: number | null = null;
    const engine = new Engine({
      ledger,
      cid,
      clock,
      signal: env.signal,
      transport,
      pacer: new Pacer(plan.rate, clock.now()),
      pair: new PairLimiter(),
      window: plan.window,
      leaseOwner,
      committer,
      ingestDone: () => ingestDone,
      blocked: (r) =>
        plan.excluded.has(r)
          ? 'excluded: listed in --exclude'
          : optOuts.has(r)
            ? 'opted_out: the recipient opted out (inbound STOP or marketing preference)'
            : consentSkip([r], plan.consent),
      onOutcome: (o) => {
        tally.outcome(o, clock.now());
        events.row(campaign.id, o, plan.csvName);
      },
      onNotice: (n) => events.notice(n, clock.now()),
    });
    const ingesting =
      plan.from === null
        ? Promise.resolve()
        : runRead(
            {
              kind: 'ingest',
              store: store.location,
              cid,
              path: campaign.csvPath,
              shape: plan.shape,
              from: plan.from,
              excluded: [...plan.excluded],
              optedOut: [...optOuts],
              consent: consentTask(plan.consent),
              links: plan.links,
              batchRows: 500,
              batchMs: 10,
            },
            {
              onBatch: (pending, skipped, bsuidOnlyLines) => {
                bsuidOnly.add(bsuidOnlyLines);
                tally.ingested(pending, skipped);
                for (const r of skipped) events.row(campaign.id, ingestOutcome(r), plan.csvName);
                engine.notify();
              },
            },
            { threads: env.threads, signal: stopIngest.signal },
          ).then(
            (r) => {
              bsuidOnly.report(events);
              readerThread = r.threadId;
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
        csvName: plan.csvName,
        rate: plan.rate,
        rateSource: plan.rateSource,
        window: plan.window,
      },
      (): Snapshot => ({
        counts: {
          ...tally.counts,
          in_flight: engine.outstanding,
          pending: tally.counts.pending - engine.outstanding,
        },
        outstanding: engine.outstanding,
        rate: tally.rate(clock.now()),
        targetRate: plan.rate,
        ingesting: !ingestDone,
      }),
    );
    let result: EngineResult;
    try {
      await ready;
      result = await engine.run();
    } finally {
      stopIngest.abort();
      await ingesting;
    }
    return {
      stop: stopOf(result, ingestError, campaign.id),
      cancelled: result.cancelled,
      requests: result.requests,
      commits: result.commits,
      achievedRate: tally.achievedRate(result.firstRequestAt),
      readerThread,
    };
  } finally {
    env.signal.removeEventListener('abort', onAbort);
    clearInterval(optOutTimer);
  }
}

/** Why the run stopped early: the engine's reason, else the lease lost, else the CSV reader's failure. */
function stopOf(result: EngineResult, ingestError: unknown, id: string): StopReason | null {
  if (result.stop) return result.stop;
  if (result.leaseLost) {
    return {
      kind: 'lease',
      code: null,
      title: 'Lease lost',
      message: 'Another run took this campaign over (this one looked dead): stopped sending.',
      hint: `Check \`wacx campaigns show ${id}\`.`,
    };
  }
  if (ingestError) {
    return {
      kind: 'input',
      code: null,
      title: 'CSV unreadable',
      message: ingestError instanceof Error ? ingestError.message : String(ingestError),
      hint: 'Restore the CSV, then run the same command again to resume.',
    };
  }
  return null;
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
  /** Answers per second from the first request to the last answer (N answers span N - 1 intervals). */
  achievedRate(firstAt: number | null): number | null {
    const lastAt = this.lastAnswerAt;
    return firstAt !== null && lastAt !== null && lastAt > firstAt && this.answered > 1
      ? ((this.answered - 1) * 1000) / (lastAt - firstAt)
      : null;
  }
}

/**
 * The rows whose phone the webhook store has lately seen only as a BSUID-only user (the user hides the number):
 * they are sent to the phone as written, with one warning at the end of reading.
 */
export class BsuidOnlyPhones {
  private count = 0;
  private readonly first: number[] = [];
  constructor(private readonly csvName: string) {}
  add(lines: readonly number[]): void {
    this.count += lines.length;
    for (const line of lines) if (this.first.length < 5) this.first.push(line);
  }
  report(events: { warn(text: string): void }): void {
    if (this.count === 0) return;
    const where = this.first.map((l) => `${this.csvName}:${l}`).join(', ');
    events.warn(
      `${this.count} row(s) name a phone the webhook store has lately seen only as a BSUID-only user (${where}${this.count > this.first.length ? ', …' : ''}): ` +
        'sent to the phone as written; if the user changed number, use their BSUID (user_id column) instead.',
    );
  }
}

/** A plan's consent sets as the reader thread takes them. */
export function consentTask(c: CampaignConsent): NonNullable<ReadTask['consent']> {
  return { granted: c.granted ? [...c.granted] : null, revoked: [...c.revoked] };
}

export function ingestOutcome(r: IngestRow): RowOutcome {
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
    resolvedFrom: r.recipient !== null ? r.input : null,
  };
}
