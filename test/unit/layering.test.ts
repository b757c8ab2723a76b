// The import rules of docs/ARCHITECTURE.md, enforced: every relative import in
// src/ is mapped to its top-level folder, and an edge outside the table (or a
// value-import cycle between files) fails. EXCEPTIONS lists what the code
// still does against the target shape, each with the reason; the list only
// shrinks (an exception no longer used fails too).
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = resolve(import.meta.dirname, '../../src');

/** folder → the folders it may import (values or types). */
const ALLOWED: Record<string, string[]> = {
  common: [],
  native: ['common'],
  spec: ['common'],
  linux: ['common', 'spec', 'native'],
  runtime: ['common', 'spec', 'linux', 'native'],
  // The `spec` verb writes the default config and --version prints the spec version.
  cli: ['common', 'runtime', 'spec'],
  image: ['common', 'spec', 'native'],
  network: ['common'],
  // spec: the build info clients' --version prints. native: the shim's control
  // socket is SOCK_SEQPACKET, which only the addon speaks (Node's net has no such socket).
  // network: the default bridge's CNI set-up (src/network) at start and exit.
  engine: ['common', 'spec', 'image', 'native', 'network', 'volume'],
  volume: ['common', 'spec'],
  network: ['common'],
  tsctl: ['common', 'engine'],
  // spec: for the request-body validators compiled at build time.
  supervisor: ['common', 'engine', 'spec'],
};

/** Edges the code still has; each goes when the part named in its reason exists. */
const EXCEPTIONS: Record<string, string> = {
};

interface Edge { from: string; to: string; typeOnly: boolean }

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'generated' ? [] : sourceFiles(p);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [p] : [];
  });
}

const IMPORT = /(?:^|\n)\s*(import|export)\s+(type\s+)?(?:[^'";]*?\s+from\s+)?['"](\.{1,2}\/[^'"]+)['"]|import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g;

function edgesOf(file: string): Edge[] {
  const out: Edge[] = [];
  const text = readFileSync(file, 'utf8');
  for (const m of text.matchAll(IMPORT)) {
    const spec = m[3] ?? m[4];
    const target = normalize(join(dirname(file), spec)).replace(/\.js$/, '.ts');
    out.push({ from: file, to: target, typeOnly: m[2] !== undefined });
  }
  return out;
}

const top = (file: string) => relative(SRC, file).split('/')[0];
const files = sourceFiles(SRC);
const edges = files.flatMap(edgesOf).filter((e) => e.to.startsWith(SRC + '/'));

describe('layering (docs/ARCHITECTURE.md, import rules)', () => {
  it('every edge between folders is allowed or a listed exception, and every exception is still used', () => {
    const bad: string[] = [];
    const used = new Set<string>();
    for (const e of edges) {
      const a = top(e.from), b = top(e.to);
      if (a === b || a.endsWith('.ts') || b.endsWith('.ts')) continue;
      if ((ALLOWED[a] ?? []).includes(b)) continue;
      const key = `${a}->${b}`;
      if (EXCEPTIONS[key]) used.add(key);
      else bad.push(`${relative(SRC, e.from)} imports ${relative(SRC, e.to)} (${key})`);
    }
    expect(bad).toEqual([]);
    expect(Object.keys(EXCEPTIONS).filter((k) => !used.has(k))).toEqual([]);
  });

  it('no value-import cycle between files', () => {
    const graph = new Map<string, string[]>();
    for (const e of edges) if (!e.typeOnly) graph.set(e.from, [...(graph.get(e.from) ?? []), e.to]);
    const state = new Map<string, 'open' | 'done'>();
    const cycles: string[] = [];
    const visit = (f: string, path: string[]) => {
      if (state.get(f) === 'done') return;
      if (state.get(f) === 'open') {
        cycles.push([...path.slice(path.indexOf(f)), f].map((p) => relative(SRC, p)).join(' -> '));
        return;
      }
      state.set(f, 'open');
      for (const t of graph.get(f) ?? []) visit(t, [...path, f]);
      state.set(f, 'done');
    };
    for (const f of files) visit(f, []);
    expect(cycles).toEqual([]);
  });

});
