import { UsageError, WacxError } from '../errors.js';
import type { Graph } from '../graph/index.js';
import type { MessageTemplate } from '../graph/types.js';
import { isTemplateLanguage, suggestLanguage } from '../templates/languages.js';
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
 * Fetches the template by exact name and language. Nothing is sent unless it exists (exit 2 otherwise) and is
 * APPROVED (exit 1 otherwise: the template is fine as input, the account state is the problem).
 */
export async function fetchApprovedTemplate(
  graph: Graph,
  wabaId: string,
  name: string,
  language: string,
  signal?: AbortSignal,
): Promise<MessageTemplate> {
  const matches: MessageTemplate[] = [];
  for await (const t of graph.templates.list(wabaId, { name })) {
    if (signal?.aborted) break;
    if (t.name === name) matches.push(t);
  }
  const found = matches.find((t) => t.language === language);
  if (!found) {
    const languages = matches.map((t) => t.language);
    throw new UsageError(
      languages.length > 0
        ? `Template "${name}" has no "${language}" version (it exists in ${languages.join(', ')}).`
        : `Template "${name}" does not exist in WABA ${wabaId}.`,
      {
        location: languages.length > 0 ? '--language' : '--template',
        hint:
          languages.length > 0
            ? `Pass --language ${languages[0]}, or create the ${language} version.`
            : 'List the templates with `wacx templates list`.',
      },
    );
  }
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
