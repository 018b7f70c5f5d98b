import { z } from 'zod';
import { parseUnixSeconds } from '../graph/time.js';

/**
 * The parts of Meta's webhook payloads wacx reads (meta-cloud-api.md §2 and §6.3), as zod schemas.
 * Tolerant by design: a field of an unexpected type reads as absent (null), and unknown fields are ignored, so
 * an authentic payload is never refused. An item schema fails only when the item is not an object at all (the
 * caller then stores it raw, as `unparsed`). Events keep the raw item, so nothing Meta sent is lost.
 */

/**
 * `schema`, where an absent value (undefined or null) reads as `absent`, and so does a value of another type.
 * Absent fields are the common case: they take the cheap path, not the failure that `catch` recovers from.
 */
function tolerant<T, A>(schema: z.ZodType<T>, absent: A) {
  return schema
    .nullish()
    .transform((v) => v ?? absent)
    .catch(absent as Awaited<A>); // A is plain data, never a promise
}

/** A string, or a finite number (Meta sends some ids and codes as either). */
const text = tolerant(z.union([z.string(), z.number().transform(String)]), null);
/** A whole number, or a string of digits; one beyond 2^53 reads as absent (no store column holds it exactly). */
const integer = tolerant(
  z
    .union([
      z.number().transform(Math.trunc),
      z
        .string()
        .regex(/^\s*-?\d+\s*$/)
        .transform((s) => Number(s.trim())),
    ])
    .refine(Number.isSafeInteger),
  null,
);
/** A boolean, or the strings "true" / "false". */
const flag = tolerant(z.union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')]), null);
/** Unix seconds (see parseUnixSeconds). */
const time = z.unknown().optional().transform(parseUnixSeconds);
/** A list; anything else reads as empty. */
const list = tolerant(z.array(z.unknown()), []);
/** A list, or null when the key is absent or not a list. */
const maybeList = tolerant(z.array(z.unknown()), null);

/** A nested object whose absence (or wrong type) reads as an object with every field absent. */
function part<T extends z.core.$ZodLooseShape>(shape: T) {
  const schema = z.object(shape);
  return tolerant(schema, schema.parse({}));
}
/** A nested object, or null when absent or not an object. */
function maybePart<T extends z.core.$ZodLooseShape>(shape: T) {
  return tolerant(z.object(shape), null);
}

/** `value` read with `schema`, or undefined when it is not even the right kind of value. */
export function read<T>(schema: z.ZodType<T>, value: unknown): T | undefined {
  const result = schema.safeParse(value);
  return result.success ? result.data : undefined;
}

export const Payload = z.object({ entry: z.array(z.unknown()).min(1) });
export const Entry = part({ id: text, time, changes: list });
export const Change = part({ field: text, value: z.record(z.string(), z.unknown()).nullable().catch(null) });
export const ChangeMetadata = part({ phone_number_id: text });

const ErrorItem = maybePart({
  code: integer,
  title: text,
  message: text,
  error_data: part({ details: text }),
});
/** Errors arrive as a list; wacx reads the first. */
export const FirstError = list.transform((errors) => ErrorItem.parse(errors[0]));

/** What a message of each type carries: its text, caption, button or list reply. */
export const MessageContent = z.object({
  body: text,
  text,
  payload: text,
  caption: z.string().nullable().catch(null),
  button_reply: maybePart({ title: text }),
  list_reply: maybePart({ title: text }),
});

/** Messages keep every key: the content sits under the key named by `type`. */
const messageFields = { id: text, type: text, from: text, to: text, timestamp: time, errors: FirstError };

/**
 * A person named in `contacts[]` (inbound messages, statuses, echoes): phone (`wa_id`), BSUID (`user_id`), parent
 * BSUID and username (under `profile`, or beside it), any of them possibly absent (meta-cloud-api.md §15.1).
 */
export const Contact = z.object({
  wa_id: text,
  user_id: text,
  parent_user_id: text,
  username: text,
  profile: part({ name: text, username: text }),
});

export const MessagesValue = z.object({ statuses: maybeList, messages: maybeList, contacts: list });
export const Status = z.object({
  id: text,
  status: text,
  timestamp: time,
  recipient_id: text,
  recipient_user_id: text,
  recipient_parent_user_id: text,
  contacts: list,
  biz_opaque_callback_data: text,
  errors: FirstError,
  // Values outside Meta's documented ones (PMP, CBP, regular, marketing_lite, …) are kept as they come.
  pricing: part({ billable: flag, pricing_model: text, category: text, type: text }),
});
export const Message = z.looseObject({ ...messageFields, from_user_id: text, from_parent_user_id: text });

/** A `system` message's content: the identity changes (`user_changed_number`, `user_changed_user_id`). */
export const SystemChange = z.object({
  type: text,
  body: text,
  wa_id: text,
  /** Older payloads named the new phone so. */
  new_wa_id: text,
  user_id: text,
  previous_user_id: text,
  parent_user_id: text,
  previous_parent_user_id: text,
});

export const UserPreferencesValue = z.object({ user_preferences: list });
export const UserPreference = z.object({
  wa_id: text,
  user_id: text,
  parent_user_id: text,
  value: text,
  timestamp: time,
  category: text,
});

export const EchoesValue = z.object({ message_echoes: list, contacts: list });
export const Echo = z.looseObject({ ...messageFields, to_user_id: text, to_parent_user_id: text });

export const StateSyncValue = z.object({ state_sync: list });
export const StateSyncItem = z.object({
  type: text,
  action: text,
  contact: maybePart({
    phone_number: text,
    user_id: text,
    parent_user_id: text,
    username: text,
    full_name: text,
    first_name: text,
  }),
  metadata: part({ timestamp: time }),
});

export const HistoryValue = z.object({ history: list, messages: list, message_echoes: list, contacts: list });
export const HistoryItem = z.object({
  errors: FirstError,
  metadata: part({ phase: integer, chunk_order: integer, progress: integer }),
  threads: list,
});
export const HistoryThread = z.object({
  id: text,
  wa_id: text,
  user_id: text,
  parent_user_id: text,
  username: text,
  profile: part({ username: text }),
  messages: list,
});
export const HistoryMessage = z.looseObject({
  ...messageFields,
  from_user_id: text,
  to_user_id: text,
  history_context: part({ status: text }),
});
export const MediaContent = part({ id: text, mime_type: text });

export const AccountUpdate = z.object({
  event: text,
  phone_number: text,
  disconnection_info: part({ reason: text, initiated_by: text }),
  ban_info: part({ waba_ban_state: text }),
});

export const TemplateStatusUpdate = z.object({
  event: text,
  message_template_id: text,
  message_template_name: text,
  message_template_language: text,
  reason: text,
  message_template_category: text,
});

/** What an edit or a revoke carries (meta-cloud-api.md §2.6, §2.7): the message changed, and an edit's new one. */
export const EchoChange = z.object({ original_message_id: text, message: z.unknown().optional() });
/** The new message inside an edit: a message of its own type. */
export const EditedMessage = z.looseObject({ type: text });
