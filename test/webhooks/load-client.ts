import { Agent, request } from 'node:http';
import { sign, statusPayload } from './fixtures.js';

export interface Posted {
  status: number;
  body: string;
}

export function post(
  url: string,
  body: string | Buffer,
  headers: Record<string, string> = {},
  agent?: Agent,
): Promise<Posted> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'POST', agent, headers: { 'content-type': 'application/json', ...headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

export function signedStatus(wamid: string, secret?: string): { body: string; signature: string } {
  const body = JSON.stringify(statusPayload(wamid, 'delivered', { callback: `load:${wamid}` }));
  return { body, signature: sign(body, secret) };
}

/**
 * `workers` keep-alive clients posting unique signed statuses until `stop()` or until the server goes away.
 * Returns the wamids acknowledged with 200.
 */
export function loadUntilStopped(url: string, workers: number, secret?: string) {
  const acked: string[] = [];
  const errors: string[] = [];
  const ackWaiters: { count: number; resolve: () => void }[] = [];
  let stopped = false;
  let n = 0;
  const agent = new Agent({ keepAlive: true, maxSockets: workers });
  const loops = Array.from({ length: workers }, async (_, w) => {
    while (!stopped) {
      const wamid = `wamid.load.${w}.${n++}`;
      const { body, signature } = signedStatus(wamid, secret);
      try {
        const r = await post(url, body, { 'x-hub-signature-256': signature }, agent);
        if (r.status === 200) {
          acked.push(wamid);
          for (const waiter of ackWaiters.filter((x) => acked.length >= x.count)) waiter.resolve();
        } else errors.push(`HTTP ${r.status}`);
      } catch (error) {
        errors.push((error as NodeJS.ErrnoException).code ?? String(error));
        return; // the server went away
      }
    }
  });
  const done = Promise.all(loops);
  return {
    acked,
    errors,
    /** Resolves once `count` events were acknowledged; rejects if the load ended before. */
    acknowledged: (count: number) =>
      new Promise<void>((resolve, reject) => {
        if (acked.length >= count) return resolve();
        ackWaiters.push({ count, resolve });
        void done.then(() =>
          reject(new Error(`the load ended after ${acked.length} of ${count} acknowledgements`)),
        );
      }),
    stop: async () => {
      stopped = true;
      await Promise.all(loops);
      agent.destroy();
    },
    done,
  };
}
