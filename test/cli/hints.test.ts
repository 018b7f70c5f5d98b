import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hintFor, hintForGraphCode, recordedHint } from '../../src/cli/hints.js';
import { UsageError } from '../../src/lib/errors.js';
import { ERROR_CODES } from '../../src/lib/graph/error-codes.js';
import { GraphNetworkError, parseGraphError, UnknownOutcomeError } from '../../src/lib/graph/errors.js';

const answer = (status: number, error: Record<string, unknown>) =>
  parseGraphError(status, JSON.stringify({ error }));

describe('hintFor: the hints that name wacx commands or flags', () => {
  // The texts users saw before they moved out of the API core, word for word.
  const byCode: [number, string][] = [
    [0, 'The token was invalidated or blocked: run `wacx auth login` with a new token.'],
    [33, 'The object does not exist or was deleted: check the ids in your profile (`wacx config list`).'],
    [190, 'The token expired or was revoked: run `wacx auth login` (or re-onboard the business).'],
    [200, 'The token has no permission on this asset: check its granular scopes with `wacx auth status`.'],
    [
      2635,
      'This Graph API version is deprecated or unknown: use --api-version v25.0 (or `wacx config set apiVersion v25.0`).',
    ],
    [130429, 'Throughput exceeded: lower --rate (coexistence numbers allow 20 messages/s).'],
    [132000, 'Pass exactly the parameters the template declares (`wacx templates get NAME`).'],
    [132001, 'Check the template name and language, and that it is APPROVED (`wacx templates list`).'],
    [
      133010,
      'For a coexistence number: check it was not offboarded (`wacx doctor`); wait for ACCOUNT_RECONNECTED.',
    ],
    [
      2388024,
      'A template with this name and language exists: change it with `wacx templates update`, or manage files with `wacx templates plan|push`.',
    ],
    [2388040, 'Shorten the component text (header/footer 60, body 1024): run `wacx templates lint`.'],
    [2388047, 'Fix the header (one variable at most, no line breaks): run `wacx templates lint`.'],
    [2388072, 'Fix the body text and its examples: run `wacx templates lint`.'],
  ];

  it.each(byCode)('code %i', (code, text) => {
    expect(hintFor(answer(400, { code, message: 'x' }))).toBe(text);
  });

  it('by code alone, for errors kept as a code (campaign stops, onboarding results)', () => {
    for (const [code, text] of byCode) expect(hintForGraphCode(code)).toBe(text);
    expect(hintForGraphCode(294)).toBe(byCode[3]![1]);
    expect(hintForGraphCode(131026)).toBeUndefined();
    expect(hintForGraphCode(999999)).toBeUndefined();
  });

  it('a known subcode wins over the code, and the 200–299 range shares 200', () => {
    expect(hintFor(answer(400, { code: 100, error_subcode: 2388040, message: 'x' }))).toBe(byCode[10]![1]);
    expect(hintFor(answer(403, { code: 294, message: 'x' }))).toBe(byCode[3]![1]);
  });

  it('a refused appsecret_proof', () => {
    expect(
      hintFor(answer(400, { code: 100, message: 'Invalid appsecret_proof provided in the API argument' })),
    ).toBe(
      "The app secret does not match the token's app: check WACX_APP_SECRET or the app secret stored with `wacx auth login`.",
    );
  });

  it('401 and 403 outside the table, unless Meta wrote words for people', () => {
    expect(hintFor(parseGraphError(401, 'nope'))).toBe(
      'The token was rejected: run `wacx auth login` with a valid token.',
    );
    expect(hintFor(parseGraphError(403, ''))).toBe(
      'The token lacks a permission for this asset: check its scopes with `wacx auth status`.',
    );
    const withWords = answer(401, { code: 999999, message: 'x', error_user_msg: 'Log in again' });
    expect(hintFor(withWords)).toBeUndefined();
    expect(withWords.hint).toBe('Log in again');
  });

  it('a network error', () => {
    expect(hintFor(new GraphNetworkError('ECONNREFUSED'))).toBe(
      'Check your network connection and the Graph URL (`wacx config get graphUrl`).',
    );
  });

  it('leaves the other errors to their own hint', () => {
    const plain = answer(400, { code: 131026, message: 'x' });
    expect(hintFor(plain)).toBeUndefined();
    expect(plain.hint).toBe(ERROR_CODES.get(131026)!.hint);
    expect(hintFor(parseGraphError(500, '<html>'))).toBeUndefined();
    expect(hintFor(new UnknownOutcomeError('reset'))).toBeUndefined();
    expect(hintFor(new UsageError('x', { hint: 'own' }))).toBeUndefined();
    expect(hintFor('not an error')).toBeUndefined();
  });

  it('every moved code still has a neutral explanation in the API core', () => {
    for (const [code, text] of byCode) {
      const neutral = answer(400, { code, message: 'x' }).hint;
      expect(neutral, `code ${code}`).toBeTruthy();
      expect(neutral).not.toBe(text);
    }
  });
});

describe('the API core knows no command', () => {
  function files(dir: string): string[] {
    return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)],
    );
  }

  it('no file under src/lib/graph names a wacx command', () => {
    const graphDir = join(import.meta.dirname, '../../src/lib/graph');
    expect(files(graphDir).length).toBeGreaterThan(5);
    const naming = files(graphDir).filter((f) => readFileSync(f, 'utf8').includes('`wacx '));
    expect(naming).toEqual([]);
  });
});

describe('hints of errors recorded as code and hint (a campaign stop, an onboarding result)', () => {
  it("wacx's own hint for the code where it has one, else the recorded one", () => {
    expect(recordedHint({ code: 190, hint: "Meta's words" })).toBe(hintForGraphCode(190));
    expect(recordedHint({ code: 190, hint: null })).toContain('wacx auth login');
    expect(recordedHint({ code: null, hint: 'kept' })).toBe('kept');
    expect(recordedHint({ code: 999_999, hint: null })).toBeNull();
  });
});
