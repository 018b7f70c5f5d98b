import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
/** The package version (src/lib and dist/lib both sit two levels below package.json). */
export const VERSION: string = (require('../../package.json') as { version: string }).version;
