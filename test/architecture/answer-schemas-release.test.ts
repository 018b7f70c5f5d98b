/** zod, loaded to check API answers, is let go again: a long campaign run does not keep it for nothing. */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { ANSWERS, releaseAnswerSchemas } from '../../src/lib/graph/answers.js';

const require = createRequire(import.meta.url);
const zodModules = () => Object.keys(require.cache).filter((f) => f.includes('/node_modules/zod/')).length;

describe('answer schemas (lib/graph/answers.ts)', () => {
  it('loads zod for the first answer checked and releases it, with its globals; the next check loads it again', () => {
    releaseAnswerSchemas();
    expect(zodModules()).toBe(0);
    expect(ANSWERS.phoneNumber.read({ id: '123', display_phone_number: '+1 555' }).ok).toBe(true);
    expect(zodModules()).toBeGreaterThan(10);
    expect('__zod_globalRegistry' in globalThis).toBe(true);

    releaseAnswerSchemas();
    expect(zodModules()).toBe(0);
    expect('__zod_globalRegistry' in globalThis).toBe(false);
    expect('__zod_globalConfig' in globalThis).toBe(false);

    const wrong = ANSWERS.phoneNumber.read({ id: 123 });
    expect(wrong).toEqual({ ok: false, path: ['id'], problem: 'expected string, received number' });
    expect(zodModules()).toBeGreaterThan(10);
    releaseAnswerSchemas();
  });
});
