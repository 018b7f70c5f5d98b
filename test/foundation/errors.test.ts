import { afterEach, describe, expect, it } from 'vitest';
import { hintFor, hintForGraphCode } from '../../src/cli/hints.js';
import { FakeClock } from '../../src/lib/clock.js';
import { CancelledError, ConfigError, PendingError, UsageError, WacxError } from '../../src/lib/errors.js';
import { EXIT_CODE_TABLE, exitCodeFor } from '../../src/lib/exit-codes.js';
import { ERROR_CODES } from '../../src/lib/graph/error-codes.js';
import {
  GraphApiError,
  GraphNetworkError,
  parseGraphError,
  parseRetryAfter,
  UnknownOutcomeError,
} from '../../src/lib/graph/errors.js';
import { tempHome } from '../helpers/cli.js';
import { graphError, run, startServer, type TestServer } from './support.js';

const envelope = (e: Record<string, unknown>) => JSON.stringify({ error: e });

describe('Graph error envelope parsing', () => {
  it('reads every field of the envelope (meta-cloud-api.md §7.1)', () => {
    const e = parseGraphError(
      400,
      envelope({
        message: '(#130429) Rate limit hit',
        type: 'OAuthException',
        code: 130429,
        error_data: {
          messaging_product: 'whatsapp',
          details: 'Cloud API message throughput has been reached.',
        },
        error_subcode: 2494055,
        fbtrace_id: 'Az8or2yhqkZfEZ-_4Qn_Bam',
      }),
      '3',
    );
    expect(e).toBeInstanceOf(GraphApiError);
    expect(e).toMatchObject({
      status: 400,
      code: 130429,
      subcode: 2494055,
      type: 'OAuthException',
      message: '(#130429) Rate limit hit',
      details: 'Cloud API message throughput has been reached.',
      fbtraceId: 'Az8or2yhqkZfEZ-_4Qn_Bam',
      category: 'throttling',
      retryable: true,
      retryAfterSeconds: 3,
    });
    // the API core explains in Meta's terms; the cli layer names the flag
    expect(e.hint).not.toMatch(/--rate/);
    expect(hintFor(e)).toMatch(/--rate/);
  });

  const cases: [string, number, number, string, boolean][] = [
    // [category, HTTP status, code, expected category, retryable]
    ['auth', 401, 190, 'auth', false],
    ['auth', 401, 0, 'auth', false],
    ['auth', 403, 10, 'auth', false],
    ['auth (200-299 range)', 403, 294, 'auth', false],
    ['throttling', 400, 4, 'throttling', true],
    ['throttling', 400, 131056, 'throttling', true],
    ['throttling (quality, not retryable)', 400, 131048, 'throttling', false],
    ['template', 404, 132001, 'template', false],
    ['template', 400, 132000, 'template', false],
    ['parameter', 400, 100, 'parameter', false],
    ['parameter', 400, 131026, 'parameter', false],
    ['coexistence', 400, 2593107, 'coexistence', false],
    ['coexistence', 400, 133010, 'coexistence', false],
    ['transient', 500, 131000, 'transient', true],
    ['transient', 503, 133004, 'transient', true],
  ];
  it.each(cases)('%s: HTTP %i code %i → %s (retryable %s)', (_label, status, code, category, retryable) => {
    const e = parseGraphError(status, envelope({ message: `(#${code}) x`, code, type: 'OAuthException' }));
    expect(e.category).toBe(category);
    expect(e.retryable).toBe(retryable);
    expect(e.hint).toBeTruthy();
    expect(exitCodeFor(e)).toBe(category === 'auth' ? 4 : 1);
  });

  it('categorises answers that are not the Graph envelope by HTTP status (never as auth code 0)', () => {
    const html = parseGraphError(502, '<html><body>Bad gateway</body></html>');
    expect(html.category).toBe('transient');
    expect(html.retryable).toBe(true);
    expect(html.code).toBe(0);
    expect(html.message).toContain('HTTP 502');
    expect(exitCodeFor(html)).toBe(1);
    expect(parseGraphError(429, '').category).toBe('throttling');
    expect(parseGraphError(401, 'nope').category).toBe('auth');
    expect(parseGraphError(400, '{"error":"x"}').category).toBe('parameter');
  });

  it('reads an envelope field of another type as absent', () => {
    const e = parseGraphError(401, JSON.stringify({ error: { message: 42, code: '190', fbtrace_id: 'T' } }));
    expect(e.code).toBe(0);
    expect(e.tableCode).toBeUndefined();
    expect(e.category).toBe('auth');
    expect(e.fbtraceId).toBe('T');
    expect(e.message).toMatch(/^HTTP 401: /);
    expect(parseGraphError(400, '{"error":[1]}').message).toBe('HTTP 400: {"error":[1]}');
  });

  it('marks unknown codes by status and is_transient', () => {
    expect(parseGraphError(400, envelope({ code: 999999, message: 'x', is_transient: true })).category).toBe(
      'transient',
    );
    expect(parseGraphError(400, envelope({ code: 999999, message: 'x' })).category).toBe('parameter');
    expect(parseGraphError(500, envelope({ code: 999999, message: 'x' })).retryable).toBe(true);
  });

  it('keeps Meta user-facing texts and falls back to them as the hint', () => {
    const e = parseGraphError(
      400,
      envelope({
        code: 999998,
        message: 'x',
        error_user_title: 'Bad thing',
        error_user_msg: 'Do this instead',
      }),
    );
    expect(e.userTitle).toBe('Bad thing');
    expect(e.hint).toBe('Do this instead');
  });

  it('has a hint and a category for every code of the §7.2 table', () => {
    expect(ERROR_CODES.size).toBeGreaterThan(50);
    for (const [code, info] of ERROR_CODES) {
      expect(info.hint.length, `code ${code}`).toBeGreaterThan(10);
      expect(['auth', 'throttling', 'template', 'parameter', 'coexistence', 'transient']).toContain(
        info.category,
      );
    }
  });

  it('parses Retry-After as seconds or an HTTP date', () => {
    expect(parseRetryAfter('12')).toBe(12);
    expect(parseRetryAfter(new Date(2_000_000).toUTCString(), 1_000_000)).toBe(1000);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(undefined)).toBeUndefined();
  });
});

