import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Clock } from '../clock.js';
import { WacxError } from '../errors.js';
import type { Campaign, Ledger } from './ledger.js';

/** A lease whose heartbeat is older than this is taken over (by default). */
export const LEASE_STALE_MS = 30_000;

/** Who runs, and how a lease is judged stale. */
export interface LeaseEnv {
  clock: Clock;
  events: { info(text: string): void };
  host?: string;
  pid?: number;
  /** A lease whose heartbeat is older than this is taken over (default 30 s). */
  leaseStaleMs?: number;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: string }).code === 'EPERM';
  }
}

/** This process as a lease holder. */
export function leaseHolder(owner: string, env: LeaseEnv): { owner: string; host: string; pid: number } {
  return { owner, host: env.host ?? hostname(), pid: env.pid ?? process.pid };
}

/**
 * Runs `body` holding the campaign's lease, taken before anything is printed or requested: a second run of a
 * campaign that is being sent is refused first.
 */
export async function withLease<T>(
  ledger: Ledger,
  campaign: Campaign,
  env: LeaseEnv,
  body: (owner: string) => Promise<T>,
  /** The owner of a lease taken already (renewed here), e.g. by creating the campaign. */
  owner: string = randomUUID(),
): Promise<T> {
  takeLease(ledger, campaign, owner, env);
  try {
    return await body(owner);
  } finally {
    ledger.releaseLease(campaign.cid, owner);
  }
}

/** Takes the lease, or renews the one `owner` holds; throws when another live run holds it. */
export function takeLease(ledger: Ledger, campaign: Campaign, owner: string, env: LeaseEnv): void {
  const { clock } = env;
  const staleMs = env.leaseStaleMs ?? LEASE_STALE_MS;
  const lease = ledger.acquireLease(campaign.cid, leaseHolder(owner, env), clock.now(), staleMs, isAlive);
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
