import type { InProcessSandbox } from '../lib/deps.js';
import { WacxError } from '../lib/errors.js';

// PLACEHOLDER: replaced by the sandbox issue.
export async function startInProcessSandbox(_options: { env: NodeJS.ProcessEnv }): Promise<InProcessSandbox> {
  throw new WacxError('The sandbox is not implemented yet.');
}
