/**
 * Wire types of the Graph / Cloud API, after Meta's OpenAPI spec and meta-cloud-api.md. The types of answers wacx
 * checks are read from their schemas (./answers.ts); the others (requests, the send answer) are written here.
 */
import type { AnswerOf } from './answers.js';

export interface SuccessResponse {
  success: boolean;
}

/** `health_status` on the phone number, WABA and template nodes (§3.3). */
export type HealthStatus = AnswerOf<'healthStatus'>;
export type HealthStatusEntity = AnswerOf<'healthStatusEntity'>;

/** `GET /{phone-number-id}` fields (meta-cloud-api.md §3.1). */
export type PhoneNumber = AnswerOf<'phoneNumber'>;
export const PHONE_NUMBER_FIELDS = [
  'id',
  'display_phone_number',
  'verified_name',
  'quality_rating',
  'code_verification_status',
  'name_status',
  'status',
  'platform_type',
  'is_on_biz_app',
  'throughput',
  'whatsapp_business_manager_messaging_limit',
  'last_onboarded_time',
  'health_status',
  'account_mode',
] as const;

export type Waba = AnswerOf<'waba'>;
export type SubscribedApp = AnswerOf<'subscribedApp'>;
export type AppSubscription = AnswerOf<'appSubscription'>;

// ---- templates (§5) ----
export type TemplateCategory = 'MARKETING' | 'UTILITY' | 'AUTHENTICATION';
export type ParameterFormat = 'POSITIONAL' | 'NAMED';

export type TemplateButton = AnswerOf<'templateButton'>;
export type TemplateComponent = AnswerOf<'templateComponent'>;
/** A template as listed or read; fields not asked for (`fields=`) are absent, but for the required ones. */
export type MessageTemplate = AnswerOf<'template'>;
export const TEMPLATE_FIELDS = [
  'id',
  'name',
  'language',
  'category',
  'status',
  'parameter_format',
  'components',
  'rejected_reason',
  'quality_score',
  'message_send_ttl_seconds',
] as const;

export interface CreateTemplateRequest {
  name: string;
  language: string;
  category: TemplateCategory;
  parameter_format?: ParameterFormat;
  components: TemplateComponent[];
  message_send_ttl_seconds?: number;
}
export type CreateTemplateResponse = AnswerOf<'createTemplate'>;
export type EditTemplateResponse = AnswerOf<'editTemplate'>;
export interface EditTemplateRequest {
  category?: TemplateCategory;
  components?: TemplateComponent[];
  message_send_ttl_seconds?: number;
  parameter_format?: ParameterFormat;
}

// ---- messages (§6) ----
export interface TemplateSendParameter {
  type: string;
  text?: string;
  parameter_name?: string;
  payload?: string;
  [key: string]: unknown;
}
export interface TemplateSendComponent {
  type: 'header' | 'body' | 'button';
  sub_type?: string;
  index?: string;
  parameters: TemplateSendParameter[];
}
export interface SendTemplateRequest {
  to: string;
  name: string;
  language: string;
  components?: TemplateSendComponent[];
  bizOpaqueCallbackData?: string;
}
/** The send answer (§6.2); checked by hand in ./resources/messages.ts: `messages[0].id` is there, the rest as it came. */
export interface SendMessageResponse {
  messaging_product?: 'whatsapp';
  contacts?: { input: string; wa_id: string; user_id?: string }[];
  messages: [
    { id: string; message_status?: 'accepted' | 'held_for_quality_assessment' },
    ...{ id: string; message_status?: string }[],
  ];
}

// ---- coexistence sync (§1.6) ----
export type SyncType = 'smb_app_state_sync' | 'history';
export type SmbAppDataResponse = AnswerOf<'smbAppData'>;

// ---- tokens (§1.4, §3.4) ----
export interface AccessTokenResponse {
  access_token: string;
  token_type?: string;
  expires_in?: number;
}
export type DebugTokenData = AnswerOf<'debugToken'>['data'];
