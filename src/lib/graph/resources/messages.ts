import type { AnswerRead, AnswerShape } from '../answers.js';
import { type GraphClient, graphPath } from '../client.js';
import type { SendMessageResponse, SendTemplateRequest } from '../types.js';

/**
 * A template send to a phone number (`to`) or to a BSUID (`recipient`, meta-cloud-api.md §15.1: top-level, instead
 * of `to`; v24.0+).
 */
export type TemplateSend = Omit<SendTemplateRequest, 'to'> & ({ to: string } | { recipient: string });

export class Messages {
  constructor(private readonly client: GraphClient) {}

  /**
   * Sends a template message. Never retried by the client: a timeout or reset after the body left surfaces
   * as UnknownOutcomeError, which the caller must record (the Cloud API has no idempotency key).
   */
  sendTemplate(phoneNumberId: string, msg: TemplateSend, signal?: AbortSignal): Promise<SendMessageResponse> {
    return this.post(phoneNumberId, 'messages', templateMessageBody(msg), signal);
  }

  /** Sends a MARKETING template through the Marketing Messages API (marketingMessageBody). Never retried either. */
  sendMarketingTemplate(
    phoneNumberId: string,
    msg: TemplateSend,
    signal?: AbortSignal,
  ): Promise<SendMessageResponse> {
    return this.post(phoneNumberId, 'marketing_messages', marketingMessageBody(msg), signal);
  }

  private post(
    phoneNumberId: string,
    edge: string,
    body: Record<string, unknown>,
    signal: AbortSignal | undefined,
  ): Promise<SendMessageResponse> {
    return this.client.request<SendMessageResponse>({
      method: 'POST',
      path: graphPath(phoneNumberId, edge),
      // as text at once: a bulk send keeps thousands of messages in flight, each keeping only its text
      json: JSON.stringify(body),
      idempotent: false,
      signal,
      answer: SEND_ANSWER,
    });
  }
}

/** How zod names a value's kind in its messages, so that both checks read alike. */
function kind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

const wrong = (path: PropertyKey[], expected: string, value: unknown): AnswerRead<never> => ({
  ok: false,
  path,
  problem: `expected ${expected}, received ${kind(value)}`,
});

/**
 * The send answer, checked by hand rather than by a schema: it is read on the campaign's hot path (thousands of
 * answers a second), and wacx depends on one field of it, `messages[0].id` (the wamid it records and matches
 * status webhooks to). Four type checks cost nothing there; the other fields pass as they came.
 */
export const SEND_ANSWER: AnswerShape<SendMessageResponse> = {
  read(data) {
    if (kind(data) !== 'object') return wrong([], 'object', data);
    const messages = (data as { messages?: unknown }).messages;
    if (!Array.isArray(messages)) return wrong(['messages'], 'array', messages);
    const first: unknown = messages[0];
    if (kind(first) !== 'object') return wrong(['messages', 0], 'object', first);
    const id = (first as { id?: unknown }).id;
    if (typeof id !== 'string' || id === '') return wrong(['messages', 0, 'id'], 'a message id', id);
    return { ok: true, value: data as SendMessageResponse };
  },
};

/** The JSON body of a template send (meta-cloud-api.md §6.1). */
export function templateMessageBody(msg: TemplateSend): Record<string, unknown> {
  return {
    messaging_product: 'whatsapp',
    recipient_type: 'individual',
    ...('to' in msg ? { to: msg.to } : { recipient: msg.recipient }),
    type: 'template',
    template: {
      name: msg.name,
      language: { code: msg.language },
      ...(msg.components && msg.components.length > 0 ? { components: msg.components } : {}),
    },
    ...(msg.bizOpaqueCallbackData ? { biz_opaque_callback_data: msg.bizOpaqueCallbackData } : {}),
  };
}

/**
 * The body of a send through the Marketing Messages API (`/marketing_messages`, meta-cloud-api.md §15.3): a template
 * send's, with `product_policy` always explicit (sources disagree on its default). STRICT: the message goes through
 * this API or fails, never silently through the Cloud API instead.
 */
export function marketingMessageBody(msg: TemplateSend): Record<string, unknown> {
  return { ...templateMessageBody(msg), product_policy: 'STRICT' };
}
