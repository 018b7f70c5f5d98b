import { describe, expect, it } from 'vitest';
import { parseNdjson } from '../../src/lib/webhooks/ndjson.js';

const lineError = (text: string) => {
  try {
    parseNdjson(text, 'in.ndjson');
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected a usage error');
};

describe('parseNdjson', () => {
  it('reads bare payloads and captured deliveries (signature under its header name too)', () => {
    const lines = parseNdjson(
      [
        '# a comment',
        '{"object":"whatsapp_business_account","entry":[]}',
        '',
        '{"body":"{}","signature":"sha256=ab"}',
        '{"body":"{}","X-Hub-Signature-256":"sha256=cd","extra":1}',
        '{"body":"{}"}',
      ].join('\n'),
      'in.ndjson',
    );
    expect(lines).toEqual([
      { line: 2, body: '{"object":"whatsapp_business_account","entry":[]}', signature: null },
      { line: 4, body: '{}', signature: 'sha256=ab' },
      { line: 5, body: '{}', signature: 'sha256=cd' },
      { line: 6, body: '{}', signature: null },
    ]);
  });

  it('names the line and what is wrong with it', () => {
    expect(lineError('{}\n[1,2]')).toBe('in.ndjson:2: expected a JSON object on this line.');
    expect(lineError('"text"')).toBe('in.ndjson:1: expected a JSON object on this line.');
    expect(lineError('{"body":{"entry":[]}}')).toBe(
      'in.ndjson:1: "body" must be the raw request body as a JSON string.',
    );
    expect(lineError('{"body":"{}","signature":42}')).toBe(
      'in.ndjson:1: "signature" must be a string like "sha256=<hex>".',
    );
    expect(lineError('{"body":1,"signature":42}')).toMatch(/"body" must be/);
  });
});
