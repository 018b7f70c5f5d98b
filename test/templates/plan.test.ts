import { describe, expect, it } from 'vitest';
import type { MessageTemplate } from '../../src/lib/graph/types.js';
import { Store } from '../../src/lib/store/store.js';
import { canonicalize, diffDefinitions } from '../../src/lib/templates/canonical.js';
import { parseTemplateText, stringifyTemplate } from '../../src/lib/templates/files.js';
import { DAY_MS, HOUR_MS, TemplateHistory } from '../../src/lib/templates/history.js';
import { computePlan, editRequest, planToJson } from '../../src/lib/templates/plan.js';
import type { TemplateDefinition } from '../../src/lib/templates/rules.js';
import { type BackendCase, describeBackends } from '../helpers/backends.js';

const WABA = '102290129340398';
const NOW = Date.UTC(2026, 10, 24, 12, 0, 0);

function def(name: string, body: string, extra: Partial<TemplateDefinition> = {}): TemplateDefinition {
  return {
    name,
    language: 'en_US',
    category: 'UTILITY',
    components: [{ type: 'BODY', text: body }],
    ...extra,
  };
}

const local = (d: TemplateDefinition) => ({
  file: `t/${d.name}.${d.language}.yaml`,
  definition: canonicalize(d),
  problems: [],
});

let nextId = 1000;
/** What the API answers: other key order, lower-case enums, no parameter_format, extra fields. */
function remote(d: TemplateDefinition, status: string, id = String(nextId++)): MessageTemplate {
  return {
    components: d.components.map((c) => ({ ...c, type: String(c.type).toLowerCase() })),
    status,
    id,
    language: d.language,
    name: d.name,
    category: d.category.toLowerCase(),
    quality_score: { score: 'GREEN' },
  } as unknown as MessageTemplate;
}

function history(b?: BackendCase) {
  return TemplateHistory.open(
    b ? b.open(b.location(), { migrations: [] }) : Store.open(':memory:', { migrations: [] }),
  );
}

const BODY = 'Your order has shipped and will arrive soon.';

describe('canonical form', () => {
  it('is idempotent and survives a YAML round trip', () => {
    const d: TemplateDefinition = {
      category: 'utility',
      components: [
        { type: 'footer', text: 'Reply STOP to opt out  ' },
        { text: '  Hi {{1}}, your order ships soon.\r\n', type: 'body', example: { body_text: [['Pablo']] } },
      ],
      name: 'order_update',
      language: 'en_US',
    };
    const c = canonicalize(d);
    expect(Object.keys(c)).toEqual(['name', 'language', 'category', 'parameter_format', 'components']);
    expect(c.category).toBe('UTILITY');
    expect(c.parameter_format).toBe('POSITIONAL');
    expect(c.components.map((x) => x.type)).toEqual(['BODY', 'FOOTER']);
    expect(c.components[0]!.text).toBe('Hi {{1}}, your order ships soon.');
    expect(Object.keys(c.components[0]!)).toEqual(['type', 'text', 'example']);
    expect(canonicalize(c)).toEqual(c);
    const reparsed = parseTemplateText(stringifyTemplate(c), 'x.yaml');
    expect(reparsed.definition).toEqual(c);
  });

  it('treats a button example string as a one-item list and ignores media handles when comparing', () => {
    const a = def('x', BODY, {
      components: [
        { type: 'HEADER', format: 'IMAGE', example: { header_handle: ['4::aW1hZ2U='] } },
        { type: 'BODY', text: BODY },
        { type: 'BUTTONS', buttons: [{ type: 'COPY_CODE', example: 'SAVE10' }] },
      ],
    });
    const b = def('x', BODY, {
      components: [
        {
          type: 'HEADER',
          format: 'IMAGE',
          example: { header_handle: ['https://scontent.whatsapp.net/x.jpg'] },
        },
        { type: 'BODY', text: BODY },
        { type: 'BUTTONS', buttons: [{ type: 'COPY_CODE', example: ['SAVE10'] }] },
      ],
    });
    expect(diffDefinitions(a, b)).toEqual([]);
  });

  it('compares the TTL only when the file sets it', () => {
    const withTtl = def('x', BODY, { message_send_ttl_seconds: 3600 });
    const remoteTtl = def('x', BODY, { message_send_ttl_seconds: 600 });
    expect(diffDefinitions(def('x', BODY), remoteTtl)).toEqual([]);
    expect(diffDefinitions(withTtl, remoteTtl)).toEqual(['message_send_ttl_seconds']);
  });
});

