import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The compiled worker `<name>.worker.js` beside the module at `moduleUrl`. Run from the TypeScript sources (the
 * test suite), that file does not exist there: then its compiled twin under dist/ is used (the suite builds dist/
 * once before it runs), so that tests exercise the same threads as production. Null when neither exists.
 */
export function workerFile(moduleUrl: string, name: string): string | null {
  const beside = fileURLToPath(new URL(`./${name}.worker.js`, moduleUrl));
  if (existsSync(beside)) return beside;
  const twin = beside.replace(/([/\\])src([/\\])(?!.*[/\\]src[/\\])/, '$1dist$2');
  return twin !== beside && existsSync(twin) ? twin : null;
}
