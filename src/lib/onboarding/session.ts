import { UsageError } from '../errors.js';

/**
 * What Embedded Signup says it onboarded: its session-logging event (meta-cloud-api.md §1.3 A),
 * `{"type":"WA_EMBEDDED_SIGNUP","event":"FINISH…","data":{"waba_id","phone_number_id"?}}`.
 * A launch page forwards it with the code; the sandbox's dialog adds it to its redirect as `session_info`.
 */
export interface SessionInfo {
  event: string;
  wabaId: string;
  /** Documented for FINISH; not always present for FINISH_WHATSAPP_BUSINESS_APP_ONBOARDING. */
  phoneNumberId: string | null;
}

export const SESSION_INFO_PARAM = 'session_info';

const ID = /^\d{1,32}$/;

/**
 * Parses the session event (a JSON string, as `event.data` is). Returns null when it is not a finished
 * WA_EMBEDDED_SIGNUP event; throws a UsageError naming `location` when it is not JSON or its ids are malformed.
 */
export function parseSessionInfo(raw: string, location: string): SessionInfo | null {
  let doc: unknown;
  try {
    doc = JSON.parse(raw);
  } catch {
    throw new UsageError('The Embedded Signup session info is not JSON.', {
      location,
      hint: 'Pass the WA_EMBEDDED_SIGNUP message event as received, e.g. {"type":"WA_EMBEDDED_SIGNUP","event":"FINISH_WHATSAPP_BUSINESS_APP_ONBOARDING","data":{"waba_id":"…","phone_number_id":"…"}}.',
    });
  }
  const e = doc as { type?: unknown; event?: unknown; data?: Record<string, unknown> } | null;
  if (!e || typeof e !== 'object' || e.type !== 'WA_EMBEDDED_SIGNUP') return null;
  if (typeof e.event !== 'string' || !e.event.startsWith('FINISH')) return null;
  const waba = e.data?.waba_id;
  const phone = e.data?.phone_number_id;
  const idOf = (v: unknown, what: string): string | null => {
    if (v === undefined || v === null || v === '') return null;
    const s = String(v);
    if (!ID.test(s)) throw new UsageError(`The session info's ${what} "${s}" is not an id.`, { location });
    return s;
  };
  const wabaId = idOf(waba, 'waba_id');
  if (!wabaId) return null;
  return { event: e.event, wabaId, phoneNumberId: idOf(phone, 'phone_number_id') };
}

/** The session info as stored in the signup step's detail (and shown in --json). */
export function sessionDetail(s: SessionInfo | null): Record<string, unknown> | null {
  return s ? { event: s.event, waba_id: s.wabaId, phone_number_id: s.phoneNumberId } : null;
}

export function sessionFromDetail(d: unknown): SessionInfo | null {
  const x = d as { event?: unknown; waba_id?: unknown; phone_number_id?: unknown } | null | undefined;
  if (!x || typeof x.waba_id !== 'string' || typeof x.event !== 'string') return null;
  return {
    event: x.event,
    wabaId: x.waba_id,
    phoneNumberId: typeof x.phone_number_id === 'string' ? x.phone_number_id : null,
  };
}
