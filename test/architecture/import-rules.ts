import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

/**
 * The house's import rules (see the README's architecture section), checked on a source tree:
 * - a command imports no other command (a noun's own `shared.ts` excepted) and not the cli entry;
 * - lib imports neither commands, the cli layer nor the sandbox;
 * - the API core (lib/graph) imports nothing outside itself but lib's leaf modules (errors, clock, version);
 * - no cycle between folders.
 */
export interface Violation {
  rule: string;
  from: string;
  to: string;
}

const LEAVES = new Set(['lib/errors.ts', 'lib/clock.ts', 'lib/version.ts']);
const ENTRY = new Set(['cli/main.ts', 'cli/registry.ts', 'cli/completion.ts']);
const IMPORT =
  /(?:^|\n)\s*(?:import|export)\s[^'"`;]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path));
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/** Every relative import of every file, as paths relative to `root` with `/` separators. */
export function importGraph(root: string): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sourceFiles(root)) {
    const text = readFileSync(file, 'utf8');
    const targets: string[] = [];
    for (const m of text.matchAll(IMPORT)) {
      const spec = m[1] ?? m[2]!;
      if (!spec.startsWith('.')) continue;
      const target = resolve(dirname(file), spec).replace(/\.js$/, '.ts');
      targets.push(relative(root, target).split(sep).join('/'));
    }
    graph.set(relative(root, file).split(sep).join('/'), targets);
  }
  return graph;
}

function ruleFor(from: string, to: string): string | undefined {
  const a = room(from);
  const b = room(to);
  if (a.startsWith('commands/')) {
    if (b === 'cli/entry') return 'a command imports the cli entry point or the registry';
    // within a noun, verbs share only the noun's shared.ts
    if (b.startsWith('commands/') && !(b === a && to.endsWith('/shared.ts')))
      return 'a command imports another command';
    if (b === 'sandbox' && a !== 'commands/sandbox')
      return 'a command other than `sandbox` imports the sandbox';
  }
  if (a === 'cli/kit' && b === 'cli/entry') return 'the cli kit imports the entry point';
  if (a.startsWith('lib/')) {
    if (b.startsWith('cli/') || b.startsWith('commands/')) return 'lib imports commands or the cli layer';
    if (b === 'sandbox') return 'lib imports the sandbox';
  }
  if (a === 'lib/graph' && b !== 'lib/graph' && !LEAVES.has(to))
    return 'the API core imports something above it';
  return undefined;
}

/**
 * The room a file belongs to, as the README's architecture section draws the house: the cli entry (main, the
 * registry that loads the verbs, completion), the cli kit the verbs use (defineCommand, flag parsers, Deps, the
 * contexts handed to domains, hints), one room per command noun, one per lib domain (lib/graph/resources is part
 * of lib/graph; a file directly in lib/ is a room of its own), and the sandbox.
 */
export function room(path: string): string {
  const parts = path.split('/');
  if (parts[0] === 'cli') return ENTRY.has(path) ? 'cli/entry' : 'cli/kit';
  if (parts[0] === 'commands') return `commands/${parts[1]!.replace(/\.ts$/, '')}`;
  if (parts[0] === 'lib') return `lib/${parts[1]!.replace(/\.ts$/, '')}`;
  return parts[0]!.replace(/\.ts$/, '');
}

/** Cycles between rooms, each as the rooms around it. */
function roomCycles(graph: Map<string, string[]>): string[][] {
  const edges = new Map<string, Set<string>>();
  for (const [from, targets] of graph) {
    const a = room(from);
    for (const to of targets) {
      const b = room(to);
      if (a === b) continue;
      if (!edges.has(a)) edges.set(a, new Set());
      edges.get(a)!.add(b);
    }
  }
  const cycles: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string) => {
    state.set(node, 'open');
    stack.push(node);
    for (const next of [...(edges.get(node) ?? [])].sort()) {
      if (state.get(next) === 'open') cycles.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(node, 'done');
  };
  for (const node of [...edges.keys()].sort()) if (!state.has(node)) visit(node);
  return cycles;
}

export function checkImports(root: string): Violation[] {
  const graph = importGraph(root);
  const violations: Violation[] = [];
  for (const [from, targets] of graph) {
    for (const to of targets) {
      const rule = ruleFor(from, to);
      if (rule) violations.push({ rule, from, to });
    }
  }
  for (const cycle of roomCycles(graph))
    violations.push({ rule: 'a cycle between folders', from: cycle[0]!, to: cycle.slice(1).join(' → ') });
  return violations;
}
