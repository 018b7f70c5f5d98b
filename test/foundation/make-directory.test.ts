import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';

// Another process creating the directory between makeDirectory's stat and its mkdir is simulated by a mkdirSync
// that first lets "the other process" make it (or put a file there), then does its own.
const race = vi.hoisted(() => ({ before: undefined as ((dir: string) => void) | undefined }));
vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  return {
    ...fs,
    mkdirSync: (path: string, options?: object) => {
      race.before?.(path);
      return fs.mkdirSync(path, options as never);
    },
  };
});

const { makeDirectory } = await import('../../src/lib/files.js');
const { mkdirSync: realMkdir } = await vi.importActual<typeof import('node:fs')>('node:fs');

describe('makeDirectory under a race with another process', () => {
  const root = mkdtempSync(join(tmpdir(), 'wacx-mkdir-'));
  afterEach(() => {
    race.before = undefined;
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('succeeds when another process made the same directory first (two wacx starting together)', () => {
    const target = join(root, 'a', '.config', 'wacx');
    race.before = (dir) => realMkdir(dir, { mode: 0o700 });
    makeDirectory(target);
    expect(statSync(target).isDirectory()).toBe(true);
  });

  it('still fails with EEXIST when what appeared is a file', () => {
    const target = join(root, 'b');
    race.before = (dir) => writeFileSync(dir, '');
    expect(() => makeDirectory(target)).toThrow(expect.objectContaining({ code: 'EEXIST' }));
  });
});
