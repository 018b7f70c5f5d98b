import type { Graph } from '../graph/graph.js';
import type { Transport } from './engine.js';
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
    send: (row: PendingRow) =>
      sendTemplate(o.phoneNumberId, {
        ...sendAddress(row.recipient),
        name: o.template,
        language: o.language,
        components: renderComponents(o.slots, row.params),
        bizOpaqueCallbackData: callbackData(o.campaignId, row.row),
      }).then(
        (res) => ({
          kind: 'accepted' as const,
          wamid: res.messages?.[0]?.id ?? '',
          messageStatus: res.messages?.[0]?.message_status ?? null,
        }),
        (error: unknown) => ({ kind: 'error' as const, error }),
      ),
  };
}
