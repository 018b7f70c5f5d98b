/**
 * Templates as code: compare template files with the WABA's templates and decide, per name + language,
 * create / update / delete (only with prune) / unchanged / blocked (with why). Pure: the remote list and the
 * local history are inputs.
 */
import type { EditTemplateRequest, MessageTemplate, TemplateCategory } from '../graph/types.js';
import { type ChangedField, canonicalize, componentChanges, diffDefinitions } from './canonical.js';
import type { LoadedTemplate } from './files.js';
import {
  EDIT_WINDOW_LONG_MS,
  EDIT_WINDOW_SHORT_MS,
  EDITS_PER_LONG_WINDOW,
  EDITS_PER_SHORT_WINDOW,
  NAME_REUSE_BLOCK_MS,
  type TemplateHistoryReader,
} from './history.js';
import type { TemplateDefinition } from './rules.js';

export type PlanAction = 'create' | 'update' | 'delete' | 'unchanged' | 'blocked';
export type BlockedCode =
  | 'edit_limit_24h'
  | 'edit_limit_30d'
  | 'category_change_approved'
  | 'not_editable'
  | 'under_review'
  | 'delete_disabled'
  | 'name_reuse_30d'
  | 'pending_deletion';

export interface PlanEntry {
  action: PlanAction;
  /** For blocked entries: what the plan wanted to do. Otherwise the same as `action`. */
  intended: Exclude<PlanAction, 'blocked'>;
  name: string;
  language: string;
  /** The WABA's template id (null for a create). */
  id: string | null;
  /** The WABA's status (null for a create). */
  status: string | null;
  /** The file defining it (null for a delete). */
  file: string | null;
  /** For updates: which editable fields differ. */
  changes: ChangedField[];
  /** For updates: where inside the components, e.g. `BODY.text`. */
  details: string[];
  blocked: { code: BlockedCode; reason: string } | null;
  /** The local canonical definition (creates and updates). */
  definition: TemplateDefinition | null;
}

export interface Plan {
  wabaId: string;
  prune: boolean;
  entries: PlanEntry[];
  /** Templates that exist only on the WABA (deleted with --prune, otherwise left alone). */
  remoteOnly: number;
  summary: Record<PlanAction, number>;
}

export interface PlanInput {
  wabaId: string;
  local: readonly LoadedTemplate[];
  remote: readonly MessageTemplate[];
  history: TemplateHistoryReader;
  now: number;
  prune?: boolean;
}

const EDITABLE = new Set(['APPROVED', 'REJECTED', 'PAUSED']);
const UNDER_REVIEW = new Set(['PENDING', 'IN_APPEAL']);
const GONE = new Set(['DELETED', 'PENDING_DELETION']);

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const key = (name: string, language: string) => `${name}\u0000${language}`;

function compareEntries(
  a: { name: string; language: string },
  b: { name: string; language: string },
): number {
  if (a.name !== b.name) return a.name < b.name ? -1 : 1;
  if (a.language !== b.language) return a.language < b.language ? -1 : 1;
  return 0;
}

/** Picks, per name + language, the live remote template (a DELETED copy only when nothing else exists). */
function indexRemote(remote: readonly MessageTemplate[]): Map<string, MessageTemplate> {
  const map = new Map<string, MessageTemplate>();
  for (const t of remote) {
    const k = key(t.name, t.language);
    const existing = map.get(k);
    if (!existing || (GONE.has(existing.status) && !GONE.has(t.status))) map.set(k, t);
  }
  return map;
}

export function computePlan(input: PlanInput): Plan {
  const { wabaId, history, now } = input;
  const prune = input.prune ?? false;
  const remote = indexRemote(input.remote);
  const entries: PlanEntry[] = [];
  const localKeys = new Set<string>();

  for (const t of input.local) {
    const def = t.definition;
    if (!def) continue;
    localKeys.add(key(def.name, def.language));
    const r = remote.get(key(def.name, def.language));
    const base = {
      name: def.name,
      language: def.language,
      file: t.file,
      definition: def,
      changes: [] as ChangedField[],
      details: [] as string[],
    };

    if (!r || GONE.has(r.status)) {
      const entry: PlanEntry = {
        ...base,
        action: 'create',
        intended: 'create',
        id: null,
        status: r ? r.status : null,
        blocked: null,
      };
      if (r?.status === 'PENDING_DELETION') {
        entry.blocked = {
          code: 'pending_deletion',
          reason: `${def.name} (${def.language}) is being deleted (PENDING_DELETION); Meta blocks reusing the name of a deleted approved template for 30 days`,
        };
      } else {
        const deletion = history.approvedDeletion(wabaId, def.name, def.language, now - NAME_REUSE_BLOCK_MS);
        if (deletion) {
          entry.blocked = {
            code: 'name_reuse_30d',
            reason: `the APPROVED template ${def.name} (${def.language}) was deleted at ${iso(deletion.at)}; Meta blocks reusing its name for 30 days (until ${iso(deletion.at + NAME_REUSE_BLOCK_MS)})`,
          };
        }
      }
      if (entry.blocked) entry.action = 'blocked';
      entries.push(entry);
      continue;
    }

    const remoteDef = canonicalize(r);
    const changes = diffDefinitions(def, remoteDef);
    const entry: PlanEntry = {
      ...base,
      action: changes.length === 0 ? 'unchanged' : 'update',
      intended: changes.length === 0 ? 'unchanged' : 'update',
      id: r.id,
      status: r.status,
      changes,
      details: changes.includes('components') ? componentChanges(def, remoteDef) : [],
      blocked: null,
    };
    if (entry.action === 'update') {
      entry.blocked = updateBlock(r, def, changes, history, now);
      if (entry.blocked) entry.action = 'blocked';
    }
    entries.push(entry);
  }

  let remoteOnly = 0;
  for (const r of remote.values()) {
    if (GONE.has(r.status) || localKeys.has(key(r.name, r.language))) continue;
    remoteOnly++;
    if (!prune) continue;
    const entry: PlanEntry = {
      action: 'delete',
      intended: 'delete',
      name: r.name,
      language: r.language,
      id: r.id,
      status: r.status,
      file: null,
      changes: [],
      details: [],
      blocked: null,
      definition: null,
    };
    if (r.status === 'DISABLED') {
      entry.blocked = { code: 'delete_disabled', reason: 'DISABLED templates cannot be deleted' };
      entry.action = 'blocked';
    }
    entries.push(entry);
  }

  entries.sort(compareEntries);
  const summary: Record<PlanAction, number> = { create: 0, update: 0, delete: 0, unchanged: 0, blocked: 0 };
  for (const e of entries) summary[e.action]++;
  return { wabaId, prune, entries, remoteOnly, summary };
}

