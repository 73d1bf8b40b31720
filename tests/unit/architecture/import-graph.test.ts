/**
 * The import graph of electron/, shared/ and renderer/src/, type-only imports included:
 * ESLint's import-x/no-cycle sees value imports only, so a circle made of `import type`
 * lines (engine.ts ↔ admin/ ↔ live/ before the architecture step) would pass lint. This
 * reads the sources as text (no sockets, no processes) and fails on any circle, naming it.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

const ROOT = path.resolve(import.meta.dirname, '..', '..', '..');
const SOURCE_DIRS = ['electron', 'shared', 'renderer/src'];
const SOURCE_FILE = /\.(ts|tsx|cts|mts)$/;
/** `import … from '…'`, `export … from '…'`, `import '…'` and `import('…')`, `import type` included. */
const SPECIFIER = /(?:^|\n)\s*(?:import|export)\s(?:[^'";]*?\sfrom\s*)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

function sourceFiles(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir)).flatMap((name) => {
    const relative = path.posix.join(dir, name);
    if (statSync(path.join(ROOT, relative)).isDirectory()) return sourceFiles(relative);
    return SOURCE_FILE.test(name) && !name.endsWith('.d.ts') ? [relative] : [];
  });
}

/** The repository file a relative specifier names (`./x.js` is `./x.ts` or `./x.tsx`), if any. */
function resolveSpecifier(from: string, specifier: string, known: Set<string>): string | undefined {
  if (!specifier.startsWith('.')) return undefined;
  const base = path.posix.normalize(path.posix.join(path.posix.dirname(from), specifier));
  const stem = base.replace(/\.(js|mjs|cjs|ts|tsx)$/, '');
  return [base, `${stem}.ts`, `${stem}.tsx`, `${stem}.cts`, `${stem}.mts`, `${base}/index.ts`].find((candidate) => known.has(candidate));
}

export function importGraph(files: string[]): Map<string, string[]> {
  const known = new Set(files);
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const text = readFileSync(path.join(ROOT, file), 'utf8');
    const targets = [...text.matchAll(SPECIFIER)].map((match) => resolveSpecifier(file, match[1] ?? match[2], known)).filter((target) => target !== undefined);
    graph.set(file, [...new Set(targets)]);
  }
  return graph;
}

/** Strongly connected components with more than one file, or a file importing itself (Tarjan). */
export function importCircles(graph: Map<string, string[]>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const circles: string[][] = [];
  const visit = (file: string) => {
    index.set(file, counter);
    low.set(file, counter);
    counter += 1;
    stack.push(file);
    onStack.add(file);
    for (const next of graph.get(file) ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(file, Math.min(low.get(file)!, low.get(next)!));
      } else if (onStack.has(next)) low.set(file, Math.min(low.get(file)!, index.get(next)!));
    }
    if (low.get(file) !== index.get(file)) return;
    const component: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      component.push(member);
    } while (member !== file);
    if (component.length > 1 || (graph.get(file) ?? []).includes(file)) circles.push(component.sort());
  };
  for (const file of graph.keys()) if (!index.has(file)) visit(file);
  return circles;
}

test('the reader finds a circle made of type-only imports', () => {
  const graph = new Map([
    ['a.ts', ['b.ts']],
    ['b.ts', ['c.ts']],
    ['c.ts', ['a.ts']],
    ['d.ts', ['a.ts']],
  ]);
  assert.deepEqual(importCircles(graph), [['a.ts', 'b.ts', 'c.ts']]);
  assert.deepEqual(
    [..."import type { Engine } from '../engine.js';\nexport { x } from './x.js';".matchAll(SPECIFIER)].map((m) => m[1]),
    ['../engine.js', './x.js'],
  );
});

test('no import circles in electron/, shared/ and renderer/src/, type-only imports included', () => {
  const files = SOURCE_DIRS.flatMap(sourceFiles);
  const graph = importGraph(files);
  assert.ok(graph.get('electron/engine/engine.ts')?.length, 'the reader followed the engine’s imports');
  const circles = importCircles(graph);
  assert.deepEqual(
    circles.map((circle) => circle.join(' → ')),
    [],
  );
});

test('the engine imports nothing from the Electron shell, type-only imports included', () => {
  const graph = importGraph(SOURCE_DIRS.flatMap(sourceFiles));
  const upward = [...graph].flatMap(([file, targets]) =>
    file.startsWith('electron/engine/') ? targets.filter((t) => t.startsWith('electron/desktop/')).map((t) => `${file} → ${t}`) : [],
  );
  assert.deepEqual(upward, []);
});
