/**
 * Webhook payloads shaped like Meta's BSUID examples (meta-cloud-api.md §2.8 and §15.1): BSUIDs beside the
 * phone, and without it (a user with a username whose phone Meta withholds).
 */
import { envelope, PN } from './fixtures.js';

const metadata = { display_phone_number: '15550783881', phone_number_id: PN };

export const PABLO = { phone: '16505551234', userId: 'US.13491208655302741918', username: 'pablo.m' };
export const SHEENA = { userId: 'US.13491208655302741919', username: 'sheena.plants' };
export const PARENT = 'US.ENT.11815799212886844830';

/** An inbound text. `phone` null: no `wa_id`, no `from` (Meta withheld the phone); '' sends them as "". */
export function bsuidInbound(
  wamid: string,
  who: { phone?: string | null; userId: string; parentUserId?: string; username?: string },
  body: string,
  timestamp = 1754900000,
): Record<string, unknown> {
  const phone = who.phone === undefined || who.phone === null ? {} : { wa_id: who.phone };
  const from = who.phone === undefined || who.phone === null ? {} : { from: who.phone };
  return envelope('messages', {
    messaging_product: 'whatsapp',
    metadata,
    contacts: [
      {
        profile: { name: 'User', ...(who.username ? { username: who.username } : {}) },
        ...phone,
        user_id: who.userId,
        ...(who.parentUserId ? { parent_user_id: who.parentUserId } : {}),
      },
    ],
    messages: [
      {
        ...from,
        from_user_id: who.userId,
        ...(who.parentUserId ? { from_parent_user_id: who.parentUserId } : {}),
        id: wamid,
        timestamp: String(timestamp),
        type: 'text',
        text: { body },
      },
    ],
  });
}

/** A status of a message sent by BSUID (`recipient`): no `recipient_id`, a `contacts[]` block. */
export function bsuidStatus(wamid: string, userId: string, username?: string): Record<string, unknown> {
  return envelope('messages', {
    messaging_product: 'whatsapp',
    metadata,
    statuses: [
      {
        id: wamid,
        status: 'delivered',
        timestamp: '1754900010',
        recipient_user_id: userId,
        contacts: [{ user_id: userId, ...(username ? { username } : {}) }],
        pricing: { billable: true, pricing_model: 'PMP', type: 'regular', category: 'marketing' },
      },
    ],
  });
}

/** An echo to a user named by BSUID only (`to` left out). */
export function bsuidEcho(wamid: string, userId: string, body: string): Record<string, unknown> {
  return envelope('smb_message_echoes', {
    messaging_product: 'whatsapp',
    metadata,
    contacts: [{ user_id: userId }],
    message_echoes: [
      {
        from: '15550783881',
        to_user_id: userId,
        id: wamid,
        timestamp: '1754900020',
        type: 'text',
        text: { body },
      },
    ],
  });
}

/** A history chunk with one thread keyed by phone (BSUID beside it) and one BSUID-only thread. */
export function bsuidHistory(progress = 100): Record<string, unknown> {
  return envelope('history', {
    messaging_product: 'whatsapp',
    metadata,
    history: [
      {
        metadata: { phase: 0, chunk_order: 1, progress },
        threads: [
          {
            id: PABLO.phone,
            wa_id: PABLO.phone,
            user_id: PABLO.userId,
            username: PABLO.username,
            country_code: 'US',
            messages: [
              {
                from: PABLO.phone,
                from_user_id: PABLO.userId,
                id: 'wamid.H1',
                timestamp: '1739230955',
                type: 'text',
                text: { body: 'Hi' },
                history_context: { status: 'READ' },
              },
            ],
          },
          {
            id: SHEENA.userId,
            user_id: SHEENA.userId,
            username: SHEENA.username,
            country_code: 'US',
            messages: [
              {
                from_user_id: SHEENA.userId,
                id: 'wamid.H2',
                timestamp: '1739230956',
                type: 'text',
                text: { body: 'Do you deliver?' },
                history_context: { status: 'READ' },
              },
              {
                from: '15550783881',
                to_user_id: SHEENA.userId,
                id: 'wamid.H3',
                timestamp: '1739230957',
                type: 'text',
                text: { body: 'We do!' },
                history_context: { status: 'READ' },
              },
            ],
          },
        ],
      },
    ],
  });
}

/** A state-sync contact; `phone` '' is sent as "" (the phone withheld). */
export function bsuidContact(action: string, phone: string, userId: string, username?: string) {
  return envelope('smb_app_state_sync', {
    messaging_product: 'whatsapp',
    metadata,
    state_sync: [
      {
        type: 'contact',
        contact: {
          full_name: 'Sheena Nelson',
          first_name: 'Sheena',
          phone_number: phone,
          user_id: userId,
          ...(username ? { username } : {}),
          country_code: 'US',
        },
        action,
        metadata: { timestamp: '1754900030' },
      },
    ],
  });
}

/** `user_changed_number`, as in the reference (old phone in `from`, new phone and BSUIDs in `system`). */
export function userChangedNumber(
  wamid: string,
  from: string,
  to: string,
  userId: string,
  previousUserId: string,
): Record<string, unknown> {
  return envelope('messages', {
    messaging_product: 'whatsapp',
    metadata,
    messages: [
      {
        from,
        id: wamid,
        timestamp: '1754900000',
        type: 'system',
        system: {
          type: 'user_changed_number',
          body: `User Pablo changed from ${from} to ${to}`,
          wa_id: to,
          user_id: userId,
          previous_user_id: previousUserId,
        },
      },
    ],
  });
}

/** `user_changed_user_id`: no `from`, no phone at all. */
export function userChangedUserId(
  wamid: string,
  userId: string,
  previousUserId: string,
  timestamp = 1754900100,
) {
  return envelope('messages', {
    messaging_product: 'whatsapp',
    metadata,
    messages: [
      {
        id: wamid,
        timestamp: String(timestamp),
        type: 'system',
        system: {
          type: 'user_changed_user_id',
          body: '…',
          user_id: userId,
          previous_user_id: previousUserId,
        },
      },
    ],
  });
}
