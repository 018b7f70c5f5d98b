/**
 * Money as integer millionths of the card's currency unit ("micros"), so that a million rows priced at 0.0123
 * add up exactly. Rate cards give at most six decimals; a seventh is refused rather than rounded.
 */
export type Micros = number;

const DECIMAL = /^(\d+)(?:\.(\d{1,6}))?$/;

/** "0.0123" → 12300; null when the text is not a plain non-negative decimal with at most six decimals. */
export function parseMicros(text: string): Micros | null {
  const m = DECIMAL.exec(text.trim());
  if (!m) return null;
  const whole = Number(m[1]);
  const fraction = Number((m[2] ?? '').padEnd(6, '0'));
  const micros = whole * 1_000_000 + fraction;
  return Number.isSafeInteger(micros) ? micros : null;
}

/** 12300 → "0.0123" (at least two decimals, no trailing zeros beyond them). */
export function formatMicros(micros: Micros): string {
  const sign = micros < 0 ? '-' : '';
  const abs = Math.abs(micros);
  const whole = Math.floor(abs / 1_000_000);
  const fraction = String(abs % 1_000_000)
    .padStart(6, '0')
    .replace(/0+$/, '');
  return `${sign}${whole}.${fraction.padEnd(2, '0')}`;
}
