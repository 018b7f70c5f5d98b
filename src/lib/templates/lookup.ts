/** Finding one template of the WABA by id, or by name (+ language). */
import { UsageError, WacxError } from '../errors.js';
import type { Graph } from '../graph/index.js';
import type { MessageTemplate } from '../graph/types.js';

const GONE = new Set(['DELETED', 'PENDING_DELETION']);

export const looksLikeId = (value: string) => /^\d+$/.test(value);

/** Every live language of a template name. */
export async function templatesNamed(graph: Graph, wabaId: string, name: string): Promise<MessageTemplate[]> {
  const out: MessageTemplate[] = [];
  for await (const t of graph.templates.list(wabaId, { name, limit: 100 })) {
    if (t.name === name && !GONE.has(t.status)) out.push(t);
  }
  return out.sort((a, b) => (a.language < b.language ? -1 : a.language > b.language ? 1 : 0));
}

/**
 * One template: `nameOrId` is a template id (digits) or a name; with a name used in several languages,
 * `language` is required (a usage error lists the languages).
 */
export async function findTemplate(
  graph: Graph,
  wabaId: string,
  nameOrId: string,
  language: string | undefined,
): Promise<MessageTemplate> {
  if (looksLikeId(nameOrId)) {
    const t = await graph.templates.get(nameOrId);
    if (language && t.language !== language) {
      throw new UsageError(`Template ${nameOrId} is ${t.name} (${t.language}), not ${language}.`, {
        location: '--language',
      });
    }
    return t;
  }
  const all = await templatesNamed(graph, wabaId, nameOrId);
  const matching = language ? all.filter((t) => t.language === language) : all;
  if (matching.length === 0) {
    const where = language ? ` in ${language}` : '';
    const others =
      language && all.length > 0 ? ` (it exists in ${all.map((t) => t.language).join(', ')})` : '';
    throw new WacxError(`No template named ${nameOrId}${where} on WABA ${wabaId}${others}.`, {
      hint: 'Run `wacx templates list` to see the templates.',
    });
  }
  if (matching.length > 1) {
    throw new UsageError(
      `${nameOrId} exists in ${matching.length} languages (${matching.map((t) => t.language).join(', ')}); pass --language.`,
      { location: '--language' },
    );
  }
  return matching[0]!;
}
