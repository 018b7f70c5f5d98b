import type { Command } from 'commander';
import type { Deps } from '../../lib/deps.js';
import { WacxError } from '../../lib/errors.js';

// PLACEHOLDER: replaced by the issue that builds this command.
export function register(cmd: Command, _deps: Deps): void {
  cmd.action(() => {
    throw new WacxError('Not implemented yet.');
  });
}
