import { UsageError } from '../errors.js';
import type { Io } from './io.js';

/** Interactive questions; only asked when the terminal allows it, otherwise a usage error naming the flag. */
export interface Prompter {
  input(q: {
    message: string;
    flag: string;
    default?: string;
    validate?: (v: string) => true | string;
  }): Promise<string>;
  password(q: { message: string; flag: string }): Promise<string>;
  confirm(q: { message: string; flag: string; default?: boolean }): Promise<boolean>;
  select<T extends string>(q: {
    message: string;
    flag: string;
    choices: { value: T; name?: string }[];
  }): Promise<T>;
}

export function missing(flag: string, what: string): UsageError {
  return new UsageError(`Missing ${what}: pass ${flag}.`, {
    hint: 'Prompts are only shown on an interactive terminal (not with --no-input or CI).',
  });
}

/** @inquirer/prompts, loaded lazily so that start-up stays fast. */
export function inquirerPrompter(io: Io): Prompter {
  const ensure = (flag: string, what: string) => {
    if (!io.interactive) throw missing(flag, what);
  };
  const ctx = () => ({ input: io.streams.stdin, output: io.streams.stdout });
  return {
    async input(q) {
      ensure(q.flag, q.message);
      const { input } = await import('@inquirer/prompts');
      return io.withSpinnerPaused(() =>
        input(
          {
            message: q.message,
            ...(q.default !== undefined ? { default: q.default } : {}),
            ...(q.validate ? { validate: q.validate } : {}),
          },
          ctx(),
        ),
      );
    },
    async password(q) {
      ensure(q.flag, q.message);
      const { password } = await import('@inquirer/prompts');
      return io.withSpinnerPaused(() => password({ message: q.message, mask: '*' }, ctx()));
    },
    async confirm(q) {
      ensure(q.flag, q.message);
      const { confirm } = await import('@inquirer/prompts');
      return io.withSpinnerPaused(() => confirm({ message: q.message, default: q.default ?? false }, ctx()));
    },
    async select(q) {
      ensure(q.flag, q.message);
      const { select } = await import('@inquirer/prompts');
      return io.withSpinnerPaused(() =>
        select(
          {
            message: q.message,
            choices: q.choices.map((c) => ({ value: c.value, name: c.name ?? c.value })),
          },
          ctx(),
        ),
      );
    },
  };
}
