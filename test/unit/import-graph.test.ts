/**
 * The runtime import graph of the TypeScript sources: no cycles, the agent and the Worker (with
 * its Durable Object) never import each other, and the control plane takes only the Scheduler
 * class from the Durable Object side. Type-only imports are erased at build time,
 * so they are not edges.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const FOLDERS = ['src', 'durable-objects', 'protocol', 'worker-agent', 'cli'];

function sourcesUnder(folder: string): string[] {
  return readdirSync(join(ROOT, folder), { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.ts') && !name.endsWith('.d.ts'))
    .map((name) => join(folder, name));
}

/** Relative specifiers of `import … from`, `export … from` and `import(…)`, type-only ones left out. */
function runtimeSpecifiers(source: string): string[] {
  const statements = /^\s*(import|export)\s+(type\s+)?[^;]*?\sfrom\s+['"]([^'"]+)['"]/gms;
  const bare = /^\s*import\s+['"]([^'"]+)['"]/gm;
  const dynamic = /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;
  const found: string[] = [];
  for (const match of source.matchAll(statements)) if (!match[2]) found.push(match[3]!);
  for (const match of source.matchAll(bare)) found.push(match[1]!);
  for (const match of source.matchAll(dynamic)) found.push(match[1]!);
  return found.filter((specifier) => specifier.startsWith('.'));
}

function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of FOLDERS.flatMap(sourcesUnder)) {
    const source = readFileSync(join(ROOT, file), 'utf8');
    graph.set(
      file,
      runtimeSpecifiers(source).map((specifier) =>
        relative(ROOT, resolve(ROOT, dirname(file), specifier)),
      ),
    );
  }
  return graph;
}

/** Every cycle found by a depth-first walk, each as the path that closes it. */
function cycles(graph: Map<string, string[]>): string[][] {
  const found: string[][] = [];
  const done = new Set<string>();
  const stack: string[] = [];
  const visit = (file: string) => {
    const open = stack.indexOf(file);
    if (open >= 0) return void found.push([...stack.slice(open), file]);
    if (done.has(file)) return;
    stack.push(file);
    for (const next of graph.get(file) ?? []) visit(next);
    stack.pop();
    done.add(file);
  };
  for (const file of graph.keys()) visit(file);
  return found;
}

describe('import graph', () => {
  const graph = importGraph();

  it('reads the kinds of specifier it must', () => {
    const source = [
      `import { a } from './a.ts';`,
      `import type { B } from './b.ts';`,
      `export { c } from '../c.ts';`,
      `export type { D } from './d.ts';`,
      `import {\n  e,\n  type E,\n} from './e.ts';`,
      `import './f.ts';`,
      `const g = await import('./g.ts');`,
      `import { z } from 'zod';`,
    ].join('\n');
    expect(runtimeSpecifiers(source)).toEqual(['./a.ts', '../c.ts', './e.ts', './f.ts', './g.ts']);
  });

  it('finds the sources', () => {
    expect(graph.size).toBeGreaterThan(100);
    expect(graph.get('src/index.ts')).toContain('durable-objects/scheduler.ts');
  });

  it('has no cycle', () => {
    expect(cycles(graph).map((cycle) => cycle.join(' -> '))).toEqual([]);
  });

  it('keeps the agent and the Worker apart', () => {
    const crossings = [...graph].flatMap(([file, targets]) =>
      targets
        .filter((target) =>
          file.startsWith('worker-agent/')
            ? /^(src|durable-objects)\//.test(target)
            : /^(src|durable-objects)\//.test(file) && target.startsWith('worker-agent/'),
        )
        .map((target) => `${file} -> ${target}`),
    );
    expect(crossings).toEqual([]);
  });

  it('lets the control plane import only the Scheduler class from the Durable Object side', () => {
    const reached = [...graph].flatMap(([file, targets]) =>
      file.startsWith('src/')
        ? targets.filter((target) => target.startsWith('durable-objects/'))
        : [],
    );
    expect(reached).toEqual(['durable-objects/scheduler.ts']);
  });
});
