import { createHmac, timingSafeEqual } from 'node:crypto';

export type SignatureFailure = 'missing_signature' | 'malformed_signature' | 'bad_signature';

/** `sha256=<hex>`: HMAC-SHA256 of the exact raw body bytes keyed by the app secret (meta-cloud-api.md §8.4). */
export function signBody(rawBody: Buffer | string, appSecret: string): string {
  return `sha256=${createHmac('sha256', appSecret).update(rawBody).digest('hex')}`;
}

const HEX = /^[0-9a-fA-F]*$/;

/**
 * Checks X-Hub-Signature-256 over the exact raw bytes, in constant time. The lengths are compared first
 * (timingSafeEqual throws on different lengths), so a truncated or over-long signature is refused without
 * leaking anything through timing about the expected digest.
 */
export function verifySignature(
  rawBody: Buffer,
  header: string | null | undefined,
  appSecret: string,
): { ok: true } | { ok: false; reason: SignatureFailure } {
  if (header === undefined || header === null || header.trim() === '')
    return { ok: false, reason: 'missing_signature' };
  const value = header.trim();
  const eq = value.indexOf('=');
  if (eq < 0 || value.slice(0, eq).toLowerCase() !== 'sha256')
    return { ok: false, reason: 'malformed_signature' };
  const hex = value.slice(eq + 1);
  if (!HEX.test(hex) || hex.length % 2 !== 0) return { ok: false, reason: 'malformed_signature' };
  const given = Buffer.from(hex, 'hex');
  const expected = createHmac('sha256', appSecret).update(rawBody).digest();
  if (given.length !== expected.length) return { ok: false, reason: 'bad_signature' };
  return timingSafeEqual(given, expected) ? { ok: true } : { ok: false, reason: 'bad_signature' };
}
