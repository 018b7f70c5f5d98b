import { createRequire } from 'node:module';
import { dirname, sep } from 'node:path';
import type { z as Zod } from 'zod';

/**
 * The shapes of the API answers wacx depends on, as zod schemas (Meta's OpenAPI spec and meta-cloud-api.md §1.4,
 * §1.6, §3, §5, §6.2). Tolerant the way Meta evolves: unknown fields pass through, fields wacx does not always ask
 * for are optional, enum-like strings accept values added later. Strict about what wacx reads: a field that is
 * present must have the type the spec gives it, and the few fields wacx cannot do without are required.
 *
 * zod costs ~50 ms to load: the schemas are built on the first answer checked, never at start-up (the help output
 * loads this module through the resources and must not pay for them).
 */

type ZodNamespace = typeof Zod;

/** What the client needs of an answer's shape: read the answer, or say where and why it is not what was expected. */
export interface AnswerShape<T> {
  read(data: unknown): AnswerRead<T>;
}
export type AnswerRead<T> =
  | { ok: true; value: T }
  | { ok: false; path: readonly PropertyKey[]; problem: string };

function buildSchemas(z: ZodNamespace) {
  /** A string whose known values are `known`; values Meta adds later still read (wacx treats them as unknown). */
  const oneOf = <const T extends readonly string[]>(..._known: T) =>
    z.string() as unknown as Zod.ZodType<T[number] | (string & {})>;

  const paging = z.looseObject({
    cursors: z.looseObject({ before: z.string().optional(), after: z.string().optional() }).optional(),
    next: z.string().optional(),
    previous: z.string().optional(),
  });
  const page = <T extends Zod.ZodType>(item: T) =>
    z.looseObject({ data: z.array(item), paging: paging.optional() });

  // ---- health (§3.3) ----
  const canSendMessage = oneOf('AVAILABLE', 'LIMITED', 'BLOCKED');
  const healthStatusEntity = z.looseObject({
    entity_type: oneOf('PHONE_NUMBER', 'WABA', 'BUSINESS', 'APP', 'MESSAGE_TEMPLATE'),
    id: z.string().optional(),
    can_send_message: canSendMessage,
    additional_info: z.array(z.string()).optional(),
    errors: z
      .array(
        z.looseObject({
          error_code: z.number(),
          error_description: z.string(),
          possible_solution: z.string().optional(),
        }),
      )
      .optional(),
  });
  const healthStatus = z.looseObject({
    can_send_message: canSendMessage,
    entities: z.array(healthStatusEntity).default([]),
  });

  // ---- phone number node (§3.1) ----
  const phoneNumber = z.looseObject({
    id: z.string(),
    display_phone_number: z.string().optional(),
    verified_name: z.string().optional(),
    quality_rating: oneOf('GREEN', 'YELLOW', 'RED', 'NA', 'UNKNOWN').optional(),
    code_verification_status: z.string().optional(),
    name_status: z.string().optional(),
    new_name_status: z.string().optional(),
    status: z.string().optional(),
    platform_type: oneOf('CLOUD_API', 'ON_PREMISE', 'NOT_APPLICABLE').optional(),
    is_on_biz_app: z.boolean().optional(),
    throughput: z.looseObject({ level: oneOf('STANDARD', 'HIGH', 'NOT_APPLICABLE') }).optional(),
    whatsapp_business_manager_messaging_limit: z.string().optional(),
    messaging_limit_tier: z.string().optional(),
    last_onboarded_time: z.string().optional(),
    health_status: healthStatus.optional(),
    is_official_business_account: z.boolean().optional(),
    account_mode: z.string().optional(),
    webhook_configuration: z.record(z.string(), z.unknown()).optional(),
  });

  // ---- WABA node and its edges (§3.2, §8.5) ----
  const waba = z.looseObject({
    id: z.string(),
    name: z.string().optional(),
    timezone_id: z.string().optional(),
    message_template_namespace: z.string().optional(),
    account_review_status: z.string().optional(),
    business_verification_status: z.string().optional(),
    currency: z.string().optional(),
    health_status: healthStatus.optional(),
    whatsapp_business_manager_messaging_limit: z.string().optional(),
  });
  const subscribedApp = z.looseObject({
    whatsapp_business_api_data: z.looseObject({
      id: z.string(),
      name: z.string().optional(),
      link: z.string().optional(),
    }),
    override_callback_uri: z.string().optional(),
  });
  const appSubscription = z.looseObject({
    object: z.string(),
    callback_url: z.string().optional(),
    active: z.boolean().optional(),
    fields: z.array(z.looseObject({ name: z.string(), version: z.string().optional() })).optional(),
  });

  // ---- templates (§5) ----
  const namedExample = z.looseObject({ param_name: z.string(), example: z.string() });
  const templateButton = z.looseObject({
    type: z.string(),
    text: z.string().optional(),
    url: z.string().optional(),
    phone_number: z.string().optional(),
    example: z.union([z.array(z.string()), z.string()]).optional(),
  });
  const templateComponent = z.looseObject({
    type: oneOf('HEADER', 'BODY', 'FOOTER', 'BUTTONS'),
    format: z.string().optional(),
    text: z.string().optional(),
    buttons: z.array(templateButton).optional(),
    example: z
      .looseObject({
        header_text: z.array(z.string()).optional(),
        header_text_named_params: z.array(namedExample).optional(),
        header_handle: z.array(z.string()).optional(),
        body_text: z.array(z.array(z.string())).optional(),
        body_text_named_params: z.array(namedExample).optional(),
      })
      .optional(),
  });
  const templateStatus = oneOf(
    'APPROVED',
    'ARCHIVED',
    'DELETED',
    'DISABLED',
    'IN_APPEAL',
    'LIMIT_EXCEEDED',
    'PAUSED',
    'PENDING',
    'PENDING_DELETION',
    'REJECTED',
  );
  const templateCategory = oneOf('MARKETING', 'UTILITY', 'AUTHENTICATION');
  const template = z.looseObject({
    id: z.string(),
    name: z.string(),
    language: z.string(),
    status: templateStatus,
    category: templateCategory,
    // wacx fills parameters by it: a format it does not know is an answer it cannot use
    parameter_format: z.enum(['POSITIONAL', 'NAMED']).optional(),
    components: z.array(templateComponent).optional(),
    rejected_reason: z.string().optional(),
    quality_score: z.looseObject({ score: z.string(), date: z.number().optional() }).optional(),
    message_send_ttl_seconds: z.number().optional(),
    sub_category: z.string().optional(),
  });
  const createTemplate = z.looseObject({
    id: z.string().min(1),
    status: templateStatus.optional(),
    category: templateCategory.optional(),
  });
  const editTemplate = z.looseObject({ success: z.boolean(), id: z.string().optional() });

  // ---- coexistence sync (§1.6) ----
  const smbAppData = z.looseObject({
    messaging_product: z.string().optional(),
    request_id: z.string().min(1),
  });

  // ---- tokens (§1.4, §3.4) ----
  // Meta documents a bare token string; real answers are JSON (read by ANSWERS.accessToken, one or the other).
  const accessTokenText = z.string().trim().min(1);
  const accessToken = z.looseObject({
    access_token: z.string().min(1),
    token_type: z.string().optional(),
    expires_in: z.number().optional(),
  });
  const debugTokenData = z.looseObject({
    app_id: z.string().optional(),
    type: z.string().optional(),
    application: z.string().optional(),
    is_valid: z.boolean(),
    expires_at: z.number().optional(),
    data_access_expires_at: z.number().optional(),
    user_id: z.string().optional(),
    scopes: z.array(z.string()).optional(),
    granular_scopes: z
      .array(z.looseObject({ scope: z.string(), target_ids: z.array(z.string()).optional() }))
      .optional(),
    error: z
      .looseObject({
        code: z.number().optional(),
        message: z.string().optional(),
        subcode: z.number().optional(),
      })
      .optional(),
  });
  const debugToken = z.looseObject({ data: debugTokenData });

  return {
    paging,
    healthStatus,
    healthStatusEntity,
    phoneNumber,
    phoneNumberPage: page(phoneNumber),
    waba,
    subscribedApp,
    subscribedAppsPage: page(subscribedApp),
    appSubscription,
    appSubscriptionsPage: page(appSubscription),
    templateButton,
    templateComponent,
    template,
    templatePage: page(template),
    createTemplate,
    editTemplate,
    smbAppData,
    accessTokenText,
    accessToken,
    debugToken,
  };
}

