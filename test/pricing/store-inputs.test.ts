import { join } from 'node:path';
import { expect, it } from 'vitest';
import { readRateCard } from '../../src/lib/pricing/rate-card.js';
import { monthVolumeAt, volumeKey, windowsAt } from '../../src/lib/pricing/store-inputs.js';
import { ingestPayload } from '../../src/lib/webhooks/storage.js';
import { describeBackends } from '../helpers/backends.js';
import { envelope, inboundText, PN, statusPayload } from '../webhooks/fixtures.js';

/** What the estimate reads from the store: open service windows, free entry points, this month's billed volume. */

const CARD = readRateCard(join(import.meta.dirname, '../../examples/rate-card.example.csv'));
const HOUR = 3_600_000;
const AT = Date.UTC(2026, 10, 20, 12, 0, 0);
const seconds = (ms: number) => Math.floor(ms / 1000);

describeBackends('pricing inputs from the store', (b) => {
  it('customer service windows (24 h) and free entry points (a referral, 72 h) per recipient, on this number', () => {
    const store = b.open();
    const ingest = (payload: Record<string, unknown>) =>
      expect(ingestPayload(store.db, JSON.stringify(payload)).outcome).toBe('stored');
    ingest(inboundText('wamid.a', '4915111111111', 'hi', seconds(AT - 2 * HOUR)));
    ingest(inboundText('wamid.b', '4915122222222', 'old', seconds(AT - 30 * HOUR)));
    ingest(
      envelope('messages', {
        messaging_product: 'whatsapp',
        metadata: { display_phone_number: '15550783881', phone_number_id: PN },
        messages: [
          {
            from: '4915133333333',
            id: 'wamid.ad',
            timestamp: String(seconds(AT - 10 * HOUR)),
            type: 'text',
            text: { body: 'from the ad' },
            referral: { source_type: 'ad', source_id: '1', source_url: 'https://fb.me/x' },
          },
        ],
      }),
    );
    const w = windowsAt(store.db, PN, AT);
    expect(w.inbound).toBe(3);
    expect([...w.customerService].sort()).toEqual(['4915111111111', '4915133333333']);
    expect([...w.freeEntryPoint]).toEqual(['4915133333333']);
    expect(windowsAt(store.db, null, AT)).toEqual(w);
    expect(windowsAt(store.db, 'another-number', AT).inbound).toBe(0);
  });

  it("this month's delivered, regularly priced statuses per market and tiered category, each message once", () => {
    const store = b.open();
    const status = (wamid: string, state: string, recipient: string, at: number) =>
      ingestPayload(
        store.db,
        JSON.stringify(statusPayload(wamid, state, { recipient, timestamp: seconds(at) })),
      );
    const utility = (payload: Record<string, unknown>) => {
      const value = (
        payload.entry as { changes: { value: { statuses: { pricing: { category: string } }[] } }[] }[]
      )[0]!.changes[0]!.value;
      value.statuses[0]!.pricing.category = 'utility';
      return payload;
    };
    for (const [wamid, recipient] of [
      ['wamid.1', '4915111111111'],
      ['wamid.2', '4915122222222'],
    ] as const) {
      for (const state of ['delivered', 'read'])
        ingestPayload(
          store.db,
          JSON.stringify(utility(statusPayload(wamid, state, { recipient, timestamp: seconds(AT - HOUR) }))),
        );
    }
    // last month, and marketing (not tiered): not counted
    ingestPayload(
      store.db,
      JSON.stringify(
        utility(
          statusPayload('wamid.3', 'delivered', {
            recipient: '4915133333333',
            timestamp: seconds(AT - 30 * 24 * HOUR),
          }),
        ),
      ),
    );
    status('wamid.4', 'delivered', '4915144444444', AT - HOUR);
    const volume = monthVolumeAt(store.db, CARD, AT);
    expect([...volume.entries()]).toEqual([[volumeKey('Germany', 'utility'), 2]]);
  });
});