describeBackends('computePlan', (b) => {
  it('sorts create / update / unchanged / delete entries, deletes only with prune', () => {
    const h = history(b);
    const locals = [
      local(def('zeta', BODY)),
      local(def('alpha', `${BODY} Thanks!`)),
      local(def('mid', BODY)),
    ];
    const remotes = [
      remote(def('mid', BODY), 'APPROVED'),
      remote(def('alpha', BODY), 'APPROVED'),
      remote(def('old', BODY), 'APPROVED'),
    ];

    const plan = computePlan({ wabaId: WABA, local: locals, remote: remotes, history: h, now: NOW });
    expect(plan.entries.map((e) => [e.name, e.action])).toEqual([
      ['alpha', 'update'],
      ['mid', 'unchanged'],
      ['zeta', 'create'],
    ]);
    expect(plan.entries[0]!.changes).toEqual(['components']);
    expect(plan.entries[0]!.details).toEqual(['BODY.text']);
    expect(plan.remoteOnly).toBe(1);
    expect(plan.summary).toEqual({ create: 1, update: 1, delete: 0, unchanged: 1, blocked: 0 });

    const pruned = computePlan({
      wabaId: WABA,
      local: locals,
      remote: remotes,
      history: h,
      now: NOW,
      prune: true,
    });
    expect(pruned.entries.map((e) => [e.name, e.action])).toEqual([
      ['alpha', 'update'],
      ['mid', 'unchanged'],
      ['old', 'delete'],
      ['zeta', 'create'],
    ]);
  });

  it('is deterministic whatever the input order', () => {
    const h = history(b);
    const locals = ['c', 'a', 'b', 'd'].map((n) => local(def(n, BODY)));
    const remotes = [remote(def('b', BODY), 'APPROVED', '1'), remote(def('e', BODY), 'REJECTED', '2')];
    const one = computePlan({
      wabaId: WABA,
      local: locals,
      remote: remotes,
      history: h,
      now: NOW,
      prune: true,
    });
    const two = computePlan({
      wabaId: WABA,
      local: [...locals].reverse(),
      remote: [...remotes].reverse(),
      history: h,
      now: NOW,
      prune: true,
    });
    expect(JSON.stringify(planToJson(two))).toBe(JSON.stringify(planToJson(one)));
    expect(one.entries.map((e) => e.name)).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('separates languages of one name', () => {
    const h = history(b);
    const en = def('promo', BODY);
    const es = { ...def('promo', 'Su pedido fue enviado y llegará pronto a su casa.'), language: 'es' };
    const plan = computePlan({
      wabaId: WABA,
      local: [local(en), local(es)],
      remote: [remote(en, 'APPROVED')],
      history: h,
      now: NOW,
    });
    expect(plan.entries.map((e) => [e.language, e.action])).toEqual([
      ['en_US', 'unchanged'],
      ['es', 'create'],
    ]);
  });

  describe('blocked, each with why', () => {
    const changed = def('promo', `${BODY} See you soon.`);
    const original = def('promo', BODY);

    it('an APPROVED template edited less than 24 h ago', () => {
      const h = history(b);
      const r = remote(original, 'APPROVED', '77');
      h.recordEdit({
        wabaId: WABA,
        templateId: '77',
        name: 'promo',
        language: 'en_US',
        statusBefore: 'APPROVED',
        fields: ['components'],
        at: NOW - 2 * HOUR_MS,
      });
      const [e] = computePlan({
        wabaId: WABA,
        local: [local(changed)],
        remote: [r],
        history: h,
        now: NOW,
      }).entries;
      expect(e).toMatchObject({ action: 'blocked', intended: 'update', blocked: { code: 'edit_limit_24h' } });
      expect(e!.blocked!.reason).toContain(
        'once per 24 h; last edited at 2026-11-24T10:00:00Z, next edit after 2026-11-25T10:00:00Z',
      );
    });

    it('an APPROVED template edited 10 times in 30 days', () => {
      const h = history(b);
      const r = remote(original, 'APPROVED', '78');
      for (let i = 0; i < 10; i++) {
        h.recordEdit({
          wabaId: WABA,
          templateId: '78',
          name: 'promo',
          language: 'en_US',
          statusBefore: 'APPROVED',
          fields: ['components'],
          at: NOW - (2 + i * 2) * DAY_MS,
        });
      }
      const [e] = computePlan({
        wabaId: WABA,
        local: [local(changed)],
        remote: [r],
        history: h,
        now: NOW,
      }).entries;
      expect(e).toMatchObject({ action: 'blocked', blocked: { code: 'edit_limit_30d' } });
      expect(e!.blocked!.reason).toContain('10 times per 30 days');
      // 9 edits in the window: allowed
      const h2 = history(b);
      for (let i = 0; i < 9; i++) {
        h2.recordEdit({
          wabaId: WABA,
          templateId: '78',
          name: 'promo',
          language: 'en_US',
          statusBefore: 'APPROVED',
          fields: ['components'],
          at: NOW - (2 + i * 2) * DAY_MS,
        });
      }
      expect(
        computePlan({ wabaId: WABA, local: [local(changed)], remote: [r], history: h2, now: NOW }).entries[0]!
          .action,
      ).toBe('update');
    });

    it('edits made while REJECTED or PAUSED do not count', () => {
      const h = history(b);
      const r = remote(original, 'PAUSED', '79');
      h.recordEdit({
        wabaId: WABA,
        templateId: '79',
        name: 'promo',
        language: 'en_US',
        statusBefore: 'PAUSED',
        fields: ['components'],
        at: NOW - HOUR_MS,
      });
      expect(
        computePlan({ wabaId: WABA, local: [local(changed)], remote: [r], history: h, now: NOW }).entries[0]!
          .action,
      ).toBe('update');
    });

    it('a category change of an APPROVED template (allowed when REJECTED)', () => {
      const h = history(b);
      const marketing = { ...original, category: 'MARKETING' };
      const [e] = computePlan({
        wabaId: WABA,
        local: [local(marketing)],
        remote: [remote(original, 'APPROVED')],
        history: h,
        now: NOW,
      }).entries;
      expect(e).toMatchObject({
        action: 'blocked',
        changes: ['category'],
        blocked: { code: 'category_change_approved' },
      });
      expect(e!.blocked!.reason).toContain('UTILITY → MARKETING');
      const [ok] = computePlan({
        wabaId: WABA,
        local: [local(marketing)],
        remote: [remote(original, 'REJECTED')],
        history: h,
        now: NOW,
      }).entries;
      expect(ok).toMatchObject({ action: 'update', changes: ['category'] });
    });

    it('a DISABLED template cannot be deleted', () => {
      const h = history(b);
      const plan = computePlan({
        wabaId: WABA,
        local: [],
        remote: [remote(original, 'DISABLED')],
        history: h,
        now: NOW,
        prune: true,
      });
      expect(plan.entries[0]).toMatchObject({
        action: 'blocked',
        intended: 'delete',
        blocked: { code: 'delete_disabled', reason: 'DISABLED templates cannot be deleted' },
      });
    });

    it('a deleted APPROVED name is blocked for 30 days', () => {
      const h = history(b);
      h.recordDeletion({
        wabaId: WABA,
        templateId: '80',
        name: 'promo',
        language: 'en_US',
        statusBefore: 'APPROVED',
        at: NOW - 5 * DAY_MS,
      });
      const [e] = computePlan({
        wabaId: WABA,
        local: [local(original)],
        remote: [],
        history: h,
        now: NOW,
      }).entries;
      expect(e).toMatchObject({ action: 'blocked', intended: 'create', blocked: { code: 'name_reuse_30d' } });
      expect(e!.blocked!.reason).toContain('until 2026-12-19T12:00:00Z');
      // another language of the name, and the same name after 30 days, are fine
      const other = { ...original, language: 'es' };
      expect(
        computePlan({ wabaId: WABA, local: [local(other)], remote: [], history: h, now: NOW }).entries[0]!
          .action,
      ).toBe('create');
      expect(
        computePlan({
          wabaId: WABA,
          local: [local(original)],
          remote: [],
          history: h,
          now: NOW + 26 * DAY_MS,
        }).entries[0]!.action,
      ).toBe('create');
      // a deleted REJECTED template does not block its name
      const h2 = history(b);
      h2.recordDeletion({
        wabaId: WABA,
        templateId: '81',
        name: 'promo',
        language: 'en_US',
        statusBefore: 'REJECTED',
        at: NOW - DAY_MS,
      });
      expect(
        computePlan({ wabaId: WABA, local: [local(original)], remote: [], history: h2, now: NOW }).entries[0]!
          .action,
      ).toBe('create');
    });

    it('a template under review, or DISABLED, cannot be edited', () => {
      const h = history(b);
      const [pending] = computePlan({
        wabaId: WABA,
        local: [local(changed)],
        remote: [remote(original, 'PENDING')],
        history: h,
        now: NOW,
      }).entries;
      expect(pending).toMatchObject({ action: 'blocked', blocked: { code: 'under_review' } });
      const [disabled] = computePlan({
        wabaId: WABA,
        local: [local(changed)],
        remote: [remote(original, 'DISABLED')],
        history: h,
        now: NOW,
      }).entries;
      expect(disabled).toMatchObject({ action: 'blocked', blocked: { code: 'not_editable' } });
      // unchanged is never blocked
      const [same] = computePlan({
        wabaId: WABA,
        local: [local(original)],
        remote: [remote(original, 'PENDING')],
        history: h,
        now: NOW,
      }).entries;
      expect(same!.action).toBe('unchanged');
    });
  });

  it('builds edit requests with only what changed', () => {
    const d = canonicalize(def('x', BODY, { category: 'MARKETING', message_send_ttl_seconds: 86_400 }));
    expect(editRequest(d, ['components'])).toEqual({ components: d.components });
    expect(editRequest(d, ['category'])).toEqual({ category: 'MARKETING' });
    expect(editRequest(d, ['message_send_ttl_seconds'])).toEqual({ message_send_ttl_seconds: 86_400 });
    expect(editRequest(d, ['parameter_format'])).toEqual({
      components: d.components,
      parameter_format: 'POSITIONAL',
    });
  });
});

describe('Direct Send templates (source AUTO_GENERATED) in the plan', () => {
  const generated = {
    ...remote(def('order_shipped', BODY), 'APPROVED'),
    source: 'AUTO_GENERATED',
  } as MessageTemplate;

  it('are never diffed or pruned, and are counted as unmanaged', () => {
    const plan = computePlan({
      wabaId: WABA,
      local: [],
      remote: [generated, remote(def('old_note', BODY), 'APPROVED')],
      history: history(),
      now: NOW,
      prune: true,
    });
    expect(plan.entries.map((e) => `${e.action} ${e.name}`)).toEqual(['delete old_note']);
    expect(plan.unmanaged).toBe(1);
    expect(plan.remoteOnly).toBe(1);
    expect((planToJson(plan) as { unmanaged: number }).unmanaged).toBe(1);
  });

  it('a local template with the same name (e.g. through `templates update`) is blocked, never sent', () => {
    const plan = computePlan({
      wabaId: WABA,
      local: [local(def('order_shipped', 'Something else entirely, for our customers.'))],
      remote: [generated],
      history: history(),
      now: NOW,
    });
    expect(plan.entries).toHaveLength(1);
    expect(plan.entries[0]).toMatchObject({ action: 'blocked', intended: 'update', id: generated.id });
    expect(plan.entries[0]!.blocked).toMatchObject({ code: 'auto_generated' });
    expect(plan.entries[0]!.blocked!.reason).toContain('2388318');
  });
});

describe('fetchAllTemplates', () => {
  const page = (items: MessageTemplate[]) =>
    (async function* () {
      yield* items;
    })();
  const plain = remote(def('order_note', BODY), 'APPROVED');

  it('marks the source=AUTO_GENERATED set, and reads a WABA that does not know `source` without it', async () => {
    const { fetchAllTemplates } = await import('../../src/lib/templates/push.js');
    const { parseGraphError } = await import('../../src/lib/graph/errors.js');
    const auto = remote(def('auto_generated_1', BODY), 'APPROVED');
    const calls: string[] = [];
    const graphWith = (knowsSource: boolean) =>
      ({
        templates: {
          list(_waba: string, filter: { source?: string }, fields?: readonly string[]) {
            calls.push(`${filter.source ?? 'all'}:${fields?.includes('source') ? 'source' : '-'}`);
            if (!knowsSource && fields?.includes('source'))
              throw parseGraphError(
                400,
                JSON.stringify({
                  error: { code: 100, message: '(#100) Tried accessing nonexisting field (source)' },
                }),
              );
            return page(filter.source ? [auto] : [plain, auto]);
          },
        },
      }) as never;
    const all = await fetchAllTemplates(graphWith(true), WABA);
    expect(all.map((t) => [t.name, (t as { source?: string }).source ?? null])).toEqual([
      ['order_note', null],
      ['auto_generated_1', 'AUTO_GENERATED'],
    ]);
    calls.length = 0;
    const fallback = await fetchAllTemplates(graphWith(false), WABA);
    expect(fallback.map((t) => t.name)).toEqual(['order_note', 'auto_generated_1']);
    expect(calls).toEqual(['all:source', 'all:-']);
  });
});
