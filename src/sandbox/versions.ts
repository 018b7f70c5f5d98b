/**
 * Which Graph API versions the sandbox serves: v21.0 to v27.0, each only until the day Meta ends it
 * (meta-cloud-api.md §8.1), judged by the sandbox's own clock so that tests can move past an end date.
 */
import { API_VERSIONS, LATEST_KNOWN_VERSION } from '../lib/graph/versions.js';
import { gerr } from './errors.js';
import type { ExpiredVersionAnswer } from './options.js';

const MIN_MAJOR = 21;
const MAX_MAJOR = 27;

function endOf(version: string): number | null {
  const until = API_VERSIONS.find((v) => v.version === version)?.availableUntil;
  return until ? Date.parse(`${until}T00:00:00Z`) : null;
}

/** The oldest version still available at `now` (where Graph sends calls to an ended version, when it upgrades them). */
function oldestAvailable(now: number): string {
  for (let i = API_VERSIONS.length - 1; i >= 0; i--) {
    const v = API_VERSIONS[i]!;
    const end = endOf(v.version);
    if (end === null || end > now) return v.version;
  }
  return LATEST_KNOWN_VERSION;
}

/**
 * The version a call to `/{requested}/…` is served as. An ended version (v20.0, or v21.0 from 2027-01-21) gets
 * Meta's 2635 answer by default; `expiredVersion: 'upgrade'` serves it as the oldest available version instead
 * (what Graph's versioning guide describes; both are seen in the field). Unknown newer versions get 2635 too.
 */
export function servedVersion(
  requested: string,
  major: number,
  now: number,
  mode: ExpiredVersionAnswer = 'error',
): string {
  if (major > MAX_MAJOR) {
    throw gerr(
      2635,
      `You are calling an unknown version of the Graph API (${requested}). The latest version is ${LATEST_KNOWN_VERSION}.`,
    );
  }
  const end = endOf(requested);
  const ended = major < MIN_MAJOR || (end !== null && end <= now);
  if (!ended) return requested;
  if (mode === 'upgrade') return oldestAvailable(now);
  throw gerr(
    2635,
    `You are calling a deprecated version of the Graph API. Please update to the latest version: ${LATEST_KNOWN_VERSION}.`,
  );
}
