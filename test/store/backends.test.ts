import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../src/lib/store/migrations.js';
import { Store } from '../../src/lib/store/store.js';
import { BACKENDS, freshLocation } from '../helpers/postgres.js';

const dir = mkdtempSync(join(tmpdir(), 'wacx-backends-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.each(BACKENDS)('the store on %s', (backend) => {
  it('applies every migration once, and a second open applies none', () => {
    const location = freshLocation(backend, join(dir, `${backend}-migrate.db`));
    const first = Store.open(location);
    try {
      expect(first.applied()).toEqual(MIGRATIONS.map((m) => m.id).sort((a, b) => a - b));
    } finally {
      first.close();
    }
    const second = Store.open(location);
    try {
      expect(second.migrate()).toEqual([]);
      expect(second.pending()).toEqual([]);
    } finally {
      second.close();
    }
  });
});
