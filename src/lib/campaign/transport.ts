import type { Graph, SendMessageResponse } from '../graph/graph.js';
import type { TemplateSend } from '../graph/resources/messages.js';
import type { SendResult, Transport } from './engine.js';
import type { PendingRow } from './ledger.js';
import { renderComponents } from './mapping.js';
import { sendAddress } from './recipient.js';
import { callbackData } from './reconcile.js';
import type { SendEndpoint, Slot } from './types.js';

/**
 * Sends each row as a template message to its recipient key (a phone in `to`, a BSUID in `recipient`), through the
 * typed API core (`graph.messages.sendTemplate`), which never retries a send and turns "no answer after the body
 * left" into UnknownOutcomeError. The Graph client given here runs over an undici Pool sized to the in-flight
 * window (see the send command).
 */
export function graphTransport(
  graph: Graph,
  o: {
    phoneNumberId: string;
    template: string;
    language: string;
    slots: readonly Slot[];
    campaignId: string;
    endpoint: SendEndpoint;
  },
): Transport {
  const messages = graph.messages;
  const sendTemplate =
    o.endpoint === 'marketing_messages'
      ? messages.sendMarketingTemplate.bind(messages)
      : messages.sendTemplate.bind(messages);
  return {
    send: (row: PendingRow) => {
      const address = sendAddress(row.recipient);
      const components = renderComponents(o.slots, row.params);
      const bizOpaqueCallbackData = callbackData(o.campaignId, row.row);
      // two literal shapes rather than a spread: this runs for every message
      const msg: TemplateSend =
        'to' in address
          ? { to: address.to, name: o.template, language: o.language, components, bizOpaqueCallbackData }
          : {
              recipient: address.recipient,
              name: o.template,
              language: o.language,
              components,
              bizOpaqueCallbackData,
            };
      return sendTemplate(o.phoneNumberId, msg).then(accepted, failed);
    },
  };
}

function accepted(res: SendMessageResponse): SendResult {
  const first = res.messages?.[0];
  return { kind: 'accepted', wamid: first?.id ?? '', messageStatus: first?.message_status ?? null };
}

function failed(error: unknown): SendResult {
  return { kind: 'error', error };
}
