import { describe, expect, it } from 'vitest';
import { TEMPLATE_LANGUAGES } from '../../src/lib/templates/languages.js';
import {
  checkTemplate,
  hasErrors,
  type TemplateDefinition,
  templateVariables,
} from '../../src/lib/templates/rules.js';

const ok: TemplateDefinition = {
  name: 'order_update',
  category: 'UTILITY',
  language: 'en_US',
  parameter_format: 'NAMED',
  components: [
    {
      type: 'HEADER',
      format: 'TEXT',
      text: 'Order {{order_id}}',
      example: { header_text_named_params: [{ param_name: 'order_id', example: 'A-1001' }] },
    },
    {
      type: 'BODY',
      text: 'Hi {{first_name}}, your order ships on {{date}}. Thank you!',
      example: {
        body_text_named_params: [
          { param_name: 'first_name', example: 'Pablo' },
          { param_name: 'date', example: 'May 1' },
        ],
      },
    },
    { type: 'FOOTER', text: 'Reply STOP to opt out' },
    {
      type: 'BUTTONS',
      buttons: [
        { type: 'QUICK_REPLY', text: 'Stop updates' },
        {
          type: 'URL',
          text: 'Track',
          url: 'https://shop.example.com/t/{{1}}',
          example: ['https://shop.example.com/t/A-1001'],
        },
        { type: 'PHONE_NUMBER', text: 'Call us', phone_number: '+15550051310' },
      ],
    },
  ],
};

describe('checkTemplate', () => {
  it("accepts Meta's documented example (§5.1)", () => {
    expect(checkTemplate(ok)).toEqual([]);
  });

  it('accepts enums in any case, as the API does', () => {
    const lower = JSON.parse(
      JSON.stringify(ok).replace(
        /"(HEADER|BODY|FOOTER|BUTTONS|TEXT|UTILITY|NAMED|QUICK_REPLY|URL|PHONE_NUMBER)"/g,
        (m) => m.toLowerCase(),
      ),
    );
    expect(checkTemplate(lower)).toEqual([]);
  });

  it('never throws on junk', () => {
    for (const junk of [null, 42, 'x', [], { components: 'x' }, { components: [null, 1, { type: 3 }] }]) {
      const problems = checkTemplate(junk);
      expect(hasErrors(problems)).toBe(true);
    }
    expect(checkTemplate(null)).toEqual([
      {
        path: '',
        message: 'a template must be an object with name, language, category and components',
        severity: 'error',
      },
    ]);
  });

  it('knows the 111 supported language codes', () => {
    expect(TEMPLATE_LANGUAGES).toHaveLength(111);
    expect(new Set(TEMPLATE_LANGUAGES).size).toBe(111);
    for (const code of ['en_US', 'pt_BR', 'es_MX', 'zh_TW', 'prs_AF', 'ky_KG', 'zu']) {
      expect(checkTemplate({ ...ok, language: code }).filter((p) => p.path === 'language')).toEqual([]);
    }
    expect(checkTemplate({ ...ok, language: 'pt' })[0]).toMatchObject({
      path: 'language',
      message: expect.stringContaining('did you mean "pt_BR"'),
    });
  });

  it('carries the creation subcodes the sandbox answers with', () => {
    const body = (text: string) => ({
      ...ok,
      parameter_format: 'POSITIONAL' as const,
      components: [{ type: 'BODY', text }],
    });
    expect(checkTemplate(body('x'.repeat(1025)))[0]!.subcode).toBe(2388040);
    expect(
      checkTemplate({
        ...body('{{1}} is here, with plenty of other words around it.'),
        components: [
          {
            type: 'BODY',
            text: '{{1}} is here, with plenty of other words around it.',
            example: { body_text: [['A']] },
          },
        ],
      })[0]!.subcode,
    ).toBe(2388299);
    expect(
      checkTemplate({
        ...body('a {{1}} b {{2}} c'),
        components: [{ type: 'BODY', text: 'a {{1}} b {{2}} c.', example: { body_text: [['A', 'B']] } }],
      }).map((p) => p.subcode),
    ).toContain(2388293);
  });

  it('checks AUTHENTICATION templates by their own shape', () => {
    const auth = {
      name: 'login_code',
      language: 'en',
      category: 'AUTHENTICATION',
      components: [
        { type: 'BODY', add_security_recommendation: true },
        { type: 'FOOTER', code_expiration_minutes: 91 },
        { type: 'BUTTONS', buttons: [{ type: 'QUICK_REPLY', text: 'No' }] },
      ],
    };
    const messages = checkTemplate(auth).map((p) => `${p.path}: ${p.message}`);
    expect(messages).toEqual([
      'components[1].code_expiration_minutes: code_expiration_minutes must be a whole number from 1 to 90',
      'components[2].buttons: an AUTHENTICATION template has exactly one button, of type OTP',
    ]);
  });
});

describe('templateVariables', () => {
  it('lists header, body and URL button variables', () => {
    expect(templateVariables(ok)).toEqual({
      header: ['order_id'],
      body: ['first_name', 'date'],
      buttons: [{ index: 1, vars: ['1'] }],
    });
  });
  it('sorts positional variables by number and lists each once', () => {
    const d: TemplateDefinition = {
      name: 'x',
      language: 'en',
      category: 'UTILITY',
      components: [{ type: 'BODY', text: 'Dear {{2}}, order {{1}} for {{2}} is ready to collect today.' }],
    };
    expect(templateVariables(d)).toEqual({ header: [], body: ['1', '2'], buttons: [] });
  });
});