describe('exit codes: one mapping', () => {
  it('maps every error kind to its code', () => {
    expect(exitCodeFor(new WacxError('x'))).toBe(1);
    expect(exitCodeFor(new UsageError('x'))).toBe(2);
    expect(exitCodeFor(new ConfigError('x'))).toBe(4);
    expect(exitCodeFor(new PendingError('x'))).toBe(8);
    expect(exitCodeFor(new CancelledError())).toBe(130);
    expect(exitCodeFor(new GraphNetworkError('x'))).toBe(1);
    expect(exitCodeFor(new UnknownOutcomeError('x'))).toBe(1);
    expect(exitCodeFor(Object.assign(new Error('x'), { name: 'ExitPromptError' }))).toBe(130);
    expect(exitCodeFor(new Error('boom'))).toBe(1);
    expect(EXIT_CODE_TABLE.map(([c]) => c)).toEqual([0, 1, 2, 3, 4, 8, 130]);
  });
});

describe('error answers through the CLI', () => {
  const home = tempHome();
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  const categories: [string, number, number, number][] = [
    ['auth', 401, 190, 4],
    ['throttling', 400, 80007, 1],
    ['template', 404, 132001, 1],
    ['parameter', 400, 100, 1],
    ['coexistence', 400, 133010, 1],
    ['transient', 503, 133004, 1],
  ];
  it.each(categories)(
    'a %s error (HTTP %i, code %i) exits %i with its hint',
    async (category, status, code, exit) => {
      server = await startServer((_req, res) =>
        graphError(res, status, { code, message: `(#${code}) failure ${category}` }),
      );
      const r = await run(['auth', 'login', '--token', 'EAAERRTOKEN0123456789', '--waba-id', '123'], {
        env: { ...home.env, WACX_GRAPH_URL: server.url },
        clock: new FakeClock(),
      });
      expect(r.code).toBe(exit);
      expect(r.stdout).toBe('');
      const hint = hintForGraphCode(code) ?? ERROR_CODES.get(code)!.hint;
      if (category === 'auth') {
        expect(r.stderr).toContain('The token is not valid');
      } else {
        expect(r.stderr).toContain(`(#${code}) failure ${category}`);
        expect(r.stderr).toContain(`code ${code} · ${category} · HTTP ${status} · fbtrace_id AtestTrace123`);
        expect(r.stderr).toContain(hint);
      }
      // retryable categories were retried (FakeClock: no real waiting), the others asked once
      const retried = category === 'throttling' || category === 'transient';
      expect(server.requests.length).toBe(retried ? 4 : 1);
    },
  );
});
