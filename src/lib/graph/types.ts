/** Wire types of the Graph / Cloud API, after Meta's OpenAPI spec and meta-cloud-api.md. */

export interface Paging {
  cursors?: { before?: string; after?: string };
  next?: string;
  previous?: string;
}
export interface Page<T> {
  data: T[];
  paging?: Paging;
}
export interface SuccessResponse {
  success: boolean;
}

export type CanSendMessage = 'AVAILABLE' | 'LIMITED' | 'BLOCKED';
export interface HealthStatusEntity {
  entity_type: 'PHONE_NUMBER' | 'WABA' | 'BUSINESS' | 'APP' | 'MESSAGE_TEMPLATE';
  id: string;
  can_send_message: CanSendMessage;
  additional_info?: string[];
  errors?: { error_code: number; error_description: string; possible_solution?: string }[];
}
export interface HealthStatus {
  can_send_message: CanSendMessage;
  entities: HealthStatusEntity[];
}

export type PlatformType = 'CLOUD_API' | 'ON_PREMISE' | 'NOT_APPLICABLE';
export type QualityRating = 'GREEN' | 'YELLOW' | 'RED' | 'NA' | 'UNKNOWN';
export type ThroughputLevel = 'STANDARD' | 'HIGH' | 'NOT_APPLICABLE' | string;

/** `GET /{phone-number-id}` fields (meta-cloud-api.md §3.1). */
export interface PhoneNumber {
  id: string;
  display_phone_number?: string;
  verified_name?: string;
  quality_rating?: QualityRating;
  code_verification_status?: string;
  name_status?: string;
  new_name_status?: string;
  status?: string;
  platform_type?: PlatformType;
  is_on_biz_app?: boolean;
  throughput?: { level: ThroughputLevel };
  whatsapp_business_manager_messaging_limit?: string;
  messaging_limit_tier?: string;
  last_onboarded_time?: string;
  health_status?: HealthStatus;
  is_official_business_account?: boolean;
  account_mode?: string;
  webhook_configuration?: Record<string, string>;
}
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

export interface Waba {
  id: string;
  name?: string;
  timezone_id?: string;
  message_template_namespace?: string;
  account_review_status?: string;
  business_verification_status?: string;
  currency?: string;
  health_status?: HealthStatus;
  whatsapp_business_manager_messaging_limit?: string;
}

export interface SubscribedApp {
  whatsapp_business_api_data: { id: string; name?: string; link?: string };
  override_callback_uri?: string;
}

export interface AppSubscription {
  object: string;
  callback_url?: string;
  active?: boolean;
  fields: { name: string; version?: string }[];
}

// ---- templates (§5) ----
export type TemplateCategory = 'MARKETING' | 'UTILITY' | 'AUTHENTICATION';
export type TemplateStatus =
  | 'APPROVED'
  | 'ARCHIVED'
  | 'DELETED'
  | 'DISABLED'
  | 'IN_APPEAL'
  | 'LIMIT_EXCEEDED'
  | 'PAUSED'
  | 'PENDING'
  | 'PENDING_DELETION'
  | 'REJECTED';
export type ParameterFormat = 'POSITIONAL' | 'NAMED';

export interface TemplateButton {
  type: string;
  text?: string;
  url?: string;
  phone_number?: string;
  example?: string[] | string;
  [key: string]: unknown;
}
export interface TemplateComponent {
  type: 'HEADER' | 'BODY' | 'FOOTER' | 'BUTTONS' | string;
  format?: string;
  text?: string;
  buttons?: TemplateButton[];
  example?: {
    header_text?: string[];
    header_text_named_params?: { param_name: string; example: string }[];
    header_handle?: string[];
    body_text?: string[][];
    body_text_named_params?: { param_name: string; example: string }[];
  };
  [key: string]: unknown;
}
export interface MessageTemplate {
  id: string;
  name: string;
  language: string;
  category: TemplateCategory;
  status: TemplateStatus;
  parameter_format?: ParameterFormat;
  components: TemplateComponent[];
  rejected_reason?: string;
  quality_score?: { score: string; date?: number };
  message_send_ttl_seconds?: number;
  sub_category?: string;
}
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
export interface CreateTemplateResponse {
  id: string;
  status: TemplateStatus;
  category: TemplateCategory;
}
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
export interface SendMessageResponse {
  messaging_product: 'whatsapp';
  contacts: { input: string; wa_id: string; user_id?: string }[];
  messages: { id: string; message_status?: 'accepted' | 'held_for_quality_assessment' }[];
}

// ---- coexistence sync (§1.6) ----
export type SyncType = 'smb_app_state_sync' | 'history';
export interface SmbAppDataResponse {
  messaging_product: 'whatsapp';
  request_id: string;
}

// ---- tokens (§1.4, §3.4) ----
export interface AccessTokenResponse {
  access_token: string;
  token_type?: string;
  expires_in?: number;
}
export interface DebugTokenData {
  app_id: string;
  type: string;
  application: string;
  is_valid: boolean;
  expires_at: number;
  data_access_expires_at?: number;
  user_id?: string;
  scopes: string[];
  granular_scopes?: { scope: string; target_ids?: string[] }[];
  error?: { code: number; message: string; subcode?: number };
}
