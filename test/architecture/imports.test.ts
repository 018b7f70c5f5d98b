import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { checkImports } from './import-rules.js';

const src = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src');

describe('the import rules of the house', () => {
  it('hold for src/', () => {
    expect(checkImports(src)).toEqual([]);
  });
});

describe('each rule catches its forbidden import (fixture trees)', () => {
  const roots: string[] = [];
  afterAll(() => {
    for (const r of roots) rmSync(r, { recursive: true, force: true });
  });

  /** A tree whose files import what `files` says: { 'lib/a/x.ts': ['../../cli/main.js'] }. */
  function tree(files: Record<string, string[]>): string {
    const root = mkdtempSync(join(tmpdir(), 'wacx-imports-'));
    roots.push(root);
    for (const [path, imports] of Object.entries(files)) {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), imports.map((i, n) => `import { x${n} } from '${i}';\n`).join(''));
    }
    return root;
  }

  const baseline = {
    'cli/main.ts': ['./registry.js', './define.js'],
    'cli/registry.ts': [],
    'cli/define.ts': [],
    'commands/templates/list.ts': ['../../cli/define.js', './shared.js', '../../lib/templates/files.js'],
    'commands/templates/shared.ts': ['../../lib/graph/client.js'],
    'commands/send.ts': ['../cli/define.js'],
    'lib/templates/files.ts': ['../graph/client.js', '../errors.js'],
    'lib/graph/client.ts': ['../errors.js', './resources/messages.js'],
    'lib/graph/resources/messages.ts': ['../client.js'],
    'lib/errors.ts': [],
    'sandbox/index.ts': ['../lib/templates/files.js'],
  };

  it('a clean tree has no violation', () => {
    expect(checkImports(tree(baseline))).toEqual([]);
  });

  it.each([
    ['commands/send.ts', '../cli/main.js', 'a command imports the cli entry point or the registry'],
    ['commands/send.ts', '../cli/registry.js', 'a command imports the cli entry point or the registry'],
    ['commands/send.ts', './templates/list.js', 'a command imports another command'],
    ['commands/templates/list.ts', './get.js', 'a command imports another command'],
    ['commands/send.ts', '../sandbox/index.js', 'a command other than `sandbox` imports the sandbox'],
    ['lib/templates/files.ts', '../../commands/send.js', 'lib imports commands or the cli layer'],
    ['lib/templates/files.ts', '../../cli/define.js', 'lib imports commands or the cli layer'],
    ['lib/templates/files.ts', '../../sandbox/index.js', 'lib imports the sandbox'],
    ['lib/graph/client.ts', '../templates/files.js', 'the API core imports something above it'],
    ['cli/define.ts', './main.js', 'the cli kit imports the entry point'],
  ])('%s importing %s: "%s"', (from, spec, rule) => {
    const files: Record<string, string[]> = structuredClone(baseline);
    files[from] = [...(files[from] ?? []), spec];
    if (spec.endsWith('get.js')) files['commands/templates/get.ts'] = [];
    const violations = checkImports(tree(files));
    expect(violations.map((v) => v.rule)).toContain(rule);
    expect(violations.find((v) => v.rule === rule)?.from).toBe(from);
  });

  it('a cycle between two domains is named with its rooms', () => {
    const files: Record<string, string[]> = structuredClone(baseline);
    files['lib/history/status.ts'] = ['../webhooks/queries.js'];
    files['lib/webhooks/queries.ts'] = ['../history/sync.js'];
    files['lib/history/sync.ts'] = [];
    const cycles = checkImports(tree(files)).filter((v) => v.rule === 'a cycle between folders');
    expect(cycles).toEqual([
      { rule: 'a cycle between folders', from: 'lib/history', to: 'lib/webhooks → lib/history' },
    ]);
  });

  it('dynamic imports count (the registry loads verbs with import())', () => {
    const root = tree(baseline);
    writeFileSync(join(root, 'lib/templates/files.ts'), "const m = await import('../../cli/main.js');\n");
    expect(checkImports(root).map((v) => v.rule)).toContain('lib imports commands or the cli layer');
  });
});
