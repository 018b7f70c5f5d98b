import { beforeEach, expect, it } from 'vitest';
import { historyStatus, missingChunkOrders } from '../../src/lib/history/queries.js';
import { statusExitCode, statusJson, statusLines, statusSummary } from '../../src/lib/history/status.js';
import type { Store } from '../../src/lib/store/store.js';
import { ingestPayload } from '../../src/lib/webhooks/storage.js';
import { describeBackends } from '../helpers/backends.js';
import {
  APP_SECRET,
  contactSync,
  envelope,
  historyChunk,
  historyDeclined,
  PN,
  sign,
} from '../webhooks/fixtures.js';

describeBackends('history import status from webhooks', (b) => {
  let store: Store;
  beforeEach(() => {
    store = b.open();
  });
  const ingest = (payload: unknown) => {
    const body = JSON.stringify(payload);
    return ingestPayload(store.db, body, {
      signature: sign(body),
      appSecret: APP_SECRET,
      receivedAt: 10_000,
    });
  };
  const thread = (id: string, n: number, prefix: string) => ({
    id,
    messages: Array.from({ length: n }, (_, i) => ({
      id: `wamid.${prefix}.${i}`,
      from: i % 2 ? id : '15550783881',
    })),
  });

  it('gaps in chunk_order', () => {
    expect(missingChunkOrders([])).toEqual({ listed: [], count: 0 });
    expect(missingChunkOrders([3, 1])).toEqual({ listed: [2], count: 1 });
    expect(missingChunkOrders([2, 5])).toEqual({ listed: [1, 3, 4], count: 3 });
    expect(missingChunkOrders([0, 1, 2])).toEqual({ listed: [], count: 0 });
  });

  it('chunks out of order: done only at progress 100 with no chunk missing', () => {
    expect(historyStatus(store.db, PN).history.state).toBe('not_requested');
    // the last chunk (progress 100, phase 2) arrives first
    ingest(historyChunk(2, 4, 100, [thread('16505550004', 2, 'd')]));
    let s = historyStatus(store.db, PN);
    expect(s.history).toMatchObject({
      state: 'in_progress',
      progress: 100,
      done: false,
      chunkNumbering: 'global',
    });
    expect(s.history.missingChunks.map((m) => m.chunkOrder)).toEqual([1, 2, 3]);
    expect(statusExitCode(s)).toBe(8);
    ingest(historyChunk(0, 1, 20, [thread('16505550001', 3, 'a'), thread('16505550002', 1, 'b')]));
    ingest(historyChunk(1, 3, 75, [thread('16505550003', 4, 'c')]));
    s = historyStatus(store.db, PN);
    expect(s.history.missingChunks).toEqual([{ phase: null, chunkOrder: 2 }]);
    expect(statusSummary(s)).toContain('missing chunk 2');
    expect(statusLines(s, 0).join('\n')).toContain('waiting for missing chunks');
    // a redelivered chunk changes nothing
    expect(ingest(historyChunk(1, 3, 75, [thread('16505550003', 4, 'c')])).outcome).toBe('duplicate');
    ingest(historyChunk(1, 2, 50, [thread('16505550002', 2, 'b2')]));
    s = historyStatus(store.db, PN);
    expect(s.history).toMatchObject({
      state: 'complete',
      done: true,
      progress: 100,
      missingChunks: [],
      chunks: 4,
    });
    expect(s.history.messages).toBe(2 + 3 + 1 + 4 + 2);
    expect(s.history.threads).toBe(4);
    expect(s.history.phases.map((p) => [p.phase, p.chunks, p.chunkOrders, p.messages, p.progress])).toEqual([
      [0, 1, [1], 4, 20],
      [1, 2, [2, 3], 6, 75],
      [2, 1, [4], 2, 100],
    ]);
    expect(statusExitCode(s)).toBe(0);
    const json = statusJson(s, 0);
    expect(json).toMatchObject({
      state: 'complete',
      exit_code: 0,
      history: { progress: 100, missing_chunks: [] },
    });
  });

  it('chunk_order counted per phase (numbers repeat across phases): gaps per phase', () => {
    ingest(historyChunk(0, 1, 10, [thread('1', 1, 'p0c1')]));
    ingest(historyChunk(0, 2, 20, [thread('1', 1, 'p0c2')]));
    ingest(historyChunk(1, 1, 40, [thread('2', 1, 'p1c1')]));
    ingest(historyChunk(1, 3, 60, [thread('2', 1, 'p1c3')]));
    ingest(historyChunk(2, 2, 100, [thread('3', 1, 'p2c2')]));
    let s = historyStatus(store.db, PN);
    expect(s.history.chunkNumbering).toBe('per_phase');
    expect(s.history.missingChunks).toEqual([
      { phase: 1, chunkOrder: 2 },
      { phase: 2, chunkOrder: 1 },
    ]);
    expect(statusSummary(s)).toContain('missing phase 1 chunk 2, phase 2 chunk 1');
    expect(s.history.state).toBe('in_progress');
    ingest(historyChunk(1, 2, 50, [thread('2', 1, 'p1c2')]));
    ingest(historyChunk(2, 1, 80, [thread('3', 1, 'p2c1')]));
    s = historyStatus(store.db, PN);
    expect(s.history).toMatchObject({ state: 'complete', missingChunks: [], chunks: 7 });
  });

  it('declined (2593109): state, meaning and exit 1', () => {
    ingest(historyDeclined());
    const s = historyStatus(store.db, PN);
    expect(s.history.state).toBe('declined');
    expect(s.history.declined).toMatchObject({
      code: 2593109,
      details: 'History sharing is turned off by the business',
    });
    expect(s.history.declined?.meaning).toMatch(/will not be imported/);
    expect(statusExitCode(s)).toBe(1);
    const text = statusLines(s, 0).join('\n');
    expect(text).toContain('2593109');
    expect(text).toContain('offboard and onboard again');
  });

  it('media follow-ups fill the placeholder of the same wamid', () => {
    ingest(
      historyChunk(0, 1, 100, [
        { id: '16505551234', messages: [{ id: 'wamid.M', from: '16505551234', type: 'media_placeholder' }] },
      ]),
    );
    ingest(
      envelope('history', {
        messaging_product: 'whatsapp',
        metadata: { phone_number_id: PN },
        messages: [
          {
            from: '16505551234',
            id: 'wamid.M',
            timestamp: '1738796547',
            type: 'image',
            image: {
              caption: 'Black Prince echeveria',
              mime_type: 'image/jpeg',
              sha256: 'x',
              id: '24230790383178626',
            },
          },
        ],
      }),
    );
    const row = store.db.prepare('SELECT type, media_id, text, thread_id FROM history_messages').get();
    expect(row).toEqual({
      type: 'image',
      media_id: '24230790383178626',
      text: 'Black Prince echeveria',
      thread_id: '16505551234',
    });
    const s = historyStatus(store.db, PN);
    expect(s.history.mediaFollowUps).toBe(1);
    expect(s.history.messages).toBe(1);
  });

  it('contacts: added and removed', () => {
    ingest(contactSync('add', '16505550001', 'Ana'));
    ingest(contactSync('add', '16505550002', 'Bo'));
    ingest(contactSync('remove', '16505550002', undefined, '1738346999'));
    const s = historyStatus(store.db, PN);
    expect(s.contacts).toMatchObject({ state: 'complete', added: 2, removed: 1, contacts: 1 });
  });

  it('numbers are kept apart', () => {
    ingest(historyChunk(0, 1, 100, [thread('1', 1, 'x')]));
    expect(historyStatus(store.db, 'other').history.state).toBe('not_requested');
    expect(historyStatus(store.db).history.state).toBe('complete');
  });
});
