import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Clock } from '../clock.js';
import { CancelledError, WacxError } from '../errors.js';
import type { Campaign, LeaseHolder, Ledger } from './ledger.js';

/** A lease whose heartbeat is older than this is taken over (by default). */
export const LEASE_STALE_MS = 30_000;

/** How often a run waiting for its phone number looks again, and how often it says that it still waits. */
const NUMBER_POLL_MS = 1000;
const NUMBER_WAIT_NOTE_MS = 60_000;

/** Who runs, and how a lease is judged stale. */
export interface LeaseEnv {
  clock: Clock;
  events: { info(text: string): void };
  host?: string;
  pid?: number;
  /** A lease whose heartbeat is older than this is taken over (default 30 s). */
  leaseStaleMs?: number;
  /** Ends the wait for a busy phone number (Ctrl+C). */
  signal?: AbortSignal;
  /** False: a busy phone number ends the run at once (NumberBusyError) instead of waiting for it. */
  waitForNumber?: boolean;
}

/** Another campaign's run holds the phone number this campaign sends from. */
export class NumberBusyError extends WacxError {
  constructor(
    readonly campaign: Campaign,
    readonly other: string,
    readonly holder: LeaseHolder,
    readonly agoS: number,
  ) {
    super(
      `Phone number ${campaign.phoneNumberId} is busy: campaign ${other} is sending from it (pid ${holder.pid} on ${holder.host}, heartbeat ${agoS} s ago).`,
      {
        hint: 'Two campaigns on one number would together exceed its throughput: one sends at a time. Run this one again when the other has ended (without --no-wait, it waits for it).',
      },
    );
  }
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
 * campaign that is being sent is refused first. While another campaign sends from the same phone number, this one
 * waits for it (saying for what), then starts: a cron job that finds its number busy sends once it is free.
 */
export async function withLease<T>(
  ledger: Ledger,
  campaign: Campaign,
  env: LeaseEnv,
  body: (owner: string) => Promise<T>,
  /** The owner of a lease taken already (renewed here), e.g. by creating the campaign. */
  owner: string = randomUUID(),
): Promise<T> {
  await waitForLease(ledger, campaign, owner, env);
  try {
    return await body(owner);
  } finally {
    ledger.releaseLease(campaign.cid, owner);
  }
}

async function waitForLease(ledger: Ledger, campaign: Campaign, owner: string, env: LeaseEnv): Promise<void> {
  let waitedFor: string | null = null;
  let notedAt = 0;
  for (;;) {
    try {
      takeLease(ledger, campaign, owner, env);
      if (waitedFor !== null)
        env.events.info(`Phone number ${campaign.phoneNumberId} is free: starting campaign ${campaign.id}.`);
      return;
    } catch (error) {
      if (!(error instanceof NumberBusyError) || env.waitForNumber === false) throw error;
      const now = env.clock.now();
      if (waitedFor !== error.other || now - notedAt >= NUMBER_WAIT_NOTE_MS) {
        env.events.info(
          `Waiting for phone number ${campaign.phoneNumberId}: campaign ${error.other} is sending from it (pid ${error.holder.pid} on ${error.holder.host}, heartbeat ${error.agoS} s ago). One campaign per number sends at a time, so that together they never exceed its throughput; campaign ${campaign.id} starts when it ends (Ctrl+C to give up).`,
        );
        waitedFor = error.other;
        notedAt = now;
      }
    }
    try {
      await env.clock.sleep(NUMBER_POLL_MS, env.signal);
    } catch {
      throw new CancelledError(
        `Cancelled while waiting for phone number ${campaign.phoneNumberId}: nothing was sent.`,
      );
    }
  }
}

/**
 * Takes the lease, or renews the one `owner` holds; throws when another live run holds it, or NumberBusyError
 * when a live run of another campaign holds the same phone number.
 */
export function takeLease(ledger: Ledger, campaign: Campaign, owner: string, env: LeaseEnv): void {
  const { clock } = env;
  const staleMs = env.leaseStaleMs ?? LEASE_STALE_MS;
  const lease = ledger.acquireLease(campaign.cid, leaseHolder(owner, env), clock.now(), staleMs, isAlive);
  if (!lease.ok) {
    const ago = Math.max(0, Math.round((clock.now() - lease.holder.heartbeat) / 1000));
    if (lease.campaign !== null) throw new NumberBusyError(campaign, lease.campaign, lease.holder, ago);
    throw new WacxError(
      `Campaign ${campaign.id} is already being sent by pid ${lease.holder.pid} on ${lease.holder.host} (heartbeat ${ago} s ago): not starting a second run.`,
      {
        hint: `Wait for it to finish (\`wacx campaigns show ${campaign.id}\`). A run that died is taken over once its process is gone, or after ${Math.round(staleMs / 1000)} s without heartbeat (a run on another machine: by the heartbeat only).`,
      },
    );
  }
  if (lease.tookOver) {
    env.events.info(
      `Taking over campaign ${campaign.id} from a run that stopped (pid ${lease.tookOver.pid} on ${lease.tookOver.host}).`,
    );
  }
}

/** For creating a campaign: how the leases of other campaigns on its number are judged. */
export function numberJudge(env: LeaseEnv): { staleMs: number; isAlive: (pid: number) => boolean } {
  return { staleMs: env.leaseStaleMs ?? LEASE_STALE_MS, isAlive };
}
