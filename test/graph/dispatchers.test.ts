import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { undiciDispatchers } from '../../src/lib/graph/dispatchers.js';

const require = createRequire(import.meta.url);

describe('undiciDispatchers', () => {
  it("are the very Agent and Pool classes undici's package exports (the files it loads on their own are still there)", () => {
    const undici = require('undici') as typeof import('undici');
    const { Agent, Pool } = undiciDispatchers();
    expect(Agent).toBe(undici.Agent);
    expect(Pool).toBe(undici.Pool);
  });
});
