/**
 * File-system helpers shared by the domains that create files: directories made without Node's recursive mkdir,
 * modes kept private, and system errors turned into words.
 */
import { chmodSync, closeSync, mkdirSync, openSync, statSync, unlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';

const REASONS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOTDIR: 'a part of the path is not a directory',
  EEXIST: 'it exists and is not a directory',
  EISDIR: 'it is a directory',
  ENOENT: 'no such file or directory',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  ENAMETOOLONG: 'the name is too long',
  ELOOP: 'too many symbolic links',
};

/** A system error in words ("permission denied"), for messages that also name the path. */
export function fsReason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code && REASONS[code]) return REASONS[code];
  return error instanceof Error ? error.message : String(error);
}

/**
 * `mkdir -p`, one level at a time from the deepest existing ancestor. Node's own `recursive: true` never returns
 * when the kernel answers ENOENT for a parent that exists (under /proc or /sys): it retries forever.
 * Throws the system error (ENOTDIR/EEXIST when a part of the path is a file).
 */
export function makeDirectory(path: string, mode = 0o700): void {
  const missing: string[] = [];
  for (let p = path; ; p = dirname(p)) {
    let isDir: boolean;
    try {
      isDir = statSync(p).isDirectory();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || dirname(p) === p) throw error;
      missing.unshift(p);
      continue;
    }
    if (!isDir)
      throw Object.assign(new Error(`${p} is not a directory`), { code: p === path ? 'EEXIST' : 'ENOTDIR' });
    break;
  }
  for (const dir of missing) {
    try {
      mkdirSync(dir, { mode });
    } catch (error) {
      // Another process made it between our stat and our mkdir: fine, unless what it made is not a directory.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || !statSync(dir).isDirectory()) throw error;
    }
  }
}

/**
 * Proves that files can be created in `dir` by creating (and removing) an empty one: permission bits alone do not
 * tell (root, read-only mounts, /proc).
 */
export function assertWritableDirectory(dir: string): void {
  const probe = join(dir, `.wacx-write-test-${process.pid}`);
  closeSync(openSync(probe, 'wx', 0o600));
  unlinkSync(probe);
}

/** Narrows an existing file's mode to 0600 when group or others may read it. Missing files are ignored. */
export function restrictToOwner(path: string): void {
  let mode: number;
  try {
    mode = statSync(path).mode;
  } catch {
    return;
  }
  if ((mode & 0o077) !== 0) chmodSync(path, mode & 0o700);
}

/** Creates an empty file readable only by its owner, unless it exists. */
export function createPrivateFile(path: string): void {
  closeSync(openSync(path, 'a', 0o600));
}
