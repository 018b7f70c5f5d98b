import { createRequire } from 'node:module';
import type { Agent, Pool } from 'undici';

const require = createRequire(import.meta.url);

/**
 * undici's Agent and Pool, loaded without the rest of the package: `require('undici')` also loads fetch, WebSocket,
 * cookies, caches, proxies and mocks, 60 ms against 21 ms for the two dispatchers (Node 20, 2 cores), on the way to
 * every command's first request. The client sends through a dispatcher's dispatch() only (client.ts exchange).
 * undici has no exports map, these files are part of its published package, and the lock file pins its version; a
 * test checks that they are the very classes the package exports.
 */
export function undiciDispatchers(): { Agent: typeof Agent; Pool: typeof Pool } {
  return {
    Agent: require('undici/lib/dispatcher/agent') as typeof Agent,
    Pool: require('undici/lib/dispatcher/pool') as typeof Pool,
  };
}
