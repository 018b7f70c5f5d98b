/**
 * X-Business-Use-Case-Usage (meta-cloud-api.md §4.3): per business object (the WABA), per use-case type, the share
 * of the hourly management budget used, in percent, and the minutes until access comes back once throttled.
 */
export interface BusinessUseCaseUsage {
  type: string;
  callCount: number;
  totalCputime: number;
  totalTime: number;
  /** Minutes until access is regained (0 = not throttled). */
  estimatedTimeToRegainAccess: number;
}

/** Every business object's entries; null when the header is absent or unreadable. */
export function parseUsageHeader(
  header: string | string[] | undefined,
): Map<string, BusinessUseCaseUsage[]> | null {
  const raw = Array.isArray(header) ? header[0] : header;
  if (!raw) return null;
  try {
    const parsed = JSON.parse(raw) as Record<string, unknown>;
    const out = new Map<string, BusinessUseCaseUsage[]>();
    for (const [id, entries] of Object.entries(parsed)) {
      if (!Array.isArray(entries)) continue;
      out.set(
        id,
        entries.map((e: Record<string, unknown>) => ({
          type: String(e.type ?? 'unknown'),
          callCount: Number(e.call_count ?? 0),
          totalCputime: Number(e.total_cputime ?? 0),
          totalTime: Number(e.total_time ?? 0),
          estimatedTimeToRegainAccess: Number(e.estimated_time_to_regain_access ?? 0),
        })),
      );
    }
    return out;
  } catch {
    return null;
  }
}

/** The entries for one WABA (or the only business object named); null when absent or unreadable. */
export function parseBusinessUseCaseUsage(
  header: string | string[] | undefined,
  wabaId: string,
): BusinessUseCaseUsage[] | null {
  const all = parseUsageHeader(header);
  if (!all) return null;
  return all.get(wabaId) ?? all.values().next().value ?? null;
}

/** The highest of the three percentages: what runs out first. */
export function usagePercent(u: BusinessUseCaseUsage): number {
  return Math.max(u.callCount, u.totalCputime, u.totalTime);
}

/** "whatsapp_business_management 92% (calls 92%, CPU 23%, time 31%)", plus the wait when throttled. */
export function describeUsage(u: BusinessUseCaseUsage): string {
  const wait =
    u.estimatedTimeToRegainAccess > 0 ? `; access back in about ${u.estimatedTimeToRegainAccess} min` : '';
  return `${u.type} ${usagePercent(u)}% (calls ${u.callCount}%, CPU ${u.totalCputime}%, time ${u.totalTime}%)${wait}`;
}
