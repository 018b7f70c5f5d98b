/**
 * Applies a plan to the WABA: only the write calls the plan needs (one per create, update or delete),
 * one at a time, recording edits and deletions locally. Optionally waits for Meta's review results.
 */
import type { Clock } from '../clock.js';
import { GraphApiError, GraphNetworkError, UnknownOutcomeError } from '../graph/errors.js';
import type { Graph } from '../graph/graph.js';
import {
  type CreateTemplateRequest,
  type MessageTemplate,
  TEMPLATE_FIELDS,
  type TemplateCategory,
} from '../graph/types.js';
import { type BusinessUseCaseUsage, describeUsage, usagePercent } from '../graph/usage.js';
import { AUTO_GENERATED } from './direct-send.js';
import type { CreationRecord, DeletionRecord, EditRecord } from './history.js';
import { editRequest, type Plan, type PlanEntry } from './plan.js';

export type PushOutcome = 'applied' | 'failed' | 'unknown' | 'blocked' | 'unchanged' | 'dry_run';

export interface PushResult {
  entry: PlanEntry;
  outcome: PushOutcome;
  /** The template id after the write (the new id for a create). */
  id: string | null;
  /** The status the API answered (create) or the status before (update/delete). */
  status: string | null;
  error: string | null;
}

export interface TemplateHistoryWriter {
  recordCreation(r: CreationRecord): void;
  recordEdit(r: EditRecord): void;
  recordDeletion(r: DeletionRecord): void;
}

export interface ApplyOptions {
  graph: Graph;
  plan: Plan;
  history: TemplateHistoryWriter | null;
  clock: Pick<Clock, 'now'>;
  dryRun?: boolean;
  signal?: AbortSignal;
  /** Called after each entry (for progress output). */
  onResult?: (result: PushResult) => void;
  /** Told once when the WABA's management usage (X-Business-Use-Case-Usage) reaches USAGE_WARN_PERCENT. */
  onUsage?: (description: string) => void;
}

/** From this share of the hourly management budget on, push says so; at 100 % it sends no more writes. */
export const USAGE_WARN_PERCENT = 90;

/** The WABA's most used entry of X-Business-Use-Case-Usage, as last answered. */
function wabaUsage(graph: Graph, wabaId: string): BusinessUseCaseUsage | undefined {
  const entries = graph.client.businessUsage.get(wabaId) ?? [];
  return entries.reduce<BusinessUseCaseUsage | undefined>(
    (top, u) => (!top || usagePercent(u) > usagePercent(top) ? u : top),
    undefined,
  );
}

function describeError(error: unknown): string {
  if (error instanceof GraphApiError) {
    const sub = error.subcode !== undefined ? `, subcode ${error.subcode}` : '';
    const details = error.details ? `: ${error.details}` : '';
    return `${error.message} (code ${error.code}${sub})${details}`;
  }
  return error instanceof Error ? error.message : String(error);
}

export function createRequest(def: NonNullable<PlanEntry['definition']>): CreateTemplateRequest {
  const req: CreateTemplateRequest = {
    name: def.name,
    language: def.language,
    category: def.category as TemplateCategory,
    parameter_format: def.parameter_format ?? 'POSITIONAL',
    components: def.components,
  };
  if (def.message_send_ttl_seconds !== undefined) req.message_send_ttl_seconds = def.message_send_ttl_seconds;
  return req;
}

/** Runs the plan's writes in order (create, update, delete per sorted entry). Never throws for one entry's failure. */
export async function applyPlan(options: ApplyOptions): Promise<PushResult[]> {
  const { graph, plan, history, clock } = options;
  const results: PushResult[] = [];
  let warned = false;
  for (const entry of plan.entries) {
    if (options.signal?.aborted) break;
    let result: PushResult;
    const usage = options.dryRun ? undefined : wabaUsage(graph, plan.wabaId);
    const exhausted = usage && (usage.estimatedTimeToRegainAccess > 0 || usagePercent(usage) >= 100);
    if (usage && !warned && usagePercent(usage) >= USAGE_WARN_PERCENT) {
      warned = true;
      options.onUsage?.(describeUsage(usage));
    }
    if (exhausted && (entry.action === 'create' || entry.action === 'update' || entry.action === 'delete')) {
      // Meta would refuse it (80007): pause here rather than spend the calls, and say when to run again.
      result = {
        entry,
        outcome: 'failed',
        id: entry.id,
        status: entry.status,
        error: `not sent: the WABA's management API budget is used up (${describeUsage(usage)}); run the push again ${usage.estimatedTimeToRegainAccess > 0 ? `in about ${usage.estimatedTimeToRegainAccess} min` : 'within the hour'}`,
      };
    } else if (entry.action === 'blocked') {
      result = {
        entry,
        outcome: 'blocked',
        id: entry.id,
        status: entry.status,
        error: entry.blocked?.reason ?? null,
      };
    } else if (entry.action === 'unchanged') {
      result = { entry, outcome: 'unchanged', id: entry.id, status: entry.status, error: null };
    } else if (options.dryRun) {
      result = { entry, outcome: 'dry_run', id: entry.id, status: entry.status, error: null };
    } else {
      result = await applyEntry(entry, graph, plan.wabaId, history, clock);
    }
    results.push(result);
    options.onResult?.(result);
  }
  return results;
}

