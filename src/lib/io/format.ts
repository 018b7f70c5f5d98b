/**
 * Durations for people, in one grammar: a number, a space and a unit (ms, s, min, h, days), largest unit first.
 * Two ways to say one: rounded down to what matters (formatDuration), or exactly as given (formatExactDuration).
 */

const SECOND = 1000;
const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

/** The units formatDuration counts in, largest first; days only from two days on ("36 h", then "2 days"). */
const UNITS: readonly { ms: number; name: string; from: number }[] = [
  { ms: DAY, name: 'days', from: 2 * DAY },
  { ms: HOUR, name: 'h', from: HOUR },
  { ms: MINUTE, name: 'min', from: MINUTE },
  { ms: SECOND, name: 's', from: SECOND },
];

/**
 * A duration rounded down, in its largest unit and, with `parts` 2 (the default), the next one:
 * "250 ms", "42 s", "5 min 3 s", "2 h 0 min", "20 h 17 min", "3 days 4 h"; with `parts` 1: "5 min", "2 h", "3 days".
 * The sign is dropped (say "ago" or "left" around it); under a second it counts milliseconds.
 */
export function formatDuration(ms: number, parts: 1 | 2 = 2): string {
  const abs = Math.abs(ms);
  if (!Number.isFinite(abs)) return 'an unknown time';
  const first = UNITS.findIndex((u) => abs >= u.from);
  if (first === -1) return `${Math.round(abs)} ms`;
  const unit = UNITS[first]!;
  const whole = Math.floor(abs / unit.ms);
  const text = `${whole} ${unit.name}`;
  const next = UNITS[first + 1];
  if (parts === 1 || !next) return text;
  return `${text} ${Math.floor((abs - whole * unit.ms) / next.ms)} ${next.name}`;
}

/** A duration as given, without rounding: 600000 → "10 min", 90000 → "90 s", 250 → "250 ms", 3600000 → "1 h". */
export function formatExactDuration(ms: number): string {
  if (ms >= HOUR && ms % HOUR === 0) return `${ms / HOUR} h`;
  if (ms >= MINUTE && ms % MINUTE === 0) return `${ms / MINUTE} min`;
  if (ms % SECOND === 0) return `${ms / SECOND} s`;
  return `${ms} ms`;
}
