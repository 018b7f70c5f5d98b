/** Finding one template of the WABA by id, or by name (+ language): the one lookup of send, get and update. */
import { UsageError, WacxError } from '../errors.js';
import type { Graph } from '../graph/graph.js';
import type { MessageTemplate } from '../graph/types.js';

/** Meta's rule: a deleted template (or one being deleted) can be neither sent nor edited. */
const GONE = new Set(['DELETED', 'PENDING_DELETION']);

export const looksLikeId = (value: string) => /^\d+$/.test(value);

/** Every live language of a template name, sorted by language. Stops early (incomplete) once `signal` aborts. */
export async function templatesNamed(
  graph: Graph,
  wabaId: string,
  name: string,
  signal?: AbortSignal,
): Promise<MessageTemplate[]> {
  const out: MessageTemplate[] = [];
  for await (const t of graph.templates.list(wabaId, { name, limit: 100 })) {
    if (signal?.aborted) break;
    if (t.name === name && !GONE.has(t.status)) out.push(t);
  }
  return out.sort((a, b) => (a.language < b.language ? -1 : a.language > b.language ? 1 : 0));
}

/**
 * The live template `name`, in `language` (required when the name is used in several languages: a usage
 * error lists them). A template the API does not have, or not in that language, fails with exit 1, as Meta's
 * own "Template does not exist" (132001) would: the name is well-formed input, its absence is the account's state.
 */
export async function findTemplateByName(
  graph: Graph,
  wabaId: string,
  name: string,
  language: string | undefined,
  signal?: AbortSignal,
): Promise<MessageTemplate> {
  const all = await templatesNamed(graph, wabaId, name, signal);
  const matching = language ? all.filter((t) => t.language === language) : all;
  if (matching.length === 0) {
    const languages = all.map((t) => t.language);
    if (language && languages.length > 0) {
      throw new WacxError(
        `Template "${name}" has no "${language}" version (it exists in ${languages.join(', ')}).`,
        { hint: `Pass --language ${languages[0]}, or create the ${language} version.` },
      );
    }
    throw new WacxError(`Template "${name}" does not exist in WABA ${wabaId}.`, {
      hint: 'List the templates with `wacx templates list`.',
    });
  }
  if (matching.length > 1) {
    throw new UsageError(
      `${name} exists in ${matching.length} languages (${matching.map((t) => t.language).join(', ')}); pass --language.`,
      { location: '--language' },
    );
  }
  return matching[0]!;
}

/** One template: `nameOrId` is a template id (digits) or a name (see findTemplateByName). */
export async function findTemplate(
  graph: Graph,
  wabaId: string,
  nameOrId: string,
  language: string | undefined,
): Promise<MessageTemplate> {
  if (!looksLikeId(nameOrId)) return findTemplateByName(graph, wabaId, nameOrId, language);
  const t = await graph.templates.get(nameOrId);
  if (language && t.language !== language) {
    throw new UsageError(`Template ${nameOrId} is ${t.name} (${t.language}), not ${language}.`, {
      location: '--language',
    });
  }
  return t;
}
