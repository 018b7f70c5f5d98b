import type { StoreLocation } from '../store/location.js';
import { Store } from '../store/store.js';
import type { ThreadKind, WorkerThreads } from '../threads.js';
import { workerFile } from '../worker-file.js';
import { startWorkerProcess } from '../worker-process.js';
import { loadCsvParser } from './csv.js';
import { type IngestRow, Ledger } from './ledger.js';
import { renderComponents } from './mapping.js';
import { normalisePhone } from './phone.js';
import { type IdentityLinks, linkIndex, recipientKind, sendAddress } from './recipient.js';
import { bsuidRecipientRow, findProblems, ingest, type Problem, type RowShape } from './rows.js';
import type { SendEndpoint } from './types.js';

/**
 * Reading the CSV (parsing, phone normalisation, validation, dedupe into the ledger) runs in a worker thread when
 * the caller asks for threads (the CLI always does): its heap is capped (resourceLimits), so that memory stays flat
 * whatever the file size, and the sending loop on the main thread keeps its pace while a big file is read. Without
 * threads the same code runs on the main thread; with threads and no compiled worker, runRead throws.
 */

export interface ReadTask {
  /** ingest into the ledger; or find the invalid rows (`problems`), or the rows that would go to a BSUID (`bsuids`). */
  kind: 'ingest' | 'problems' | 'bsuids';
  /** The ledger's store (ingest only). */
  store: StoreLocation | null;
  cid: number;
  path: string;
  shape: RowShape;
  from: { offset: number; lines: number; nextRow: number };
  excluded: string[];
  optedOut: string[];
  /** The consent register for the template's scope (types.ts CampaignConsent), as arrays for the thread. */
  consent?: { granted: string[] | null; revoked: string[] };
  /** The webhook store's phone ↔ BSUID links (recipient.ts). */
  links: IdentityLinks;
  batchRows: number;
  batchMs: number;
  /** Dry run: after reading, render every pending message. */
  render?:
    | {
        campaignId: string;
        template: string;
        language: string;
        endpoint: SendEndpoint;
        json: boolean;
        previews: number;
      }
    | undefined;
  problemLimit?: number;
}

export type ReadMessage =
  | { type: 'batch'; pending: number; skipped: IngestRow[]; bsuidOnlyLines: number[] }
  | { type: 'rendered'; lines: string[]; count: number }
  | { type: 'problems'; problems: Problem[]; count: number }
  | { type: 'done'; aborted: boolean }
  | { type: 'error'; message: string };

export interface ReadHandlers {
  /** `bsuidOnlyLines`: rows whose phone the store has lately seen only as a BSUID-only user. */
  onBatch?: (pending: number, skipped: readonly IngestRow[], bsuidOnlyLines: readonly number[]) => void;
  /** Rendered messages (dry run): NDJSON lines with --json, else the first previews. */
  onRendered?: (lines: readonly string[], count: number) => void | Promise<void>;
}

/** Its heap limits: enough for a record of MAX_RECORD_CHARS, small enough to keep memory flat. */
export const READER_THREAD: ThreadKind = {
  moduleUrl: import.meta.url,
  name: 'reader',
  resourceLimits: { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: 48 },
};

export interface ReadResult {
  aborted: boolean;
  problems?: { problems: Problem[]; count: number };
  /** The id of the worker thread that read (null: the main thread did). */
  threadId: number | null;
}

/** Runs a read task, in the reader thread when given `threads` (see the file comment); resolves when done. `signal` stops it between batches. */
export async function runRead(
  task: ReadTask,
  handlers: ReadHandlers,
  options: { threads: WorkerThreads | null; signal?: AbortSignal | undefined },
): Promise<ReadResult> {
  const { signal, threads } = options;
  if (!threads) return runInMainThread(task, handlers, signal);
  // libpq needs a main thread of its own (see store/postgres.ts): ingesting into PostgreSQL is a child process
  const worker =
    task.kind === 'ingest' && task.store?.backend === 'postgres'
      ? startWorkerProcess(workerFile(import.meta.url, 'reader'), task)
      : threads.start(READER_THREAD, task);

  const threadId = ('threadId' in worker ? worker.threadId : worker.pid) ?? null;
  const onAbort = () => worker.postMessage('stop');
  signal?.addEventListener('abort', onAbort);
  try {
    return await new Promise((resolve, reject) => {
      let problems: { problems: Problem[]; count: number } | undefined;
      let chain: Promise<void> = Promise.resolve();
      worker.on('message', (m: ReadMessage): void => {
        chain = chain.then(async () => {
          if (m.type === 'batch') handlers.onBatch?.(m.pending, m.skipped, m.bsuidOnlyLines);
          else if (m.type === 'rendered') await handlers.onRendered?.(m.lines, m.count);
          else if (m.type === 'problems') problems = { problems: m.problems, count: m.count };
          else if (m.type === 'done')
            resolve({ aborted: m.aborted, ...(problems ? { problems } : {}), threadId });
          else if (m.type === 'error') reject(new Error(m.message));
        });
      });
      worker.on('error', reject);
      worker.on('exit', (code: number) => {
        void chain.then(() => reject(new Error(`the CSV reader stopped unexpectedly (exit ${code})`)));
      });
    });
  } finally {
    signal?.removeEventListener('abort', onAbort);
    await worker.terminate();
  }
}

