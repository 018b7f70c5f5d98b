import type { RunEnv } from '../lib/campaign/campaign.js';
import { undiciDispatchers } from '../lib/graph/dispatchers.js';
import { DEFAULT_GRAPH_URL, validateBaseUrl } from '../lib/graph/graph.js';
import { favourMemoryAtRate } from '../lib/heap.js';
import { WorkerThreads } from '../lib/threads.js';
import { SendOutput } from './campaign-output.js';
import type { Deps } from './deps.js';

/**
 * The campaign domain's narrow context, built from the CLI's Deps and the command's own --phone-number-id /
 * --waba-id; what the run reports is rendered by SendOutput. Sends go through their own Graph client over an undici
 * Pool (keep-alive connections to the one Graph origin, as many as the in-flight window needs), not the
 * general-purpose Agent, and not fetch.
 *
 * The choices of the process are made here, at the entry, not in the domain: the CSV reader, the ledger writer and
 * the WAL checkpointer run in worker threads (`threads`), and V8 favours memory at the rates a number can
 * have (`--rate`, see lib/heap.ts). Call it before the campaign domain's modules load.
 */
export function campaignEnv(
  deps: Deps,
  flags: {
    phoneNumberId?: string | undefined;
    wabaId?: string | undefined;
    rate?: number | undefined;
    /** `--no-wait`: a phone number busy with another campaign ends the run instead of making it wait. */
    wait?: boolean | undefined;
  } = {},
): RunEnv {
  favourMemoryAtRate(flags.rate ?? null);
  const config = deps.config().withFlags({ phoneNumberId: flags.phoneNumberId, wabaId: flags.wabaId });
  const threads = new WorkerThreads();
  deps.onCleanup(() => threads.close());
  return {
    threads,
    waitForNumber: flags.wait !== false,
    events: new SendOutput(deps.io, { json: deps.globals.json }),
    messagesAsNdjson: deps.globals.json,
    clock: deps.clock,
    signal: deps.signal,
    graph: () => deps.graph(),
    store: () => deps.store(),
    phoneNumberId: () => config.require('phoneNumberId', '--phone-number-id'),
    wabaId: () => config.require('wabaId', '--waba-id'),
    sendGraph: async (connections) => {
      const baseUrl = config.get('graphUrl') ?? DEFAULT_GRAPH_URL;
      const { Pool } = undiciDispatchers();
      const pool = new Pool(validateBaseUrl(baseUrl).origin, {
        connections,
        pipelining: 1,
        keepAliveTimeout: 30_000,
        connect: { timeout: 10_000 },
      });
      deps.onCleanup(() => pool.close());
      // In-flight sends finish after Ctrl+C: an aborted request would leave its outcome unknown.
      return deps.graph({ config, dispatcher: pool, abortOnSignal: false });
    },
  };
}
