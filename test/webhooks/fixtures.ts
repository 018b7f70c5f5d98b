import { createHmac } from 'node:crypto';

export const APP_SECRET = 'test-app-secret-0123456789';
export const PN = '106540352242922';
export const WABA = '102290129340398';

export function sign(body: string | Buffer, secret = APP_SECRET): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** JSON with every non-ASCII character escaped as \uXXXX, as Meta sends it. */
export function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[\u007f-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

export function envelope(
  field: string,
  value: unknown,
  entry: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    object: 'whatsapp_business_account',
    entry: [{ id: WABA, ...entry, changes: [{ field, value }] }],
  };
}

const metadata = { display_phone_number: '15550783881', phone_number_id: PN };

export function statusPayload(
  wamid: string,
  status: string,
  opts: { callback?: string; timestamp?: number; errorCode?: number; recipient?: string } = {},
): Record<string, unknown> {
  return envelope('messages', {
    messaging_product: 'whatsapp',
    metadata,
    statuses: [
      {
        id: wamid,
        status,
        timestamp: String(opts.timestamp ?? 1750030073),
        recipient_id: opts.recipient ?? '16505551234',
        ...(opts.callback ? { biz_opaque_callback_data: opts.callback } : {}),
        ...(opts.errorCode
          ? {
              errors: [
                { code: opts.errorCode, title: 'failed', message: 'failed', error_data: { details: 'x' } },
              ],
            }
          : {}),
        pricing: { billable: true, pricing_model: 'PMP', type: 'regular', category: 'marketing' },
      },
    ],
  });
}

export function inboundText(
  wamid: string,
  from: string,
  body: string,
  timestamp = 1750030100,
): Record<string, unknown> {
  return envelope('messages', {
    messaging_product: 'whatsapp',
    metadata,
    contacts: [{ profile: { name: 'User' }, wa_id: from }],
    messages: [{ from, id: wamid, timestamp: String(timestamp), type: 'text', text: { body } }],
  });
}

export function historyChunk(
  phase: number,
  chunkOrder: number,
  progress: number,
  threads: { id: string; messages: { id: string; from: string; body?: string; type?: string }[] }[],
): Record<string, unknown> {
  return envelope('history', {
    messaging_product: 'whatsapp',
    metadata,
    history: [
      {
        metadata: { phase, chunk_order: chunkOrder, progress },
        threads: threads.map((t) => ({
          id: t.id,
          messages: t.messages.map((m) => ({
            from: m.from,
            id: m.id,
            timestamp: '1739230955',
            type: m.type ?? 'text',
            ...(m.type === 'media_placeholder' ? {} : { text: { body: m.body ?? 'hello' } }),
            history_context: { status: 'READ' },
          })),
        })),
      },
    ],
  });
}

export function historyDeclined(): Record<string, unknown> {
  return envelope('history', {
    messaging_product: 'whatsapp',
    metadata,
    history: [
      {
        errors: [
          {
            code: 2593109,
            title: 'History sync is turned off by the business from the WhatsApp Business App',
            message: 'History sync is turned off by the business from the WhatsApp Business App',
            error_data: { details: 'History sharing is turned off by the business' },
          },
        ],
      },
    ],
  });
}

export function contactSync(
  action: 'add' | 'remove',
  phone: string,
  name?: string,
  ts = '1738346006',
): Record<string, unknown> {
  return envelope('smb_app_state_sync', {
    messaging_product: 'whatsapp',
    metadata,
    state_sync: [
      {
        type: 'contact',
        contact: {
          ...(name ? { full_name: name, first_name: name.split(' ')[0] } : {}),
          phone_number: phone,
        },
        action,
        metadata: { timestamp: ts },
      },
    ],
  });
}

export function echo(wamid: string, to: string, body: string): Record<string, unknown> {
  return envelope('smb_message_echoes', {
    messaging_product: 'whatsapp',
    metadata,
    message_echoes: [
      { from: '15550783881', to, id: wamid, timestamp: '1700255121', type: 'text', text: { body } },
    ],
  });
}

export function accountUpdate(value: Record<string, unknown>, time = 1739212624): Record<string, unknown> {
  return envelope('account_update', value, { time });
}
