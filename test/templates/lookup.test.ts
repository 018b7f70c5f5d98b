import { describe, expect, it } from 'vitest';
import { fetchApprovedTemplate } from '../../src/lib/campaign/template.js';
import { exitCodeFor } from '../../src/lib/exit-codes.js';
import type { Graph } from '../../src/lib/graph/graph.js';
import type { MessageTemplate } from '../../src/lib/graph/types.js';
import { findTemplate, findTemplateByName } from '../../src/lib/templates/lookup.js';

const template = (name: string, language: string, status: string): MessageTemplate =>
  ({
    id: `${name}-${language}`,
    name,
    language,
    status,
    category: 'UTILITY',
    components: [],
  }) as MessageTemplate;

/** A Graph whose template list is `templates` (the API's name filter is a prefix match: it also returns others). */
function graphWith(templates: MessageTemplate[]): Graph {
  return {
    templates: {
      async *list() {
        yield* templates;
      },
    },
  } as unknown as Graph;
}

const graph = graphWith([
  template('order_update', 'en_US', 'APPROVED'),
  template('order_update', 'de', 'DELETED'),
  template('order_update', 'fr', 'PENDING_DELETION'),
  template('order_update_v2', 'it', 'APPROVED'),
  template('promo', 'en_US', 'PAUSED'),
  template('promo', 'pt_BR', 'APPROVED'),
]);

async function failure(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a failure');
}

describe('one template lookup (templates get/update and send)', () => {
  it('finds the exact name in the language', async () => {
    expect((await findTemplateByName(graph, 'W', 'order_update', 'en_US')).id).toBe('order_update-en_US');
    expect((await findTemplate(graph, 'W', 'order_update', undefined)).id).toBe('order_update-en_US');
  });

  it('a DELETED or PENDING_DELETION template does not exist: exit 1, for get and for send alike', async () => {
    for (const language of ['de', 'fr']) {
      const get = await failure(findTemplate(graph, 'W', 'order_update', language));
      const send = await failure(fetchApprovedTemplate(graph, 'W', 'order_update', language));
      expect(get.message).toBe(`Template "order_update" has no "${language}" version (it exists in en_US).`);
      expect(send.message).toBe(get.message);
      expect(exitCodeFor(get)).toBe(1);
      expect(exitCodeFor(send)).toBe(1);
    }
  });

  it('an unknown name: exit 1 with the same message from get and send', async () => {
    const get = await failure(findTemplate(graph, 'W', 'nope', undefined));
    const send = await failure(fetchApprovedTemplate(graph, 'W', 'nope', 'en_US'));
    expect(get.message).toBe('Template "nope" does not exist in WABA W.');
    expect(send.message).toBe(get.message);
    expect(exitCodeFor(get)).toBe(1);
    expect(exitCodeFor(send)).toBe(1);
  });

  it('a name in several languages without a language is a usage error (exit 2)', async () => {
    const e = await failure(findTemplate(graph, 'W', 'promo', undefined));
    expect(e.message).toBe('--language: promo exists in 2 languages (en_US, pt_BR); pass --language.');
    expect(exitCodeFor(e)).toBe(2);
  });

  it('send also requires APPROVED (exit 1)', async () => {
    const e = await failure(fetchApprovedTemplate(graph, 'W', 'promo', 'en_US'));
    expect(e.message).toBe('Template "promo" (en_US) is PAUSED, not APPROVED: nothing was sent.');
    expect(exitCodeFor(e)).toBe(1);
    expect((await fetchApprovedTemplate(graph, 'W', 'promo', 'pt_BR')).id).toBe('promo-pt_BR');
  });
});
