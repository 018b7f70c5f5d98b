import { type GraphClient, graphPath } from '../client.js';
import type { SendMessageResponse, SendTemplateRequest } from '../types.js';

export class Messages {
  constructor(private readonly client: GraphClient) {}

  /**
   * Sends a template message. Never retried by the client: a timeout or reset after the body left surfaces
   * as UnknownOutcomeError, which the caller must record (the Cloud API has no idempotency key).
   */
  sendTemplate(
    phoneNumberId: string,
    msg: SendTemplateRequest,
    signal?: AbortSignal,
  ): Promise<SendMessageResponse> {
    return this.client.request<SendMessageResponse>({
      method: 'POST',
      path: graphPath(phoneNumberId, 'messages'),
      body: templateMessageBody(msg),
      idempotent: false,
      signal,
    });
  }
}

/** The JSON body of a template send (meta-cloud-api.md §6.1). */
export function templateMessageBody(msg: SendTemplateRequest): Record<string, unknown> {
  return {
    messaging_product: 'whatsapp',
    recipient_type: 'individual',
    to: msg.to,
    type: 'template',
    template: {
      name: msg.name,
      language: { code: msg.language },
      ...(msg.components && msg.components.length > 0 ? { components: msg.components } : {}),
    },
    ...(msg.bizOpaqueCallbackData ? { biz_opaque_callback_data: msg.bizOpaqueCallbackData } : {}),
  };
}
