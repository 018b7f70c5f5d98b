import type { TestProject } from 'vitest/node';
// @ts-expect-error: a plain ES module shared with the benchmarks
import { startPostgres } from '../../scripts/postgres-server.mjs';

declare module 'vitest' {
  export interface ProvidedContext {
    postgresUrl: string;
  }
}

/**
 * One throwaway PostgreSQL server for the whole run (each test makes its own database on it, see postgres.ts).
 * It must start: the PostgreSQL tests never skip.
 */
export default async function postgresServer(project: TestProject): Promise<() => void> {
  const server = await startPostgres();
  project.provide('postgresUrl', server.url);
  return () => server.stop();
}