export type AnswerSchemas = ReturnType<typeof buildSchemas>;
/** The type an answer schema reads. */
export type AnswerOf<K extends keyof AnswerSchemas> = Zod.output<AnswerSchemas[K]>;

/**
 * zod and the schemas take ~3 MB of heap. A campaign send checks two answers before its first message, then none
 * for the rest of a long run whose memory is capped: once unused for RELEASE_AFTER_MS they are let go (the next
 * answer checked loads them again).
 */
const RELEASE_AFTER_MS = 1000;
let built: AnswerSchemas | undefined;
let releaseTimer: NodeJS.Timeout | undefined;

function schemas(): AnswerSchemas {
  built ??= buildSchemas((createRequire(import.meta.url)('zod') as { z: ZodNamespace }).z);
  if (releaseTimer) releaseTimer.refresh();
  else releaseTimer = setTimeout(releaseAnswerSchemas, RELEASE_AFTER_MS).unref();
  return built;
}

/** Drops the schemas and the zod modules loaded for them, so that their memory can be collected. */
export function releaseAnswerSchemas(): void {
  clearTimeout(releaseTimer);
  releaseTimer = undefined;
  if (!built) return;
  built = undefined;
  const require = createRequire(import.meta.url);
  const root = dirname(require.resolve('zod/package.json'));
  for (const file of Object.keys(require.cache)) if (file.startsWith(root + sep)) delete require.cache[file];
  // zod keeps its registry and config on globalThis (shared by its copies); an ES module copy keeps its own references
  const g = globalThis as { __zod_globalRegistry?: unknown; __zod_globalConfig?: unknown };
  delete g.__zod_globalRegistry;
  delete g.__zod_globalConfig;
}

