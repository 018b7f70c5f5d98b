/**
 * Graph / Cloud API error codes (meta-cloud-api.md §7.2) with the category that drives retry and exit codes,
 * and Meta's one-line explanation of the fix. The API core knows no command: hints that name wacx commands or
 * flags live in the cli layer (src/cli/hints.ts), keyed by these codes.
 */
export type ErrorCategory = 'auth' | 'throttling' | 'template' | 'parameter' | 'coexistence' | 'transient';

export interface ErrorCodeInfo {
  readonly title: string;
  readonly category: ErrorCategory;
  /** Safe to retry the same request later (GET/DELETE always; a send only when it certainly was not accepted). */
  readonly retryable: boolean;
  /** What fixes it, in Meta's terms (no wacx command or flag). */
  readonly hint: string;
}

const c = (title: string, category: ErrorCategory, retryable: boolean, hint: string): ErrorCodeInfo => ({
  title,
  category,
  retryable,
  hint,
});

// biome-ignore format: one line per code, like the table in meta-cloud-api.md §7.2
export const ERROR_CODES: ReadonlyMap<number, ErrorCodeInfo> = new Map<number, ErrorCodeInfo>([
  [0, c('AuthException', 'auth', false, 'The token was invalidated or blocked: use a new token.')],
  [1, c('API Unknown', 'transient', true, 'Meta reported an unknown error: retry later and check the WhatsApp status page.')],
  [2, c('API Service', 'transient', true, 'Meta is temporarily unavailable: retry in a few minutes.')],
  [3, c('API Method', 'auth', false, 'The app lacks the capability or permission for this call: check the app permissions.')],
  [4, c('API Too Many Calls', 'throttling', true, 'App call limit reached: wait (see X-Business-Use-Case-Usage) and retry.')],
  [10, c('Permission denied', 'auth', false, 'Grant whatsapp_business_management / whatsapp_business_messaging to the token.')],
  [33, c('Parameter value not valid', 'parameter', false, 'The object does not exist or was deleted: check the ids in the request.')],
  [100, c('Invalid parameter', 'parameter', false, 'Fix the request parameter named in the message.')],
  [190, c('Access token expired', 'auth', false, 'The token expired or was revoked: use a new token (or re-onboard the business).')],
  [200, c('API permission', 'auth', false, 'The token has no permission on this asset: check its granular scopes.')],
  [368, c('Temporarily blocked for policy violation', 'auth', false, 'The account is blocked for a policy violation: review Business Support Home; stop campaigns.')],
  [80007, c('WABA rate limit', 'throttling', true, 'WABA management rate limit reached: wait and retry.')],
  [130429, c('Rate limit hit', 'throttling', true, 'Throughput exceeded: send more slowly (coexistence numbers allow 20 messages/s).')],
  [130472, c("User's number is part of an experiment", 'parameter', false, 'Meta withheld this marketing message as part of an experiment; nothing to fix.')],
  [130497, c('Business account restricted from messaging users in this country', 'auth', false, 'Your business cannot message this country; remove these recipients.')],
  [131000, c('Something went wrong', 'transient', true, 'Meta had an internal error: retry later.')],
  [131005, c('Access denied', 'auth', false, 'The token lacks permission for this number: check its scopes.')],
  [131008, c('Required parameter missing', 'parameter', false, 'Add the missing parameter named in the message.')],
  [131009, c('Parameter value not valid', 'parameter', false, 'Fix the parameter value named in the message.')],
  [131016, c('Service unavailable', 'transient', true, 'Meta is temporarily unavailable: retry in a few minutes.')],
  [131021, c('Recipient cannot be sender', 'parameter', false, 'Remove the business number from the recipients.')],
  [131026, c('Message undeliverable', 'parameter', false, 'The recipient is not on WhatsApp, uses an old client, or has not accepted the terms.')],
  [131031, c('Account locked', 'auth', false, 'The business account is locked: see Business Support Home.')],
  [131037, c('Display name not approved', 'parameter', false, 'Get the display name approved in WhatsApp Manager before sending.')],
  [131042, c('Business eligibility payment issue', 'auth', false, 'Fix the payment method in WhatsApp Manager; all sends are stopped.')],
  [131045, c('Incorrect certificate', 'parameter', false, 'Registration error: re-register the number (never for coexistence numbers).')],
  [131047, c('Re-engagement message', 'parameter', false, 'More than 24 h since the user last wrote: send a template instead.')],
  [131048, c('Spam rate limit hit', 'throttling', false, 'Quality-based limit: pause the campaign and improve template quality.')],
  [131049, c('Not delivered to maintain healthy ecosystem engagement', 'throttling', false, 'Per-user marketing cap: do not resend to this user for 24 h.')],
  [131050, c('User stopped marketing messages', 'parameter', false, 'The user opted out of marketing: never send marketing to them again.')],
  [131051, c('Unsupported message type', 'parameter', false, 'Use a supported message type.')],
  [131052, c('Media download error', 'parameter', false, 'The media could not be downloaded: ask the user to resend it.')],
  [131053, c('Media upload error', 'parameter', false, 'Fix the media file (type, size) and upload it again.')],
  [131056, c('Pair rate limit hit', 'throttling', true, 'Too many messages to one recipient: wait 6 s between messages to the same user.')],
  [131057, c('Account in maintenance mode', 'transient', true, 'Throughput upgrade in progress: retry after about a minute.')],
  [131060, c('Unsupported message', 'coexistence', false, 'Check the message in the WhatsApp Business App (first-time message or unsupported companion).')],
  [131062, c('Auth templates cannot go to BSUIDs', 'template', false, 'Send authentication templates to phone numbers, not business-scoped user ids.')],
  [131063, c('Marketing templates disabled on Cloud API', 'template', false, 'Use the Marketing Messages API for marketing templates.')],
  [131064, c('Messaging limit reached (template classification violations)', 'throttling', false, 'Wait for the enforcement period to end; fix template categories.')],
  [132000, c('Template param count mismatch', 'template', false, 'Pass exactly the parameters the template declares.')],
  [132001, c('Template does not exist', 'template', false, 'Check the template name and language, and that it is APPROVED.')],
  [132005, c('Template hydrated text too long', 'template', false, 'Shorten the parameter values.')],
  [132007, c('Template format character policy violated', 'template', false, 'Remove disallowed characters (newlines, tabs, 4+ spaces) from parameters.')],
  [132008, c('Template param value invalid', 'template', false, 'Fix the parameter value.')],
  [132012, c('Template parameter format mismatch', 'template', false, 'Use the parameter kind the template expects (positional vs named, text vs media).')],
  [132015, c('Template paused', 'template', false, 'The template was paused for low quality: edit it or use another template.')],
  [132016, c('Template disabled', 'template', false, 'The template was disabled: create a new template.')],
  [132018, c('Invalid template parameters', 'template', false, 'Fix the template parameters.')],
  [133000, c('Incomplete deregistration', 'coexistence', false, 'A previous deregistration did not finish; contact Meta support.')],
  [133004, c('Server temporarily unavailable', 'transient', true, 'Meta is temporarily unavailable: retry later.')],
  [133005, c('Two-step verification PIN mismatch', 'parameter', false, 'Use the two-step verification PIN set for this number.')],
  [133006, c('Phone number re-verification needed', 'parameter', false, 'Verify the number again before registering it.')],
  [133008, c('Too many two-step verification PIN guesses', 'parameter', false, 'Wait for the time in the error details, then try the PIN again.')],
  [133009, c('Two-step verification PIN guessed too fast', 'parameter', false, 'Wait for the time in the error details, then try the PIN again.')],
  [133010, c('Phone number not registered', 'coexistence', false, 'For a coexistence number: check it was not offboarded; wait for ACCOUNT_RECONNECTED.')],
  [133015, c('Number recently deleted', 'transient', true, 'Wait 5 minutes and retry.')],
  [133016, c('Register/deregister rate limit', 'throttling', false, 'At most 10 register/deregister calls per 72 h per number.')],
  [135000, c('Generic user error', 'parameter', false, 'Check the request parameters.')],
  [2388040, c('Template character limit exceeded', 'template', false, 'Shorten the component text (header/footer 60, body 1024).')],
  [2388047, c('Template header format incorrect', 'template', false, 'Fix the header (one variable at most, no line breaks).')],
  [2388072, c('Template body format incorrect', 'template', false, 'Fix the body text and its examples.')],
  [2388073, c('Template footer format incorrect', 'template', false, 'Footers take no variables and at most 60 characters.')],
  [2388293, c('Too many variables for the template length', 'template', false, 'Add more words around the variables, or use fewer variables.')],
  [2388299, c('Variables at the start or end of the body', 'template', false, 'Move the leading or trailing variable inside the sentence.')],
  [2388024, c('Template already exists in this language', 'template', false, 'A template with this name and language exists: edit that template instead of creating it.')],
  [2388318, c('Cannot update a Direct Send template', 'template', false, 'Meta generated this template for Direct Send (source AUTO_GENERATED): it cannot be edited; create a template under another name.')],
  [2388330, c('Cannot delete a Direct Send template', 'template', false, 'Meta generated this template for Direct Send (source AUTO_GENERATED): it cannot be deleted.')],
  [139200, c('Direct Send access blocked', 'template', false, 'Direct Send is blocked for this WABA: send an approved template instead.')],
  [132021, c('Direct Send template name already used', 'template', false, 'The direct_send_config.template_name is taken by a template not created by Direct Send: choose another name.')],
  [2635, c('API version not available', 'parameter', false, 'This Graph API version has ended or is unknown: use a current one such as v25.0.')],
  [2388019, c('Template count limit', 'template', false, 'The WABA has reached its template limit: delete unused templates.')],
  [2593107, c('Synchronization request limit exceeded', 'coexistence', false, 'Each sync can be requested once: the business must offboard and onboard again to sync again.')],
  [2593108, c('Synchronization request outside of the 24 h window', 'coexistence', false, 'Syncs are allowed within 24 h of onboarding: the business must offboard and onboard again.')],
  [2593109, c('History sharing declined', 'coexistence', false, 'The business chose not to share chat history in the App; only new messages will arrive.')],
]);

/** The code of the table entry that describes `code`: itself, or 200 for the 200–299 permission range. */
export function tableCode(code: number): number | undefined {
  if (ERROR_CODES.has(code)) return code;
  if (code >= 200 && code <= 299) return 200;
  return undefined;
}

export function errorCodeInfo(code: number): ErrorCodeInfo | undefined {
  const key = tableCode(code);
  return key === undefined ? undefined : ERROR_CODES.get(key);
}