/**
 * Loads what reading needs (the CSV parser; the phone number metadata, by checking one number): a reader thread
 * started ahead does it while it waits for its task.
 */
export function warmReading(): void {
  loadCsvParser();
  normalisePhone('+14155550100', null);
}

/** The task itself (in the worker, or on the main thread); `post` receives every message. */
export async function executeRead(
  task: ReadTask,
  post: (m: ReadMessage) => void | Promise<void>,
  signal?: AbortSignal,
): Promise<void> {
  if (task.kind === 'problems' || task.kind === 'bsuids') {
    const found = await findProblems(
      task.path,
      task.shape,
      task.from,
      task.problemLimit ?? 20,
      task.kind === 'bsuids' ? bsuidRecipientRow(linkIndex(task.links)) : undefined,
    );
    await post({ type: 'problems', problems: found.problems, count: found.count });
    await post({ type: 'done', aborted: false });
    return;
  }
  if (!task.store) throw new Error('An ingest task needs the ledger store.');
  const store = Store.open(task.store, { migrations: [] });
  try {
    // reading can always start again from the stored offset: no fsync per batch needed here
    store.db.pragma('synchronous = NORMAL');
    // SQLite's default 2 MB page cache (it was 4 MB): this thread lives as long as the CSV is read, most of a big
    // campaign, and its inserts are appends plus one index lookup per row
    store.db.pragma('cache_size = -2000');
    const ledger = new Ledger(store.db);
    const pendingPosts: Promise<void>[] = [];
    const r = await ingest({
      ledger,
      cid: task.cid,
      path: task.path,
      shape: task.shape,
      from: task.from,
      clock: { now: () => Date.now(), sleep: () => Promise.resolve() },
      excluded: new Set(task.excluded),
      optedOut: new Set(task.optedOut),
      ...(task.consent && {
        consent: {
          granted: task.consent.granted ? new Set(task.consent.granted) : null,
          revoked: new Set(task.consent.revoked),
        },
      }),
      links: linkIndex(task.links),
      ...(signal ? { signal } : {}),
      batchRows: task.batchRows,
      batchMs: task.batchMs,
      onBatch: (rows, bsuidOnlyLines) => {
        let pending = 0;
        const skipped: IngestRow[] = [];
        for (const row of rows) {
          if (row.state === 'pending') pending++;
          else skipped.push(row);
        }
        const p = post({ type: 'batch', pending, skipped, bsuidOnlyLines: [...bsuidOnlyLines] });
        if (p) pendingPosts.push(p);
      },
    });
    await Promise.all(pendingPosts);
    if (task.render && !r.aborted) await renderAll(ledger, task, post, signal);
    await post({ type: 'done', aborted: r.aborted || Boolean(signal?.aborted) });
  } finally {
    store.close();
  }
}

async function renderAll(
  ledger: Ledger,
  task: ReadTask,
  post: (m: ReadMessage) => void | Promise<void>,
  signal?: AbortSignal,
): Promise<void> {
  const r = task.render!;
  // loaded here, not with the module: a send's reader thread renders nothing, and reconcile.js brings the webhook
  // parsers (and zod) with it: megabytes of heap in a thread that lives as long as the CSV is read
  const [{ marketingMessageBody, templateMessageBody }, { callbackData }] = await Promise.all([
    import('../graph/resources/messages.js'),
    import('./reconcile.js'),
  ]);
  const slots = task.shape.slots;
  const messageBody = r.endpoint === 'marketing_messages' ? marketingMessageBody : templateMessageBody;
  let cursor = 0;
  let count = 0;
  for (;;) {
    const rows = ledger.pendingAfter(task.cid, cursor, 200);
    if (rows.length === 0) break;
    const lines: string[] = [];
    for (const row of rows) {
      const body = messageBody({
        ...sendAddress(row.recipient),
        name: r.template,
        language: r.language,
        components: renderComponents(slots, row.params),
        bizOpaqueCallbackData: callbackData(r.campaignId, row.row),
      });
      count++;
      if (r.json) {
        lines.push(
          JSON.stringify({
            type: 'message',
            campaign: r.campaignId,
            row: row.row,
            line: row.line,
            to: row.recipient,
            identity: recipientKind(row.recipient),
            endpoint: r.endpoint,
            body,
          }),
        );
      } else if (count <= r.previews) {
        lines.push(
          `row ${row.row} (line ${row.line}, ${recipientKind(row.recipient)}): ${JSON.stringify(body)}`,
        );
      }
      cursor = row.row;
    }
    await post({ type: 'rendered', lines, count });
    if (signal?.aborted) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

function runInMainThread(task: ReadTask, handlers: ReadHandlers, signal?: AbortSignal): Promise<ReadResult> {
  let result: ReadResult = { aborted: false, threadId: null };
  return executeRead(
    task,
    async (m) => {
      if (m.type === 'batch') handlers.onBatch?.(m.pending, m.skipped, m.bsuidOnlyLines);
      else if (m.type === 'rendered') await handlers.onRendered?.(m.lines, m.count);
      else if (m.type === 'problems')
        result = { ...result, problems: { problems: m.problems, count: m.count } };
      else if (m.type === 'done') result = { ...result, aborted: m.aborted };
    },
    signal,
  ).then(() => result);
}