function updateBlock(
  r: MessageTemplate,
  def: TemplateDefinition,
  changes: readonly ChangedField[],
  history: TemplateHistoryReader,
  now: number,
): PlanEntry['blocked'] {
  if (UNDER_REVIEW.has(r.status)) {
    return {
      code: 'under_review',
      reason: `the template is under review (${r.status}); edit it once the review is done`,
    };
  }
  if (!EDITABLE.has(r.status)) {
    const what =
      r.status === 'DISABLED'
        ? 'DISABLED templates cannot be edited; create the new version under another name'
        : r.status === 'ARCHIVED'
          ? 'ARCHIVED templates cannot be edited; unarchive it first'
          : `templates in status ${r.status} cannot be edited (only APPROVED, REJECTED or PAUSED)`;
    return { code: 'not_editable', reason: what };
  }
  if (r.status !== 'APPROVED') return null; // REJECTED and PAUSED: unlimited edits, category may change
  if (changes.includes('category')) {
    return {
      code: 'category_change_approved',
      reason: `the category of an APPROVED template cannot change (${String(r.category).toUpperCase()} → ${def.category}); create a new template name instead`,
    };
  }
  const recent = history.approvedEditTimes(r.id, now - EDIT_WINDOW_LONG_MS);
  const lastDay = recent.filter((t) => t > now - EDIT_WINDOW_SHORT_MS);
  if (lastDay.length >= EDITS_PER_SHORT_WINDOW) {
    const last = lastDay[lastDay.length - 1]!;
    return {
      code: 'edit_limit_24h',
      reason: `APPROVED templates can be edited once per 24 h; last edited at ${iso(last)}, next edit after ${iso(last + EDIT_WINDOW_SHORT_MS)}`,
    };
  }
  if (recent.length >= EDITS_PER_LONG_WINDOW) {
    const oldest = recent[recent.length - EDITS_PER_LONG_WINDOW]!;
    return {
      code: 'edit_limit_30d',
      reason: `APPROVED templates can be edited ${EDITS_PER_LONG_WINDOW} times per 30 days; ${recent.length} edits since ${iso(recent[0]!)}, next edit after ${iso(oldest + EDIT_WINDOW_LONG_MS)}`,
    };
  }
  return null;
}

/** The edit request for an update entry: only what changed (components are replaced wholesale). */
export function editRequest(def: TemplateDefinition, changes: readonly ChangedField[]): EditTemplateRequest {
  const req: EditTemplateRequest = {};
  if (changes.includes('category')) req.category = def.category as TemplateCategory;
  if (changes.includes('components') || changes.includes('parameter_format')) req.components = def.components;
  if (changes.includes('parameter_format') && def.parameter_format)
    req.parameter_format = def.parameter_format;
  if (changes.includes('message_send_ttl_seconds') && def.message_send_ttl_seconds !== undefined) {
    req.message_send_ttl_seconds = def.message_send_ttl_seconds;
  }
  return req;
}

/** The plan as JSON (keys always present). */
export function planToJson(plan: Plan): unknown {
  return {
    wabaId: plan.wabaId,
    prune: plan.prune,
    summary: plan.summary,
    remoteOnly: plan.remoteOnly,
    entries: plan.entries.map(entryToJson),
  };
}

export function entryToJson(e: PlanEntry) {
  return {
    action: e.action,
    intended: e.intended,
    name: e.name,
    language: e.language,
    id: e.id,
    status: e.status,
    file: e.file,
    changes: e.changes,
    details: e.details,
    blocked: e.blocked,
  };
}
