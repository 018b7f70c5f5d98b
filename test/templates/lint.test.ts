import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadTemplateFile } from '../../src/lib/templates/files.js';
import { runCli, tempHome } from '../helpers/cli.js';

// One fixture per rule. The YAML syntax-error fixture is named *.yaml.txt so that the repository's own
// formatter (biome) does not try to parse it; it is loaded like any other template file.
const FIXTURES = join(import.meta.dirname, 'fixtures', 'lint');

interface Expectation {
  line: number;
  column: number;
  severity: 'error' | 'warning';
  text: string;
}

/** `# expect: LINE:COL severity message…` lines at the top of each fixture (or `# expect: none`). */
function expectations(file: string): Expectation[] | 'none' {
  if (file.endsWith('.json')) return 'none'; // JSON has no comments: JSON fixtures must be clean
  const out: Expectation[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^# expect: (.*)$/.exec(line);
    if (!m) break;
    if (m[1] === 'none') return 'none';
    const e = /^(\d+):(\d+) (error|warning) (.*)$/.exec(m[1]!);
    if (!e) throw new Error(`bad expectation in ${file}: ${line}`);
    out.push({
      line: Number(e[1]),
      column: Number(e[2]),
      severity: e[3] as 'error' | 'warning',
      text: e[4]!,
    });
  }
  if (out.length === 0) throw new Error(`fixture ${file} has no expectation`);
  return out;
}

const fixtures = readdirSync(FIXTURES).sort();

describe('lint: one fixture per rule, each problem at its file:line:col', () => {
  it('has fixtures', () => {
    expect(fixtures.length).toBeGreaterThan(40);
  });
  for (const name of fixtures) {
    it(name, async () => {
      const file = join(FIXTURES, name);
      const want = expectations(file);
      const { problems } = await loadTemplateFile(file);
      const got = problems.map((p) => ({
        line: p.line,
        column: p.column,
        severity: p.severity,
        text: `${p.message}${p.subcode ? ` [${p.subcode}]` : ''}`,
      }));
      if (want === 'none') {
        expect(got).toEqual([]);
        return;
      }
      expect(got).toHaveLength(want.length);
      for (const w of want) {
        const hit = got.find(
          (g) =>
            g.line === w.line &&
            g.column === w.column &&
            g.severity === w.severity &&
            g.text.startsWith(w.text),
        );
        expect(
          hit,
          `expected ${w.line}:${w.column} ${w.severity} ${w.text}\n got ${JSON.stringify(got, null, 1)}`,
        ).toBeDefined();
      }
    });
  }
});

describe('wacx templates lint', () => {
  const home = tempHome();
  const dirs: string[] = [];
  afterAll(() => {
    home.cleanup();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  const tempDir = () => {
    const d = mkdtempSync(join(tmpdir(), 'wacx-lint-'));
    dirs.push(d);
    return d;
  };

  it('prints file:line:col: error: message and exits 2 on an error', async () => {
    const file = join(FIXTURES, 'variable-at-start.yaml');
    const r = await runCli(['templates', 'lint', file], { env: home.env });
    expect(r.code).toBe(2);
    expect(r.stdout.trim()).toBe(
      `${file}:7:11: error: body text cannot start with a variable ({{1}}); put words before it [2388299]`,
    );
    expect(r.stderr).toContain('1 error(s), 0 warning(s)');
  });

  it('exits 0 with warnings only, and prints them', async () => {
    const file = join(FIXTURES, 'variable-before-punctuation.yaml');
    const r = await runCli(['templates', 'lint', file], { env: home.env });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      `${file}:7:11: warning: body text ends with a variable followed only by punctuation`,
    );
  });

  it('exits 0 on a clean directory (YAML and JSON files)', async () => {
    const dir = tempDir();
    for (const f of ['valid.yaml', 'valid-named.json', 'valid-auth.yaml']) {
      writeFileSync(join(dir, f), readFileSync(join(FIXTURES, f)));
    }
    const r = await runCli(['templates', 'lint', dir], { env: home.env });
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('3 file(s) checked: 0 error(s), 0 warning(s)');
    expect(r.code).toBe(0);
  });

  it('--json lists every problem with keys always present', async () => {
    const file = join(FIXTURES, 'mixed-variables.yaml');
    const r = await runCli(['templates', 'lint', file, '--json'], { env: home.env });
    expect(r.code).toBe(2);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({ files: 1, errors: 2, warnings: 0 });
    expect(doc.problems).toHaveLength(2);
    for (const p of doc.problems) {
      expect(Object.keys(p).sort()).toEqual([
        'column',
        'file',
        'line',
        'message',
        'path',
        'severity',
        'subcode',
      ]);
    }
    expect(doc.problems[0]).toMatchObject({ line: 8, column: 3, path: 'components', subcode: null });
    expect(doc.problems[1]).toMatchObject({
      line: 10,
      column: 11,
      path: 'components[0].text',
      subcode: 2388047,
    });
  });

  it('reports two files defining the same name and language', async () => {
    const dir = tempDir();
    const text = readFileSync(join(FIXTURES, 'valid.yaml'), 'utf8');
    writeFileSync(join(dir, 'a.yaml'), text);
    writeFileSync(join(dir, 'b.yaml'), text);
    const r = await runCli(['templates', 'lint', dir], { env: home.env });
    expect(r.code).toBe(2);
    expect(r.stdout).toContain(
      `${join(dir, 'b.yaml')}:1:1: error: order_update (en_US) is also defined in ${join(dir, 'a.yaml')}`,
    );
  });

  it('is a usage error (exit 2) for a missing path or a directory without template files', async () => {
    const missing = await runCli(['templates', 'lint', join(tempDir(), 'nope')], { env: home.env });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('No such file or directory');
    const empty = await runCli(['templates', 'lint', tempDir()], { env: home.env });
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain('No template files');
  });
});
