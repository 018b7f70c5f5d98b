import { describe, expect, it } from 'vitest';
import { parsePayload } from '../../src/lib/webhooks/parse.js';
import { envelope, statusPayload } from './fixtures.js';

describe('webhook parsing stays tolerant', () => {
  it('reads ids and numbers sent as either type; a field of an unexpected type reads as absent', () => {
    const payload = envelope('messages', {
      metadata: { phone_number_id: 106540352242922 },
      statuses: [
        {
          id: 'wamid.1',
          status: 'failed',
          timestamp: '1700000000',
          recipient_id: 4915112345678,
          biz_opaque_callback_data: { unexpected: true },
          errors: [{ code: '131026', message: 'Message undeliverable', error_data: 'not an object' }],
          pricing: 'free',
          a_field_meta_adds_later: [1, 2],
        },
      ],
    });
    const [event] = parsePayload(payload);
    expect(event).toMatchObject({
      kind: 'status',
      phoneNumberId: '106540352242922',
      row: {
        wamid: 'wamid.1',
        timestamp: 1_700_000_000_000,
        recipientId: '4915112345678',
        callbackData: null,
        errorCode: 131026,
        errorTitle: 'Message undeliverable',
        errorDetails: null,
        pricingCategory: null,
      },
    });
  });

  it('an item that is not an object is stored raw, next to the items that parse', () => {
    const payload = statusPayload('wamid.2', 'sent');
    const value = (payload.entry as { changes: { value: { statuses: unknown[] } }[] }[])[0]!.changes[0]!
      .value;
    value.statuses.push('garbage', { status: 'read' });
    const events = parsePayload(payload);
    expect(events.map((e) => e.kind)).toEqual(['status', 'unparsed', 'unparsed']);
    expect(events[1]!.summary).toBe('messages: status without id or status (stored raw)');
    expect(events[1]!.data).toBe('garbage');
  });

  it('never throws, whatever the shape', () => {
    for (const odd of [null, 7, 'x', [], { entry: 'x' }, { entry: [null, { changes: 'x' }] }]) {
      expect(parsePayload(odd).every((e) => e.kind === 'unparsed')).toBe(true);
    }
  });
});
