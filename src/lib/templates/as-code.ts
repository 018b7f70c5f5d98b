/** Templates as code, end to end: pull the WABA into files, and plan the files against the WABA. */
import { readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { UsageError, WacxError } from '../errors.js';
import { assertWritableDirectory, fsReason, makeDirectory } from '../files.js';
import type { Graph } from '../graph/graph.js';
import type { MessageTemplate } from '../graph/types.js';
import { canonicalize } from './canonical.js';
import {
  type FileProblem,
  findTemplateFiles,
  type LoadedSet,
  loadTemplates,
  parseTemplateText,
  stringifyTemplate,
  templateFileName,
  templateKey,
} from './files.js';
import type { TemplateHistoryReader } from './history.js';
import { computePlan, type Plan } from './plan.js';
import { fetchAllTemplates } from './push.js';

const GONE = new Set(['DELETED', 'PENDING_DELETION']);

export interface PullResult {
  file: string;
  name: string;
  language: string;
  id: string;
  status: string;
  written: boolean;
}

/** Creates `dir` when missing and proves files can be written into it, before anything is fetched. */
function prepareDirectory(dir: string): void {
  const fail = (what: string, error: unknown) =>
    new UsageError(`${what}: ${fsReason(error)}.`, {
      location: dir,
      hint: 'Pass a directory you can write to (it is created when missing).',
      cause: error,
    });
  try {
    makeDirectory(dir, 0o777);
  } catch (error) {
    throw fail('Cannot create a directory for the templates here', error);
  }
  try {
    assertWritableDirectory(dir);
  } catch (error) {
    throw fail('Cannot write templates into this directory', error);
  }
}

/** Writes through a temporary file, so that a failure leaves the previous file whole. */
async function replaceFile(file: string, text: string): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    await writeFile(tmp, text, { mode: 0o644 });
    await rename(tmp, file);
  } catch (error) {
    await unlink(tmp).catch(() => {});
    throw new WacxError(`Cannot write ${file}: ${fsReason(error)}.`, { cause: error });
  }
}

/**
 * Writes one file per WABA template into `dir` (`<name>.<language>.yaml`, or the file that already
 * defines that name + language). Files whose content would not change are left untouched.
 */
export async function pullTemplates(options: {
  graph: Graph;
  wabaId: string;
  dir: string;
  format?: 'yaml' | 'json';
  remote?: readonly MessageTemplate[];
}): Promise<PullResult[]> {
  const { dir } = options;
  prepareDirectory(dir);
  const remote = options.remote ?? (await fetchAllTemplates(options.graph, options.wabaId));

  // Reuse the file that already defines a template, whatever it is called.
  const existing = new Map<string, string>();
  for (const file of await findTemplateFiles(dir)) {
    const text = await readFile(file, 'utf8').catch(() => undefined);
    if (text === undefined) continue;
    const d = parseTemplateText(text, file).definition;
    if (d && typeof d.name === 'string' && typeof d.language === 'string') {
      const k = templateKey(d.name, d.language);
      if (!existing.has(k)) existing.set(k, file);
    }
  }

  const results: PullResult[] = [];
  const live = remote.filter((t) => !GONE.has(t.status));
  live.sort((a, b) => (a.name !== b.name ? (a.name < b.name ? -1 : 1) : a.language < b.language ? -1 : 1));
  for (const t of live) {
    const k = templateKey(t.name, t.language);
    const format = options.format ?? 'yaml';
    const file =
      existing.get(k) ??
      join(
        dir,
        templateFileName(t.name, t.language).replace(/\.yaml$/, format === 'json' ? '.json' : '.yaml'),
      );
    const fileFormat = extname(file).toLowerCase() === '.json' ? 'json' : 'yaml';
    const text = stringifyTemplate(canonicalize(t), fileFormat);
    const before = await readFile(file, 'utf8').catch(() => undefined);
    const written = before !== text;
    if (written) await replaceFile(file, text);
    results.push({ file, name: t.name, language: t.language, id: t.id, status: t.status, written });
  }
  return results;
}

export interface PreparedPlan {
  plan: Plan | undefined;
  loaded: LoadedSet;
  /** Errors in the files: when any, there is no plan (nothing may be sent). */
  errors: FileProblem[];
  warnings: FileProblem[];
}

/** Loads and lints the files, then (only when they are valid) compares them with the WABA. */
export async function preparePlan(options: {
  graph: Graph;
  wabaId: string;
  dir: string;
  history: TemplateHistoryReader;
  now: number;
  prune?: boolean;
}): Promise<PreparedPlan> {
  const loaded = await loadTemplates(options.dir);
  const errors = loaded.problems.filter((p) => p.severity === 'error');
  const warnings = loaded.problems.filter((p) => p.severity === 'warning');
  if (errors.length > 0) return { plan: undefined, loaded, errors, warnings };
  const remote = await fetchAllTemplates(options.graph, options.wabaId);
  const plan = computePlan({
    wabaId: options.wabaId,
    local: loaded.templates,
    remote,
    history: options.history,
    now: options.now,
    prune: options.prune ?? false,
  });
  return { plan, loaded, errors, warnings };
}
