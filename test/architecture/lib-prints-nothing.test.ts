import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

/**
 * Domains return data or events and the cli layer prints them: no file under lib/ but lib/io/ imports `Io`
 * (by name or through `import('…/io/io.js').Io`) or declares something named `io` (a parameter, a field).
 */
function libFilesHoldingIo(root: string): string[] {
  const found: string[] = [];
  const visit = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      const rel = relative(root, path).split(sep).join('/');
      if (statSync(path).isDirectory()) {
        if (rel !== 'lib/io') visit(path);
      } else if (name.endsWith('.ts')) {
        const text = readFileSync(path, 'utf8');
        const importsIo = [
          ...text.matchAll(/import\s+(?:type\s+)?\{([^}]*)\}\s*from\s*['"][^'"]*\/io\/io\.js['"]/g),
        ].some((m) =>
          m[1]!.split(',').some((binding) => /^(?:type\s+)?Io(?:\s+as\s+\w+)?$/.test(binding.trim())),
        );
        if (importsIo || /io\/io\.js['"]\)\.Io\b/.test(text) || /\bio\??\s*:/.test(text)) found.push(rel);
      }
    }
  };
  visit(join(root, 'lib'));
  return found.sort();
}

const SRC = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src');

describe('lib prints nothing', () => {
  let fixture: string | undefined;
  afterEach(() => {
    if (fixture) rmSync(fixture, { recursive: true, force: true });
    fixture = undefined;
  });

  it('no file under src/lib/ but src/lib/io/ imports Io or takes an io', () => {
    expect(libFilesHoldingIo(SRC)).toEqual([]);
  });

  it('finds an import of Io, an inline Io type and an io parameter, and leaves lib/io and the rest alone', () => {
    fixture = mkdtempSync(join(tmpdir(), 'wacx-lib-io-'));
    const files: Record<string, string> = {
      'lib/io/io.ts': 'export class Io {}\nexport function out(io: Io) {}\n',
      'lib/io/format.ts': 'export const formatExactDuration = (ms: number) => String(ms);\n',
      'lib/a/imports.ts': "import type { Io } from '../io/io.js';\nexport const x = 1;\n",
      'lib/a/renamed.ts': "import { fitColumns, type Io as Out } from '../io/io.js';\n",
      'lib/a/inline.ts': "export let out: import('../io/io.js').Io | undefined;\n",
      'lib/b/parameter.ts': 'export function report(count: number, io?: { info(s: string): void }) {}\n',
      'lib/b/clean.ts':
        "import { fitColumns } from '../io/io.js';\nimport { formatExactDuration } from '../io/format.js';\nexport const ratio: number = 1;\nexport const audio = { bio: 'x' };\n",
      'commands/send.ts': "import type { Io } from '../lib/io/io.js';\nexport function run(io: Io) {}\n",
    };
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(fixture, path)), { recursive: true });
      writeFileSync(join(fixture, path), text);
    }
    expect(libFilesHoldingIo(fixture)).toEqual([
      'lib/a/imports.ts',
      'lib/a/inline.ts',
      'lib/a/renamed.ts',
      'lib/b/parameter.ts',
    ]);
  });
});
