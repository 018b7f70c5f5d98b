/**
 * The Graph error envelope as the sandbox answers it (meta-cloud-api.md §7). Independent from lib/graph:
 * the sandbox must not share the code whose behaviour it checks.
 */

/** HTTP status per Graph/Cloud API error code (§7.2); anything else is 400. */
const HTTP_STATUS: Record<number, number> = {
  0: 401,
  1: 400,
  2: 503,
  3: 500,
  4: 400,
  10: 403,
  33: 400,
  100: 400,
  104: 400,
  190: 401,
  368: 403,
  80007: 400,
  130429: 400,
  130497: 403,
  131000: 500,
  131005: 403,
  131016: 500,
  131031: 403,
  131045: 500,
  131057: 500,
  132001: 404,
  133000: 500,
  133004: 503,
};

export function httpStatusFor(code: number): number {
  const s = HTTP_STATUS[code];
  if (s !== undefined) return s;
  if (code >= 200 && code <= 299) return 403;
  return 400;
}

export interface GraphErrorOptions {
  subcode?: number;
  details?: string;
  type?: string;
  userTitle?: string;
  userMessage?: string;
  transient?: boolean;
  status?: number;
  /** Message without the `(#code)` prefix Meta puts on most errors. */
  bare?: boolean;
  /** Extra response headers (e.g. Retry-After). */
  headers?: Record<string, string>;
}

/** An error answer in the Graph envelope. Thrown by handlers, rendered by the server. */
export class SandboxGraphError extends Error {
  readonly status: number;
  readonly code: number;
  readonly options: GraphErrorOptions;
  constructor(code: number, message: string, options: GraphErrorOptions = {}) {
    super(message);
    this.code = code;
    this.options = options;
    this.status = options.status ?? httpStatusFor(code);
  }

  body(fbtraceId: string): { error: Record<string, unknown> } {
    const o = this.options;
    const error: Record<string, unknown> = {
      message: o.bare ? this.message : `(#${this.code}) ${this.message}`,
      type: o.type ?? 'OAuthException',
      code: this.code,
    };
    if (o.subcode !== undefined) error.error_subcode = o.subcode;
    if (o.details !== undefined) error.error_data = { messaging_product: 'whatsapp', details: o.details };
    if (o.userTitle !== undefined) error.error_user_title = o.userTitle;
    if (o.userMessage !== undefined) error.error_user_msg = o.userMessage;
    if (o.transient !== undefined) error.is_transient = o.transient;
    error.fbtrace_id = fbtraceId;
    return { error };
  }
}

export const gerr = (code: number, message: string, options?: GraphErrorOptions) =>
  new SandboxGraphError(code, message, options);

export function invalidParam(details: string, options: GraphErrorOptions = {}): SandboxGraphError {
  return new SandboxGraphError(100, 'Invalid parameter', { details, ...options });
}

export function unknownObject(id: string, method: string): SandboxGraphError {
  return new SandboxGraphError(
    100,
    `Unsupported ${method.toLowerCase()} request. Object with ID '${id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api`,
    { subcode: 33, type: 'GraphMethodException', bare: true },
  );
}

export function unknownPath(path: string): SandboxGraphError {
  return new SandboxGraphError(2500, `Unknown path components: ${path}`, { bare: true });
}
