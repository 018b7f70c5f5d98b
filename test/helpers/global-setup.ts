import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Builds dist/ once before any test file runs (the build step of `npm run build`): the end-to-end suites drive the
 * built CLI (bin/wacx.js) as a real process, so they always test the sources of this run, never a stale or missing
 * build, and never skip.
 */
export default function buildOnce(): void {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
  execFileSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { cwd: root, stdio: 'inherit' });
}
