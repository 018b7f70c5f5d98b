import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/**
 * A dependency loaded on first use, not when the module importing it loads: libphonenumber-js, csv-parse, yaml
 * and zod each cost tens of milliseconds, which `wacx <verb> --help` must not pay. Types stay static imports.
 */
export function lazyModule<T>(name: string): () => T {
  let loaded: T | undefined;
  return () => {
    loaded ??= require(name) as T;
    return loaded;
  };
}
