import { tableCode } from '../lib/graph/error-codes.js';
import { GraphApiError, GraphNetworkError, UnexpectedAnswerError } from '../lib/graph/errors.js';

/**
 * What to do next, in wacx's terms, for API errors whose fix is a wacx command or flag. The API core keeps
 * Meta's own explanation (`error.hint`); print `hintFor(error) ?? error.hint`.
 */

// biome-ignore format: one line per code, like ERROR_CODES
const BY_TABLE_CODE: ReadonlyMap<number, string> = new Map([
  [0, 'The token was invalidated or blocked: run `wacx auth login` with a new token.'],
  [33, 'The object does not exist or was deleted: check the ids in your profile (`wacx config list`).'],
  [190, 'The token expired or was revoked: run `wacx auth login` (or re-onboard the business).'],
  [200, 'The token has no permission on this asset: check its granular scopes with `wacx auth status`.'],
  [2635, 'This Graph API version is deprecated or unknown: use --api-version v25.0 (or `wacx config set apiVersion v25.0`).'],
  [130429, 'Throughput exceeded: lower --rate (coexistence numbers allow 20 messages/s).'],
  [131063, 'The account blocks marketing templates on /messages: send with --api marketing (the Marketing Messages API); a campaign resumed so sends the rows not sent yet, once each.'],
  [132000, 'Pass exactly the parameters the template declares (`wacx templates get NAME`).'],
  [132001, 'Check the template name and language, and that it is APPROVED (`wacx templates list`).'],
  [133010, 'For a coexistence number: check it was not offboarded (`wacx doctor`); wait for ACCOUNT_RECONNECTED.'],
  [2388024, 'A template with this name and language exists: change it with `wacx templates update`, or manage files with `wacx templates plan|push`.'],
  [2388318, 'Meta generated this template for Direct Send: wacx never edits it; `wacx templates plan` leaves it alone, and a template of yours needs another name.'],
  [2388330, 'Meta generated this template for Direct Send: it cannot be deleted; `wacx templates push --prune` leaves it alone.'],
  [132021, 'A Direct Send template_name collides with a template not created by Direct Send: use another direct_send_config.template_name (see `wacx templates list`).'],
  [2388040, 'Shorten the component text (header/footer 60, body 1024): run `wacx templates lint`.'],
  [2388047, 'Fix the header (one variable at most, no line breaks): run `wacx templates lint`.'],
  [2388072, 'Fix the body text and its examples: run `wacx templates lint`.'],
]);

/** For answers outside Meta's table that carry no text of Meta's for people. */
const BY_STATUS: ReadonlyMap<number, string> = new Map([
  [401, 'The token was rejected: run `wacx auth login` with a valid token.'],
  [403, 'The token lacks a permission for this asset: check its scopes with `wacx auth status`.'],
]);

const BAD_APP_SECRET_PROOF =
  "The app secret does not match the token's app: check WACX_APP_SECRET or the app secret stored with `wacx auth login`.";

const NETWORK = 'Check your network connection and the Graph URL (`wacx config get graphUrl`).';

const UNEXPECTED_ANSWER =
  'The API answered in a shape wacx does not know: check the Graph URL (`wacx config get graphUrl`) and the API version (--api-version v25.0); run again with --verbose to see the call.';

/** The wacx-specific hint for an error, or undefined when the error's own hint (if any) says it all. */
export function hintFor(error: unknown): string | undefined {
  if (error instanceof GraphNetworkError) return NETWORK;
  if (error instanceof UnexpectedAnswerError) return UNEXPECTED_ANSWER;
  if (!(error instanceof GraphApiError)) return undefined;
  if (error.badAppSecretProof) return BAD_APP_SECRET_PROOF;
  if (error.tableCode !== undefined) return hintForGraphCode(error.tableCode);
  // Meta's own words for people come before a guess from the HTTP status.
  if (error.userMessage) return undefined;
  return BY_STATUS.get(error.status);
}

/**
 * The wacx-specific hint for a Graph error code kept without its error (a campaign's stop reason, an onboarding
 * result), or undefined when Meta's explanation (ERROR_CODES) says it all.
 */
/** The fix for an error recorded as its Graph code and hint (a campaign's stop, onboarding's result): wacx's own for the code where it has one, else the recorded one. */
export function recordedHint(stop: { code: number | null; hint?: string | null }): string | null {
  return (stop.code === null ? undefined : hintForGraphCode(stop.code)) ?? stop.hint ?? null;
}

export function hintForGraphCode(code: number): string | undefined {
  const key = tableCode(code);
  return key === undefined ? undefined : BY_TABLE_CODE.get(key);
}
