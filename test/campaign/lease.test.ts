/**
 * The campaign lease in the store, on both backends: a pid decides only on its own host (on another machine only
 * the heartbeat's age does), and one campaign at a time holds a phone number (a second campaign on a busy number
 * is refused with the holder named, one on another number is not).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Ledger } from '../../src/lib/campaign/ledger.js';
import { Store } from '../../src/lib/store/store.js';
import { BACKENDS, freshLocation } from '../helpers/postgres.js';
import { addCampaign } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'wacx-lease-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const STALE = 30_000;
const alive = () => true;
const dead = () => false;

describe.each(BACKENDS)('the campaign lease on %s', (backend) => {
  let n = 0;
  /** Two connections to one new store, as two processes (or machines) would have. */
  function twoRuns(): { a: Ledger; b: Ledger; close: () => void } {
    const location = freshLocation(backend, join(dir, `${backend}-${++n}.db`));
    const s1 = Store.open(location);
    const s2 = Store.open(location);
    return {
      a: new Ledger(s1.db),
      b: new Ledger(s2.db),
      close: () => {
        s1.close();
        s2.close();
      },
    };
  }

  it('a pid counts on its own host only: on another machine the heartbeat alone ends a lease', () => {
    const { a, b, close } = twoRuns();
    try {
      const cid = addCampaign(a, 0);
      expect(a.acquireLease(cid, { owner: 'a', host: 'm1', pid: 100 }, 1000, STALE, alive).ok).toBe(true);
      // on m2, pid 100 is not running (it is m1's): still refused while the heartbeat is fresh
      expect(b.acquireLease(cid, { owner: 'b', host: 'm2', pid: 100 }, 2000, STALE, dead)).toEqual({
        ok: false,
        holder: { host: 'm1', pid: 100, heartbeat: 1000 },
        campaign: null,
      });
      // m1's run heartbeats (a group commit): m2 is still refused past the first heartbeat's stale time
      expect(a.commit(cid, { updates: [], intents: [], heartbeatOwner: 'a' }, 25_000)).toBe(true);
      expect(b.acquireLease(cid, { owner: 'b', host: 'm2', pid: 100 }, 40_000, STALE, dead).ok).toBe(false);
      // no heartbeat for more than 30 s: m2 takes over, and m1's next commit learns that it lost the campaign
      expect(b.acquireLease(cid, { owner: 'b', host: 'm2', pid: 100 }, 56_000, STALE, alive)).toEqual({
        ok: true,
        tookOver: { host: 'm1', pid: 100, heartbeat: 25_000 },
      });
      expect(a.commit(cid, { updates: [], intents: [], heartbeatOwner: 'a' }, 57_000)).toBe(false);
      // on its own host a dead pid ends the lease at once, whatever the heartbeat
      expect(
        a.acquireLease(cid, { owner: 'c', host: 'm2', pid: 300 }, 57_000, STALE, (p) => p !== 100),
      ).toEqual({ ok: true, tookOver: { host: 'm2', pid: 100, heartbeat: 56_000 } });
    } finally {
      close();
    }
  });

  it('one campaign per phone number: a second is refused naming the first, one on another number is not', () => {
    const { a, b, close } = twoRuns();
    try {
      const first = addCampaign(a, 0, { id: 'spring', phoneNumberId: 'N1' });
      const second = addCampaign(a, 0, { id: 'summer', phoneNumberId: 'N1' });
      const other = addCampaign(a, 0, { id: 'autumn', phoneNumberId: 'N2' });
      expect(a.acquireLease(first, { owner: 'a', host: 'm1', pid: 1 }, 1000, STALE, alive).ok).toBe(true);
      expect(b.acquireLease(second, { owner: 'b', host: 'm2', pid: 2 }, 2000, STALE, alive)).toEqual({
        ok: false,
        holder: { host: 'm1', pid: 1, heartbeat: 1000 },
        campaign: 'spring',
      });
      expect(b.acquireLease(other, { owner: 'c', host: 'm2', pid: 3 }, 2000, STALE, alive).ok).toBe(true);
      // the number is free again once the first run ends, or once its lease is stale
      a.releaseLease(first, 'a');
      expect(b.acquireLease(second, { owner: 'b', host: 'm2', pid: 2 }, 3000, STALE, alive).ok).toBe(true);
      expect(a.acquireLease(first, { owner: 'd', host: 'm1', pid: 4 }, 4000, STALE, alive)).toMatchObject({
        ok: false,
        campaign: 'summer',
      });
      expect(a.acquireLease(first, { owner: 'd', host: 'm1', pid: 4 }, 34_000, STALE, alive).ok).toBe(true);
    } finally {
      close();
    }
  });

  it('a run that stalled past the stale time loses its number to the next campaign: its next commit says so', () => {
    const { a, b, close } = twoRuns();
    try {
      const first = addCampaign(a, 0, { id: 'spring', phoneNumberId: 'N1' });
      const second = addCampaign(a, 0, { id: 'summer', phoneNumberId: 'N1' });
      expect(a.acquireLease(first, { owner: 'a', host: 'm1', pid: 1 }, 1000, STALE, alive).ok).toBe(true);
      // spring's run stalls (its process still alive on m1) for longer than the stale time: summer takes the number
      expect(b.acquireLease(second, { owner: 'b', host: 'm2', pid: 2 }, 40_000, STALE, alive).ok).toBe(true);
      // spring's next group commit finds its lease gone, so it marks nothing more to leave
      expect(a.commit(first, { updates: [], intents: [], heartbeatOwner: 'a' }, 41_000)).toBe(false);
    } finally {
      close();
    }
  });

  it('a campaign created while its number is busy is created without its lease', () => {
    const { a, b, close } = twoRuns();
    try {
      const first = addCampaign(a, 0, { id: 'spring', phoneNumberId: 'N1' });
      expect(a.acquireLease(first, { owner: 'a', host: 'm1', pid: 1 }, 1000, STALE, alive).ok).toBe(true);
      const template = a.find('spring')!;
      const made = b.createLeased(
        {
          ...template,
          id: 'summer',
          options: template.options,
          templateSnapshot: template.templateSnapshot,
        },
        2000,
        { owner: 'b', host: 'm2', pid: 2 },
        { staleMs: STALE, isAlive: alive },
      );
      expect(made).toMatchObject({ created: true, campaign: { id: 'summer', lease: null } });
      a.releaseLease(first, 'a');
      const again = b.createLeased(
        { ...template, id: 'autumn' },
        3000,
        { owner: 'c', host: 'm2', pid: 3 },
        { staleMs: STALE, isAlive: alive },
      );
      expect(again.campaign.lease).toMatchObject({ owner: 'c', host: 'm2', pid: 3 });
    } finally {
      close();
    }
  });
});
