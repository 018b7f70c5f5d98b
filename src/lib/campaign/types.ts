/** Shared types of the campaign domain (`wacx send`, `wacx campaigns …`). */

export type RowState = 'pending' | 'in_flight' | 'sent' | 'failed' | 'unknown' | 'skipped';
export const ROW_STATES: readonly RowState[] = [
  'pending',
  'in_flight',
  'sent',
  'failed',
  'unknown',
  'skipped',
];

/** Why a row was skipped (never sent). */
export type SkipReason =
  | 'invalid_phone'
  | 'invalid_recipient'
  | 'missing_parameter'
  | 'invalid_parameter'
  | 'column_count'
  | 'malformed_csv'
  | 'duplicate'
  | 'opted_out'
  | 'excluded'
  | 'no_consent';

export const SKIP_REASON_TEXT: Record<SkipReason, string> = {
  invalid_phone: 'invalid phone number',
  invalid_recipient: 'invalid BSUID (user_id column)',
  missing_parameter: 'missing template parameter',
  invalid_parameter: 'parameter value not allowed by WhatsApp',
  column_count: 'wrong number of columns',
  malformed_csv: 'malformed CSV (quoting)',
  duplicate: 'duplicate recipient (sent once)',
  opted_out: 'recipient opted out (webhook store)',
  excluded: 'listed in --exclude',
  no_consent: 'no consent (revoked, or no opt-in with --require-consent)',
};

/**
 * The consent register as a campaign needs it, for the template's scope (the command layer reads the register:
 * lib/consent depends on this domain, not the other way round). Recipient keys: E.164 digits, BSUIDs verbatim.
 */
export interface CampaignConsent {
  /** Keys with a valid opt-in; null when the run does not require one (no --require-consent). */
  granted: ReadonlySet<string> | null;
  /** Keys whose latest change for the scope is a revoke: never messaged, with or without --require-consent. */
  revoked: ReadonlySet<string>;
}

/** Reads the consent register for a template category (given by the command layer; see CampaignConsent). */
export type ConsentReader = (category: string, required: boolean) => Promise<CampaignConsent>;

export const NO_CONSENT_REVOKED = 'no_consent: no consent, the recipient revoked it (consent register)';
export const NO_CONSENT_MISSING =
  'no_consent: no consent, no opt-in recorded for the template category (--require-consent)';

/** Why `aliases` (one recipient's keys) may not be messaged under `consent`; null when they may. */
export function consentSkip(aliases: readonly string[], consent: CampaignConsent): string | null {
  if (aliases.some((a) => consent.revoked.has(a))) return NO_CONSENT_REVOKED;
  if (consent.granted && !aliases.some((a) => consent.granted!.has(a))) return NO_CONSENT_MISSING;
  return null;
}

/** Skip reasons that are input problems (they make the run partial); the others are expected. */
export const INVALID_REASONS: ReadonlySet<SkipReason> = new Set([
  'invalid_phone',
  'invalid_recipient',
  'missing_parameter',
  'invalid_parameter',
  'column_count',
  'malformed_csv',
]);

/**
 * Which endpoint sends the campaign's templates (`--api`): `messages` (/messages), `marketing` (the Marketing
 * Messages API, /marketing_messages: MARKETING templates only), or `auto` (marketing templates through
 * /marketing_messages when the WABA is onboarded to it, else /messages).
 */
export type SendApi = 'auto' | 'messages' | 'marketing';
export const SEND_APIS: readonly SendApi[] = ['auto', 'messages', 'marketing'];

/** The edge a template send is posted to. */
export type SendEndpoint = 'messages' | 'marketing_messages';

/** The options that shape every message of a campaign, stored with it so that a resume renders the same. */
export interface CampaignOptions {
  /** `--map` as given: column → parameter spec. */
  map: { column: string; param: string }[];
  /** The phone column actually used (from --phone-column or found in the header). */
  phoneColumn: string | null;
  /** The BSUID column (`user_id`/`bsuid`) found in the header; absent in campaigns started before BSUIDs. */
  bsuidColumn?: string | null;
  defaultCountry: string | null;
  /** `--api` as the campaign was started (absent: started before it existed, `auto`). */
  api?: SendApi;
  /** `--exclude FILE` (absolute), read again on resume. */
  exclude: string | null;
  /** `--require-consent`: rows without an opt-in for the template's scope are skipped (absent: not required). */
  requireConsent?: boolean;
  /** The resolved parameter slots; the `params` of every row are in this order. */
  slots: Slot[];
}

/** What a campaign sends each row: the template and the parameter slots filled from the CSV columns. */
export interface Slot {
  /** Where the value goes. */
  component: 'header' | 'body' | 'button';
  /** Positional number ("1") or name ("first_name"); '' for a media header. */
  name: string;
  /** For buttons: the button index within the template. */
  buttonIndex?: number;
  /** Parameter type on the wire: text, image, video, document, payload, coupon_code. */
  kind: 'text' | 'image' | 'video' | 'document' | 'payload' | 'coupon_code';
  /** The CSV column the value comes from. */
  column: string;
  /** Column index in the CSV header. */
  columnIndex: number;
  /** Whether an empty value makes the row invalid (quick-reply payloads are optional). */
  required: boolean;
  /** Named template (parameter_name is sent). */
  named: boolean;
}

/** Human label of a slot, e.g. `body {{2}}`, `header {{order_id}}`, `button 1`. */
export function slotLabel(s: Pick<Slot, 'component' | 'name' | 'buttonIndex' | 'kind'>): string {
  if (s.component === 'button') return `button ${s.buttonIndex} (${s.kind})`;
  if (s.name === '') return `${s.component} ${s.kind}`;
  return `${s.component} {{${s.name}}}`;
}

/** The final outcome of a row, for the NDJSON stream and the report. */
export interface RowOutcome {
  row: number;
  line: number;
  recipient: string | null;
  state: RowState;
  reason: string | null;
  errorCode: number | null;
  errorTitle: string | null;
  wamid: string | null;
  attempts: number;
  /** The BSUID the row named when the webhook store resolved it to a phone (the ledger's rows only). */
  resolvedFrom?: string | null;
}

/** Why a run stopped before the end. */
export interface StopReason {
  kind: 'api' | 'network' | 'lease' | 'offboarded' | 'input';
  code: number | null;
  title: string;
  message: string;
  hint: string | null;
}
