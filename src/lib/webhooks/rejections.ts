/**
 * Why the receiver refuses a body, what it answers, and how it says it: a leaf, so that readers of the store (send's
 * pre-flight, the doctor) do not load the webhook parsers with it.
 */
export type RejectReason =
  | 'too_large'
  | 'missing_signature'
  | 'malformed_signature'
  | 'bad_signature'
  | 'no_app_secret'
  | 'invalid_json';

/** Rejections that count as signature failures (for the doctor). */
export const SIGNATURE_FAILURES: readonly RejectReason[] = [
  'missing_signature',
  'malformed_signature',
  'bad_signature',
];

export const REJECT_STATUS: Record<RejectReason, number> = {
  too_large: 413,
  missing_signature: 401,
  malformed_signature: 401,
  bad_signature: 401,
  no_app_secret: 401,
  invalid_json: 400,
};

const REJECT_TEXT: Record<RejectReason, string> = {
  too_large: 'body larger than the limit (3 MB unless --max-body says otherwise)',
  missing_signature: 'no X-Hub-Signature-256 header',
  malformed_signature: 'X-Hub-Signature-256 is not "sha256=<hex>"',
  bad_signature: 'signature does not match the body (wrong app secret, or the body was altered)',
  no_app_secret: 'no app secret configured to verify the signature',
  invalid_json: 'body is not JSON',
};

export function describeRejection(reason: RejectReason): string {
  return REJECT_TEXT[reason];
}
