import { Pool } from 'undici';
import type { Deps } from '../deps.js';
import { DEFAULT_GRAPH_URL, Graph, validateBaseUrl } from '../graph/index.js';
import type { RunEnv } from './campaign.js';

/**
 * Builds the campaign domain's environment from the CLI's Deps. Sends go through their own Graph client over an
 * undici Pool (keep-alive connections to the one Graph origin, as many as the in-flight window needs), not the
 * general-purpose Agent, and not fetch.
 */
export function campaignEnv(deps: Deps): RunEnv {
  return {
    io: deps.io,
    json: deps.globals.json,
    clock: deps.clock,
    signal: deps.signal,
    graph: () => deps.graph(),
    store: () => deps.store(),
    phoneNumberId: () => deps.config().require('phoneNumberId', '--phone-number-id'),
    wabaId: () => deps.config().require('wabaId', '--waba-id'),
    sendGraph: async (connections) => {
      const config = deps.config();
      const baseUrl = config.get('graphUrl') ?? DEFAULT_GRAPH_URL;
      const pool = new Pool(validateBaseUrl(baseUrl).origin, {
        connections,
        pipelining: 1,
        keepAliveTimeout: 30_000,
        connect: { timeout: 10_000 },
      });
      deps.onCleanup(() => pool.close());
      return Graph.create({
        baseUrl,
        apiVersion: config.get('apiVersion'),
        token: await config.requireToken(),
        appSecret: (await config.secret('appSecret')).value,
        userAgent: `wacx/${deps.version}`,
        clock: deps.clock,
        trace: deps.io.verbose ? (line) => deps.io.debug(line) : undefined,
        dispatcher: pool,
      });
    },
  };
}
