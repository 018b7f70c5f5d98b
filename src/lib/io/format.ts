/** A duration as given, without rounding: 600000 → "10 min", 90000 → "90 s", 250 → "250 ms", 3600000 → "1 h". */
export function formatExactDuration(ms: number): string {
  if (ms >= 3_600_000 && ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms >= 60_000 && ms % 60_000 === 0) return `${ms / 60_000} min`;
  if (ms % 1000 === 0) return `${ms / 1000} s`;
  return `${ms} ms`;
}
