import { resolve } from 'node:path';
import { redactUrlPassword } from '../config/redact.js';
import { UsageError } from '../errors.js';
import type { Backend } from './database.js';

/** Where a profile's state lives: an embedded SQLite file, or a PostgreSQL database shared by a team. */
export type StoreLocation = { backend: 'sqlite'; path: string } | { backend: 'postgres'; url: string };

const SSL_MODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'];

/**
 * `sqlite:PATH`, a bare path (SQLite), or `postgres://user@host:port/db?sslmode=…` (libpq's URI: every libpq
 * parameter, TLS ones included, goes in the query). `origin` names where the value came from (`--database`,
 * `WACX_DATABASE_URL`, the profile setting `database`) in messages.
 */
export function parseStoreLocation(value: string, origin: string): StoreLocation {
  const text = value.trim();
  if (text === '') throw new UsageError('the database location is empty.', { location: origin });
  if (text === ':memory:') return { backend: 'sqlite', path: text };
  if (/^postgres(ql)?:\/\//i.test(text)) {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw new UsageError(`not a valid PostgreSQL URL: ${redactUrlPassword(text)}.`, {
        location: origin,
        hint: 'Write it as postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=require].',
      });
    }
    const sslmode = url.searchParams.get('sslmode');
    if (sslmode !== null && !SSL_MODES.includes(sslmode))
      throw new UsageError(`sslmode=${sslmode} is not one of ${SSL_MODES.join(', ')}.`, { location: origin });
    return { backend: 'postgres', url: text };
  }
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(text)?.[1]?.toLowerCase();
  if (scheme === 'sqlite') {
    const path = text.replace(/^sqlite:(\/\/)?/i, '');
    if (path === '')
      throw new UsageError('sqlite: needs a path, e.g. sqlite:/var/lib/wacx/wacx.db.', { location: origin });
    return { backend: 'sqlite', path: path === ':memory:' ? path : resolve(path) };
  }
  // a Windows drive letter is a path, anything else with a scheme is a database wacx does not speak
  if (scheme && scheme.length > 1)
    throw new UsageError(`${scheme}: databases are not supported.`, {
      location: origin,
      hint: 'Use sqlite:PATH (the default, one machine) or postgres://… (shared by a team).',
    });
  return { backend: 'sqlite', path: resolve(text) };
}

/** The URL without its password (kept apart, as the secret databasePassword). */
export function withoutPassword(url: string): string {
  const parsed = new URL(url);
  parsed.password = '';
  return parsed.toString();
}

/** A PostgreSQL location with the stored password, unless its URL carries one. */
export function withPassword(location: StoreLocation, password: string | undefined): StoreLocation {
  if (location.backend !== 'postgres' || !password) return location;
  const url = new URL(location.url);
  if (url.password) return location;
  url.password = encodeURIComponent(password);
  return { backend: 'postgres', url: url.toString() };
}

/** The location as it may be shown: the password replaced by ***. */
export function describeLocation(location: StoreLocation): string {
  return location.backend === 'sqlite' ? location.path : redactUrlPassword(location.url);
}

export function backendName(backend: Backend): string {
  return backend === 'sqlite' ? 'SQLite' : 'PostgreSQL';
}

/** The location as a setting keeps it: sqlite: with an absolute path, or the URL as given. */
export function canonicalLocation(location: StoreLocation): string {
  return location.backend === 'sqlite' ? `sqlite:${location.path}` : location.url;
}
