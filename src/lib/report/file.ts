import { renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { assertWritableDirectory, fsReason } from '../files.js';

/**
 * Checks, before any work, that `path` can be written: its directory exists and takes new files, and the path
 * is not a directory. Returns the absolute path.
 */
export function checkOutputFile(path: string, flag: string): string {
  const full = resolve(path);
  const fail = (why: string) =>
    new UsageError(`cannot write ${path}: ${why}.`, {
      location: flag,
      hint: 'Give a file in an existing, writable directory.',
    });
  try {
    if (statSync(full).isDirectory()) throw fail('it is a directory');
  } catch (error) {
    if (error instanceof UsageError) throw error;
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw fail(fsReason(error));
  }
  try {
    assertWritableDirectory(dirname(full));
  } catch (error) {
    throw fail(fsReason(error));
  }
  return full;
}

/** Writes the whole file or nothing: a temporary file next to it, renamed over it. */
export function writeFileAtomically(path: string, text: string): void {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    writeFileSync(temp, text, { mode: 0o600 });
    renameSync(temp, path);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
}
