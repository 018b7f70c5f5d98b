import type { ChildProcess } from 'node:child_process';

export interface Replica {
  url: string;
  child: ChildProcess;
  /** The NDJSON lines it printed so far. */
  lines: Record<string, unknown>[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr(): string;
}
export function replicaEnv(
  databaseUrl: string,
  secrets: { appSecret: string; verifyToken: string },
): NodeJS.ProcessEnv;
export function startReplica(env: NodeJS.ProcessEnv, args?: string[]): Promise<Replica>;

export interface Balancer {
  url: string;
  acknowledged: string[][];
  targets: string[];
  close(): Promise<void>;
}
export function startBalancer(targets: string[]): Promise<Balancer>;
export function statusIds(body: string): string[];
