import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import type { StoreLocation } from '../../src/lib/store/location.js';
import { PostgresDatabase } from '../../src/lib/store/postgres.js';

/** The URL of a new, empty database on the suite's PostgreSQL server (postgres-setup.ts). */
export function freshPostgresUrl(): string {
  const admin = new URL(inject('postgresUrl'));
  const name = `wacx_${randomBytes(6).toString('hex')}`;
  const db = new PostgresDatabase(admin.toString());
  try {
    db.exec(`CREATE DATABASE ${name}`);
  } finally {
    db.close();
  }
  admin.pathname = `/${name}`;
  return admin.toString();
}

/** Both backends, for tests that run once on each: a new SQLite file under `dir`, or a new PostgreSQL database. */
export const BACKENDS = ['sqlite', 'postgres'] as const;
export type TestBackend = (typeof BACKENDS)[number];

export function freshLocation(backend: TestBackend, sqlitePath: string): StoreLocation {
  return backend === 'sqlite' ? { backend, path: sqlitePath } : { backend, url: freshPostgresUrl() };
}
