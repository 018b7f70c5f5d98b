import type { Stats } from 'node:fs';
import { open, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { UsageError } from '../errors.js';

/**
 * The files a campaign reads (`--csv`, `--exclude`) and writes (`--report`) are checked before the first request,
 * so that a typo or a wrong place is an exit 2 naming the flag, not a raw system error after everything was sent.
 */

/** Why a file operation failed, in words (from the system error code). */
export function fileProblem(path: string, error: unknown): string {
  const code = (error as { code?: string }).code;
  switch (code) {
    case 'ENOENT':
      return 'no such file or directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'it is a directory';
    case 'ENOTDIR':
      return `a part of ${dirname(path)} is not a directory`;
    case 'EROFS':
      return 'read-only file system';
    case 'ENOSPC':
      return 'no space left on the device';
    default:
      return code ?? (error instanceof Error ? error.message : String(error));
  }
}

/** A file given by `flag` that cannot be read: exit 2, naming the flag and the path. */
export function unreadable(path: string, flag: string, error: unknown): UsageError {
  return new UsageError(`Cannot read ${path}: ${fileProblem(path, error)}.`, {
    location: flag,
    cause: error,
  });
}

/** Stats `path` and opens it for reading once: it must be a readable file. */
export async function checkReadable(path: string, flag: string): Promise<Stats> {
  let s: Stats;
  try {
    s = await stat(path);
    if (!s.isFile()) throw new UsageError(`${path} is not a file.`, { location: flag });
    await (await open(path, 'r')).close();
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw unreadable(path, flag, error);
  }
  return s;
}

/** The temporary file a report is written to before it is renamed into place. */
export function reportTempPath(path: string): string {
  return `${path}.${process.pid}.tmp`;
}

/**
 * `--report PATH` can be written: not a directory, and its temporary file can be created next to it (which is what
 * writing the report does first: this finds a missing or read-only directory, whatever the user's privileges).
 */
export async function checkReportPath(path: string): Promise<void> {
  const existing = await stat(path).catch(() => null);
  if (existing?.isDirectory()) {
    throw new UsageError(`${path} is a directory; give the report a file name.`, {
      location: '--report',
      hint: `For example --report ${path.replace(/\/+$/, '')}/report.csv`,
    });
  }
  const probe = reportTempPath(path);
  try {
    await (await open(probe, 'w', 0o600)).close();
  } catch (error) {
    const code = (error as { code?: string }).code;
    const why =
      code === 'ENOENT' ? `the directory ${dirname(path)} does not exist` : fileProblem(path, error);
    throw new UsageError(`Cannot write the report ${path}: ${why}. Nothing was sent.`, {
      location: '--report',
      cause: error,
    });
  }
  await rm(probe, { force: true });
}
