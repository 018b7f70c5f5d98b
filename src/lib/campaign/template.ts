import { UsageError, WacxError } from '../errors.js';
import type { Graph } from '../graph/graph.js';
import type { MessageTemplate } from '../graph/types.js';
import { isTemplateLanguage, suggestLanguage } from '../templates/languages.js';
import { findTemplateByName } from '../templates/lookup.js';
import { NAME_PATTERN } from '../templates/rules.js';

/** `--template` and `--language` are names Meta could have: checked before the template is looked up. */
export function checkTemplateRef(name: string, language: string): void {
  if (!NAME_PATTERN.test(name)) {
    throw new UsageError(
      `"${name}" cannot be a template name: names have only lowercase letters, digits and underscores.`,
      { location: '--template', hint: 'List the templates with `wacx templates list`.' },
    );
  }
  if (!isTemplateLanguage(language)) {
    const suggestion = suggestLanguage(language);
    throw new UsageError(`"${language}" is not a template language code.`, {
      location: '--language',
      hint: suggestion
        ? `Did you mean --language ${suggestion}? Codes are case-sensitive, with an underscore.`
        : 'Use one of the codes in `wacx templates list` (en_US, pt_BR, es, …).',
    });
  }
}

/**
 * The template by exact name and language (one lookup with `wacx templates get`: exit 1 when the API does not
 * have it). Nothing is sent unless it is APPROVED (exit 1 otherwise: the account state is the problem).
 */
export async function fetchApprovedTemplate(
  graph: Graph,
  wabaId: string,
  name: string,
  language: string,
  signal?: AbortSignal,
): Promise<MessageTemplate> {
  const found = await findTemplateByName(graph, wabaId, name, language, signal);
  if (found.status !== 'APPROVED') {
    const why =
      found.rejected_reason && found.rejected_reason !== 'NONE' ? ` (${found.rejected_reason})` : '';
    throw new WacxError(
      `Template "${name}" (${language}) is ${found.status}${why}, not APPROVED: nothing was sent.`,
      {
        hint:
          found.status === 'PENDING'
            ? 'Wait for the review (`wacx templates get NAME`), then run the same command again.'
            : found.status === 'PAUSED'
              ? 'The template was paused for low quality: edit it or use another template.'
              : 'Use an APPROVED template (`wacx templates list --status APPROVED`).',
      },
    );
  }
  return found;
}
