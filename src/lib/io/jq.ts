import { createRequire } from 'node:module';
import { UsageError } from '../errors.js';

/**
 * jq itself (jq-wasm: jqlang's jq compiled to WebAssembly), so `--jq` behaves as jq does, not like a subset.
 * Loaded only when --jq is given.
 */
interface JqWasm {
  raw(data: string | object, filter: string, flags?: string[]): Promise<string>;
}

let jq: JqWasm | undefined;
function load(): JqWasm {
  jq ??= createRequire(import.meta.url)('jq-wasm') as JqWasm;
  return jq;
}

/** jq's own message, without the wrapper's prefix. */
function jqMessage(error: unknown): string {
  return String((error as Error).message ?? error)
    .replace(/^Failed to execute raw query:\s*/, '')
    .trim();
}

/** Filters a stream of JSON values; strings come out raw, every other result as one compact line. */
export async function runJq(input: string, filter: string): Promise<string> {
  try {
    const out = await load().raw(input, filter, ['-r', '-c']);
    return out === '' || out.endsWith('\n') ? out : `${out}\n`;
  } catch (error) {
    throw new Error(`--jq: ${jqMessage(error)}`);
  }
}

/** A filter that jq cannot compile is a usage error, found before the command does anything. */
export async function checkJqFilter(filter: string): Promise<void> {
  try {
    await load().raw('null', filter, ['-c']);
  } catch (error) {
    const message = jqMessage(error);
    if (/compile error|syntax error/i.test(message)) {
      throw new UsageError(`Invalid jq filter: ${message.split('\n')[0]}`, {
        location: '--jq',
        hint: "Quote the filter for your shell, e.g. --jq '.[] | .name'.",
      });
    }
    // A filter that fails only on `null` (e.g. `.[0]`) may well work on the real output.
  }
}