/** zod says "Invalid input: expected string, received number"; the error names the field, so keep what is wrong. */
function problemOf(issue: Zod.core.$ZodIssue): string {
  return issue.message.replace(/^Invalid input:\s*/, '');
}

function zodAnswer<K extends keyof AnswerSchemas>(key: K): AnswerShape<AnswerOf<K>> {
  return {
    read(data) {
      const result = schemas()[key].safeParse(data);
      if (result.success) return { ok: true, value: result.data as AnswerOf<K> };
      const issue = result.error.issues[0];
      return issue
        ? { ok: false, path: issue.path, problem: problemOf(issue) }
        : { ok: false, path: [], problem: 'not the expected shape' };
    },
  };
}

/** A bare string read by `text`, anything else by `json` (so that a wrong object names its field). */
function oneOrOther<A, B>(text: AnswerShape<A>, json: AnswerShape<B>): AnswerShape<A | B> {
  return {
    read: (data): AnswerRead<A | B> => (typeof data === 'string' ? text.read(data) : json.read(data)),
  };
}

/** The checked answers of the resources (./resources); built lazily, so importing this costs nothing. */
export const ANSWERS = {
  phoneNumber: zodAnswer('phoneNumber'),
  phoneNumberPage: zodAnswer('phoneNumberPage'),
  waba: zodAnswer('waba'),
  subscribedAppsPage: zodAnswer('subscribedAppsPage'),
  appSubscriptionsPage: zodAnswer('appSubscriptionsPage'),
  template: zodAnswer('template'),
  templatePage: zodAnswer('templatePage'),
  createTemplate: zodAnswer('createTemplate'),
  editTemplate: zodAnswer('editTemplate'),
  smbAppData: zodAnswer('smbAppData'),
  accessToken: oneOrOther(zodAnswer('accessTokenText'), zodAnswer('accessToken')),
  debugToken: zodAnswer('debugToken'),
} as const;

/** `data[0].throughput.level`; the answer itself when the path is empty. */
export function formatAnswerPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out ? `.${String(key)}` : String(key);
  }
  return out || '(the answer itself)';
}
