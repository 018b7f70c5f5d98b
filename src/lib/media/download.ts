/**
 * Downloads a media object (an image of a history import, a document of an echo…): the media node, then the bytes
 * behind its short-lived URL, written to a temporary file in the target directory, checked against the node's
 * sha256 and size, and only then moved into place. A failure never leaves a partial file, and an existing file is
 * replaced only when asked.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, linkSync, renameSync, statSync, unlinkSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { UsageError, WacxError } from '../errors.js';
import { assertWritableDirectory, fsReason } from '../files.js';
import type { Graph } from '../graph/graph.js';
import { Media, type MediaNode } from '../graph/resources/media.js';

const EXTENSIONS: Record<string, string> = {
  'image/jpeg': 'jpg',
  'image/png': 'png',
  'image/webp': 'webp',
  'audio/ogg': 'ogg',
  'audio/mpeg': 'mp3',
  'audio/mp4': 'm4a',
  'audio/aac': 'aac',
  'audio/amr': 'amr',
  'video/mp4': 'mp4',
  'video/3gpp': '3gp',
  'application/pdf': 'pdf',
  'text/plain': 'txt',
};

/** `<id>.<extension of the MIME type>` (`.bin` when unknown). */
export function defaultFileName(id: string, mimeType: string): string {
  const mime = mimeType.split(';')[0]!.trim().toLowerCase();
  return `${id}.${EXTENSIONS[mime] ?? 'bin'}`;
}

export interface Target {
  dir: string;
  /** null: the default name, known once the MIME type is. */
  name: string | null;
}

const OUT_FLAG = '-o/--output';

/**
 * Where the file goes, checked before any request: the directory exists and takes files, and a named file that
 * exists is replaced only with `force`.
 */
export function prepareTarget(output: string | undefined, cwd: string, force: boolean): Target {
  const path = resolve(cwd, output ?? '.');
  let isDir = false;
  try {
    isDir = statSync(path).isDirectory();
  } catch {
    // a file to create
  }
  const target: Target =
    isDir || output === undefined || /[/\\]$/.test(output)
      ? { dir: path, name: null }
      : { dir: dirname(path), name: basename(path) };
  const problem = (what: string, error?: unknown) =>
    new UsageError(`${what}${error ? `: ${fsReason(error)}` : ''}. Nothing was downloaded.`, {
      location: `${OUT_FLAG} ${output ?? '.'}`,
      hint: 'Pass a file in a directory you can write to, or an existing directory.',
      cause: error,
    });
  try {
    if (!statSync(target.dir).isDirectory()) throw problem(`${target.dir} is not a directory`);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw problem(`Cannot write into ${target.dir}`, error);
  }
  try {
    assertWritableDirectory(target.dir);
  } catch (error) {
    throw problem(`Cannot write into ${target.dir}`, error);
  }
  if (target.name !== null) refuseOverwrite(join(target.dir, target.name), force, output);
  return target;
}

function refuseOverwrite(file: string, force: boolean, output: string | undefined): void {
  if (force || !existsSync(file)) return;
  throw new UsageError(`${file} exists; nothing was downloaded.`, {
    location: `${OUT_FLAG} ${output ?? '.'}`,
    hint: 'Pass --force to replace it, or -o another file.',
  });
}

export interface DownloadResult {
  id: string;
  mimeType: string;
  sha256: string;
  fileSize: number;
  file: string;
}

/** Fetches the media node and its bytes into `target` (see prepareTarget). */
export async function downloadMedia(options: {
  graph: Graph;
  mediaId: string;
  target: Target;
  force: boolean;
  output?: string;
  phoneNumberId?: string;
  signal?: AbortSignal;
}): Promise<DownloadResult> {
  const { target, force } = options;
  const media = new Media(options.graph.client);
  const node = await media.get(options.mediaId, options.phoneNumberId);
  const file = join(target.dir, target.name ?? defaultFileName(node.id, node.mime_type));
  if (target.name === null) refuseOverwrite(file, force, options.output);

  const tmp = join(target.dir, `.${basename(file)}.${randomBytes(4).toString('hex')}.part`);
  try {
    const { body } = await media.download(node, options.signal);
    const hash = createHash('sha256');
    let size = 0;
    const tap = new Transform({
      transform(chunk: Buffer, _enc, done) {
        hash.update(chunk);
        size += chunk.length;
        done(null, chunk);
      },
    });
    await pipeline(body, tap, createWriteStream(tmp, { flags: 'wx', mode: 0o600 }), {
      signal: options.signal,
    });
    verify(node, hash.digest('hex'), size);
    commit(tmp, file, force, options.output);
    return { id: node.id, mimeType: node.mime_type, sha256: node.sha256, fileSize: size, file };
  } finally {
    try {
      unlinkSync(tmp);
    } catch {
      // moved into place, or never created
    }
  }
}

function verify(node: MediaNode, sha256: string, size: number): void {
  if (node.file_size !== null && node.file_size !== size) {
    throw new WacxError(
      `Media ${node.id}: received ${size} bytes, the media node says ${node.file_size}; nothing was written.`,
      { hint: 'The download was cut short: run the command again.' },
    );
  }
  if (sha256 !== node.sha256.toLowerCase()) {
    throw new WacxError(
      `Media ${node.id}: the bytes received do not match the node's sha256 (${node.sha256}); nothing was written.`,
      { hint: 'Run the command again; if it persists, the media may have been replaced or removed.' },
    );
  }
}

/** Moves the checked temporary file into place; without `force`, never over a file that appeared meanwhile. */
function commit(tmp: string, file: string, force: boolean, output: string | undefined): void {
  if (force) {
    renameSync(tmp, file);
    return;
  }
  try {
    linkSync(tmp, file);
  } catch {
    // EEXIST: it appeared meanwhile; otherwise a file system without hard links
    refuseOverwrite(file, false, output);
    renameSync(tmp, file);
  }
}
