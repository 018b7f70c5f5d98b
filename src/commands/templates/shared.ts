import type { Deps } from '../../cli/deps.js';
import type { Graph } from '../../lib/graph/index.js';

/** The WABA a templates verb works on (its --waba-id, else the profile's) and a client for the API. */
export async function templatesTarget(
  deps: Deps,
  wabaIdFlag: string | undefined,
): Promise<{ wabaId: string; graph: Graph }> {
  const wabaId = deps.config().withFlags({ wabaId: wabaIdFlag }).require('wabaId', '--waba-id');
  return { wabaId, graph: await deps.graph() };
}
