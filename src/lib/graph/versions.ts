/**
 * Wire-format facts of the API core, without the HTTP client: Graph API versions and the day each stops working (meta-cloud-api.md §8.1, Meta's version history as of Dec 2026).
 * `availableUntil` null = no end date announced yet.
 */
export interface ApiVersionInfo {
  version: string;
  released: string;
  availableUntil: string | null;
}

export const API_VERSIONS: readonly ApiVersionInfo[] = [
  { version: 'v27.0', released: '2026-11-04', availableUntil: null },
  { version: 'v26.0', released: '2026-07-29', availableUntil: null },
  { version: 'v25.0', released: '2026-02-18', availableUntil: '2028-07-29' },
  { version: 'v24.0', released: '2025-10-08', availableUntil: '2028-02-18' },
  { version: 'v23.0', released: '2025-05-29', availableUntil: '2027-10-08' },
  { version: 'v22.0', released: '2025-01-21', availableUntil: '2027-05-20' },
  { version: 'v21.0', released: '2024-10-02', availableUntil: '2027-01-21' },
  { version: 'v20.0', released: '2024-05-21', availableUntil: '2026-09-24' },
];

export const LATEST_KNOWN_VERSION = 'v27.0';

function major(version: string): number | null {
  const m = /^v(\d+)\.0$/.exec(version);
  return m ? Number(m[1]) : null;
}

/** The major number of a version of the table (v25.0 → 25). */
export function versionMajor(version: string): number {
  return major(version) ?? Number.NaN;
}

/** The oldest version in the table (older ones expired before it was written). */
export function oldestKnownVersion(): string {
  return API_VERSIONS[API_VERSIONS.length - 1]!.version;
}

export type VersionState =
  | { state: 'current'; info: ApiVersionInfo; daysLeft: number | null }
  | { state: 'ending'; info: ApiVersionInfo; daysLeft: number }
  | { state: 'expired'; info: ApiVersionInfo | null; endedOn: string | null }
  | { state: 'newer'; version: string }
  | { state: 'invalid'; version: string };

/** Where `version` stands at `now`: current, ending within `warnDays`, expired, newer than the table, or invalid. */
export function apiVersionState(version: string, now: number, warnDays: number): VersionState {
  const n = major(version);
  if (n === null) return { state: 'invalid', version };
  const info = API_VERSIONS.find((v) => v.version === version);
  if (!info) {
    const newest = versionMajor(LATEST_KNOWN_VERSION);
    const oldest = versionMajor(oldestKnownVersion());
    if (n > newest) return { state: 'newer', version };
    if (n < oldest) return { state: 'expired', info: null, endedOn: null };
    return { state: 'invalid', version };
  }
  if (info.availableUntil === null) return { state: 'current', info, daysLeft: null };
  const end = Date.parse(`${info.availableUntil}T00:00:00Z`);
  const daysLeft = Math.floor((end - now) / 86_400_000);
  if (end <= now) return { state: 'expired', info, endedOn: info.availableUntil };
  if (end - now <= warnDays * 86_400_000) return { state: 'ending', info, daysLeft };
  return { state: 'current', info, daysLeft };
}

/** The newest version that is not ending soon, to suggest in a fix. */
export function suggestedVersion(now: number, warnDays: number): string {
  for (const v of API_VERSIONS) {
    const s = apiVersionState(v.version, now, warnDays);
    if (s.state === 'current') return v.version;
  }
  return LATEST_KNOWN_VERSION;
}
