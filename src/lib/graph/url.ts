import { ConfigError } from '../errors.js';

/**
 * Base URL and version rules of the Graph API, without the HTTP client (cheap to import at start-up).
 */
export const DEFAULT_GRAPH_URL = 'https://graph.facebook.com';
/** Pinned Graph API version; configurable per profile, env (WACX_API_VERSION) and flag (--api-version). */
export const DEFAULT_API_VERSION = 'v25.0';
export const API_VERSION_PATTERN = /^v\d{2}\.0$/;

const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\]|::1)$/i;

/** localhost, 127.0.0.0/8 and ::1: the only hosts reachable over plain http. */
export function isLoopbackHost(hostname: string): boolean {
  return LOOPBACK.test(hostname);
}

/** Validates a base URL: https anywhere, plain http only on loopback. */
export function validateBaseUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`Invalid Graph URL "${raw}".`, { hint: 'Use e.g. https://graph.facebook.com' });
  }
  if (url.username || url.password || url.search || url.hash) {
    throw new ConfigError(`Refusing Graph URL "${raw}": no credentials, query or fragment allowed.`, {
      hint: 'Use a bare base URL such as https://graph.facebook.com',
    });
  }
  if (url.protocol === 'https:') return url;
  if (url.protocol !== 'http:') {
    throw new ConfigError(`Refusing Graph URL "${raw}": ${url.protocol.replace(/:$/, '')}:// is not HTTP.`, {
      hint: 'Use https://graph.facebook.com, or http://127.0.0.1:PORT for a local sandbox.',
    });
  }
  if (url.protocol === 'http:' && isLoopbackHost(url.hostname)) return url;
  throw new ConfigError(`Refusing Graph URL "${raw}": plain http is only allowed for loopback hosts.`, {
    hint: 'Use https://, or http://127.0.0.1:PORT for a local sandbox.',
  });
}
