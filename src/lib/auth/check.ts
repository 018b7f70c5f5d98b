import { GraphApiError } from '../graph/errors.js';
import type { Graph } from '../graph/graph.js';

/** How a token was checked. */
export type TokenCheckMethod = 'debug_token' | 'phone_number' | 'waba' | 'me';

export interface TokenCheck {
  /** Whether Meta accepted the token. */
  valid: boolean;
  method: TokenCheckMethod;
  /** From debug_token: SYSTEM_USER, USER, … (null when checked with a plain read). */
  type: string | null;
  /** The app the token belongs to, and its name (debug_token). */
  appId: string | null;
  application: string | null;
  /** ISO time the token expires; null for tokens that never expire or when unknown. */
  expiresAt: string | null;
  scopes: string[] | null;
  /** WABAs the token may manage (granular scope whatsapp_business_management), when known. */
  wabaIds: string[] | null;
  /** What the read call returned, for people: a phone number, a WABA name, a user name. */
  subject: string | null;
  /** Why the token is not valid. */
  error: { message: string; code: number | null; category: string | null } | null;
  /** Non-fatal remarks (for example app credentials that debug_token rejected). */
  warnings: string[];
}

export interface TokenCheckInput {
  token: string;
  appId?: string | undefined;
  appSecret?: string | undefined;
  wabaId?: string | undefined;
  phoneNumberId?: string | undefined;
  signal?: AbortSignal | undefined;
}

function blank(method: TokenCheckMethod): TokenCheck {
  return {
    valid: false,
    method,
    type: null,
    appId: null,
    application: null,
    expiresAt: null,
    scopes: null,
    wabaIds: null,
    subject: null,
    error: null,
    warnings: [],
  };
}

function invalid(check: TokenCheck, error: GraphApiError): TokenCheck {
  return {
    ...check,
    valid: false,
    error: { message: error.message, code: error.code, category: error.category },
  };
}

/**
 * Checks an access token with one read call: `debug_token` with the app token (APP_ID|APP_SECRET) when both are
 * known (it tells the type, expiry and scopes), else a GET of the phone number, the WABA, or `/me`.
 * An auth error answer means "not valid"; any other failure (network, wrong id) is thrown.
 */
export async function checkToken(graph: Graph, input: TokenCheckInput): Promise<TokenCheck> {
  const warnings: string[] = [];
  if (input.appId && input.appSecret) {
    try {
      const data = await graph.oauth.debugToken(input.token, `${input.appId}|${input.appSecret}`);
      const wabaIds =
        data.granular_scopes
          ?.filter((s) => s.scope === 'whatsapp_business_management')
          .flatMap((s) => s.target_ids ?? []) ?? null;
      const check: TokenCheck = {
        ...blank('debug_token'),
        valid: data.is_valid === true,
        type: data.type ?? null,
        appId: data.app_id ?? null,
        application: data.application ?? null,
        expiresAt: data.expires_at ? new Date(data.expires_at * 1000).toISOString() : null,
        scopes: data.scopes ?? null,
        wabaIds: wabaIds ? [...new Set(wabaIds)] : null,
        subject: data.application ?? null,
        warnings,
      };
      if (!check.valid) {
        check.error = {
          message: data.error?.message ?? 'Meta reports the token as not valid (expired or revoked).',
          code: data.error?.code ?? null,
          category: 'auth',
        };
      } else if (data.app_id && data.app_id !== input.appId) {
        warnings.push(`The token belongs to app ${data.app_id}, not to the configured app ${input.appId}.`);
      }
      return check;
    } catch (error) {
      if (!(error instanceof GraphApiError)) throw error;
      // The app id / secret were refused: the token itself may still be fine, so check it directly.
      warnings.push(
        `debug_token with the app credentials failed (${error.message}); checked the token directly.`,
      );
    }
  }
  const signal = input.signal;
  if (input.phoneNumberId) {
    const check = { ...blank('phone_number'), warnings };
    try {
      const phone = await graph.phoneNumbers.get(
        input.phoneNumberId,
        ['id', 'display_phone_number', 'verified_name'],
        signal,
      );
      const name = [phone.display_phone_number, phone.verified_name && `(${phone.verified_name})`].filter(
        Boolean,
      );
      return { ...check, valid: true, subject: name.length ? name.join(' ') : phone.id };
    } catch (error) {
      if (error instanceof GraphApiError && error.category === 'auth') return invalid(check, error);
      throw error;
    }
  }
  if (input.wabaId) {
    const check = { ...blank('waba'), warnings };
    try {
      const waba = await graph.waba.get(input.wabaId, ['id', 'name']);
      return { ...check, valid: true, subject: waba.name ?? waba.id };
    } catch (error) {
      if (error instanceof GraphApiError && error.category === 'auth') return invalid(check, error);
      throw error;
    }
  }
  const check = { ...blank('me'), warnings };
  try {
    const me = await graph.client.request<{ id: string; name?: string }>({
      method: 'GET',
      path: 'me',
      query: { fields: 'id,name' },
      signal,
    });
    return { ...check, valid: true, subject: me.name ?? me.id };
  } catch (error) {
    if (error instanceof GraphApiError && error.category === 'auth') return invalid(check, error);
    throw error;
  }
}

const CHECK_LABEL: Record<TokenCheckMethod, string> = {
  debug_token: 'debug_token',
  phone_number: 'a read of the phone number',
  waba: 'a read of the WABA',
  me: 'GET /me',
};

/** One line for people describing a successful check. */
export function describeCheck(check: TokenCheck): string {
  const parts: string[] = [];
  if (check.type) parts.push(check.type);
  if (check.subject) parts.push(check.method === 'debug_token' ? `of app "${check.subject}"` : check.subject);
  if (check.method === 'debug_token')
    parts.push(check.expiresAt ? `expires ${check.expiresAt}` : 'never expires');
  if (check.scopes?.length) parts.push(`scopes: ${check.scopes.join(', ')}`);
  return `${parts.join(', ')} (checked with ${CHECK_LABEL[check.method]})`;
}