async function applyEntry(
  entry: PlanEntry,
  graph: Graph,
  wabaId: string,
  history: TemplateHistoryWriter | null,
  clock: Pick<Clock, 'now'>,
): Promise<PushResult> {
  try {
    if (entry.action === 'create') {
      const request = createRequest(entry.definition!);
      const res = await graph.templates.create(wabaId, request);
      history?.recordCreation({
        wabaId,
        templateId: res.id,
        name: entry.name,
        language: entry.language,
        request,
        at: clock.now(),
      });
      return { entry, outcome: 'applied', id: res.id, status: res.status ?? null, error: null };
    }
    if (entry.action === 'update') {
      await graph.templates.edit(entry.id!, editRequest(entry.definition!, entry.changes));
      history?.recordEdit({
        wabaId,
        templateId: entry.id!,
        name: entry.name,
        language: entry.language,
        statusBefore: entry.status ?? 'UNKNOWN',
        fields: entry.changes,
        at: clock.now(),
      });
      return { entry, outcome: 'applied', id: entry.id, status: entry.status, error: null };
    }
    // delete: by hsm_id + name, so that only this language goes (a name alone deletes every language)
    await graph.templates.delete(wabaId, entry.name, entry.id ?? undefined);
    history?.recordDeletion({
      wabaId,
      templateId: entry.id,
      name: entry.name,
      language: entry.language,
      statusBefore: entry.status ?? 'UNKNOWN',
      at: clock.now(),
    });
    return { entry, outcome: 'applied', id: entry.id, status: entry.status, error: null };
  } catch (error) {
    if (error instanceof UnknownOutcomeError) {
      return {
        entry,
        outcome: 'unknown',
        id: entry.id,
        status: entry.status,
        error: `${describeError(error)}; the API may or may not have applied it: run \`wacx templates plan\` to see`,
      };
    }
    if (!(error instanceof GraphApiError) && !(error instanceof GraphNetworkError)) throw error;
    return { entry, outcome: 'failed', id: entry.id, status: entry.status, error: describeError(error) };
  }
}

export const REVIEW_PENDING = new Set(['PENDING', 'IN_APPEAL']);

export interface ReviewState {
  id: string;
  name: string;
  language: string;
  status: string;
  rejectedReason: string | null;
}

export interface WaitOptions {
  graph: Graph;
  ids: readonly string[];
  clock: Clock;
  timeoutMs: number;
  signal?: AbortSignal;
  /** First delay between polls; grows ×1.5 up to maxIntervalMs. */
  intervalMs?: number;
  maxIntervalMs?: number;
  onChange?: (state: ReviewState) => void;
}

/** Polls the templates until none is under review or the timeout passes. Returns the last state of each. */
export async function waitForReviews(options: WaitOptions): Promise<ReviewState[]> {
  const { graph, clock } = options;
  const states = new Map<string, ReviewState>();
  const pending = new Set(options.ids);
  const deadline = clock.now() + options.timeoutMs;
  let interval = options.intervalMs ?? 1000;
  const maxInterval = options.maxIntervalMs ?? 10_000;
  for (;;) {
    for (const id of [...pending]) {
      const t: MessageTemplate = await graph.templates.get(id, [
        'id',
        'name',
        'language',
        'status',
        'rejected_reason',
      ]);
      const state: ReviewState = {
        id,
        name: t.name,
        language: t.language,
        status: t.status,
        rejectedReason: t.rejected_reason && t.rejected_reason !== 'NONE' ? t.rejected_reason : null,
      };
      const before = states.get(id);
      states.set(id, state);
      if (!before || before.status !== state.status) options.onChange?.(state);
      if (!REVIEW_PENDING.has(state.status)) pending.delete(id);
    }
    const left = deadline - clock.now();
    if (pending.size === 0 || left <= 0) break;
    await clock.sleep(Math.min(interval, left), options.signal);
    interval = Math.min(Math.round(interval * 1.5), maxInterval);
  }
  return options.ids.map((id) => states.get(id)).filter((s): s is ReviewState => s !== undefined);
}

/**
 * All templates of the WABA (every page), with `source`. The ones Meta generated for Direct Send are read with
 * `source=AUTO_GENERATED` too, and marked so even when the plain list shows them without their source.
 */
export async function fetchAllTemplates(graph: Graph, wabaId: string): Promise<MessageTemplate[]> {
  const fields = [...TEMPLATE_FIELDS, 'source'];
  const out: MessageTemplate[] = [];
  const generated = new Map<string, MessageTemplate>();
  try {
    for await (const t of graph.templates.list(wabaId, { limit: 100 }, fields)) out.push(t);
    for await (const t of graph.templates.list(wabaId, { limit: 100, source: AUTO_GENERATED }, fields))
      generated.set(t.id, { ...t, source: AUTO_GENERATED });
  } catch (error) {
    // Direct Send is an allowlisted beta: a WABA outside it may not know `source`, and then has no such template.
    const text = error instanceof GraphApiError ? `${error.message} ${error.details ?? ''}` : '';
    if (!(error instanceof GraphApiError) || error.code !== 100 || !/\bsource\b/.test(text)) throw error;
    out.length = 0;
    for await (const t of graph.templates.list(wabaId, { limit: 100 })) out.push(t);
    return out;
  }
  const merged = out.map((t) => generated.get(t.id) ?? t);
  const listed = new Set(out.map((t) => t.id));
  for (const [id, t] of generated) if (!listed.has(id)) merged.push(t);
  return merged;
}
