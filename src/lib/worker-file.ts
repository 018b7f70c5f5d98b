import { existsSync } from 'node:fs';
import { sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WacxError } from './errors.js';

/**
 * The compiled file of a worker thread: `<name>.worker.js` next to the module that starts it (`moduleUrl`, its
 * `import.meta.url`). When the module runs from its TypeScript source (src/…/x.ts, as in the test suite), there is
 * no compiled worker beside it: the twin under dist/ (same path relative to src/, built by `npm run build`) is used,
 * so the thread that runs is the real one. No file at either place is an error, never a quiet change of behaviour.
 */
export function workerFile(moduleUrl: string, name: string): string {
  const here = fileURLToPath(new URL(`./${name}.worker.js`, moduleUrl));
  if (existsSync(here)) return here;
  const marker = `${sep}src${sep}`;
  const at = here.lastIndexOf(marker);
  const built = at < 0 ? null : `${here.slice(0, at)}${sep}dist${sep}${here.slice(at + marker.length)}`;
  if (built !== null && existsSync(built)) return built;
  throw new WacxError(
    `The compiled thread ${name}.worker.js is missing (looked at ${here}${built ? ` and ${built}` : ''}): this installation is incomplete.`,
    { hint: 'Reinstall wacx (in a source checkout: `npm run build`).' },
  );
}
