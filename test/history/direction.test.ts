import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importGraph } from '../architecture/import-rules.js';

describe('history depends on the webhook store, never the reverse', () => {
  it('no file of lib/webhooks imports lib/history', () => {
    const graph = importGraph(join(import.meta.dirname, '../../src'));
    const reverse = [...graph]
      .filter(([from]) => from.startsWith('lib/webhooks/'))
      .flatMap(([from, targets]) =>
        targets.filter((t) => t.startsWith('lib/history/')).map((t) => `${from} → ${t}`),
      );
    expect(graph.has('lib/webhooks/queries.ts')).toBe(true);
    expect(reverse).toEqual([]);
  });
});
