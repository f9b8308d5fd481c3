/**
 * The layout rules of src/ (README "How it is built", ../shared/STYLE.md), read from the code's own
 * imports so they stay true as code is added: floors, no cycles, the Worker's folder free of the
 * page, math free of React, views free of tensors, no file over 400 lines.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(dirname(new URL(import.meta.url).pathname), '..');
const SRC = join(ROOT, 'src');

/**
 * The floors of src/, from the ground up: what each top-level folder may import besides packages
 * (itself and the floors below it). worker and store stand beside each other, as do cli and client.
 */
const BELOW: Record<string, readonly string[]> = {
  random: [],
  task: ['random'],
  config: ['random', 'task'],
  model: ['random', 'task', 'config'],
  analysis: ['random', 'task', 'config', 'model'],
  run: ['random', 'task', 'config', 'model', 'analysis'],
  files: ['random', 'task', 'config', 'model', 'analysis', 'run'],
  worker: ['random', 'task', 'config', 'model', 'analysis', 'run', 'files'],
  store: ['random', 'task', 'config', 'model', 'analysis', 'run'],
  cli: ['random', 'task', 'config', 'model', 'analysis', 'run', 'files', 'worker'],
  client: ['random', 'task', 'config', 'model', 'analysis', 'run', 'files', 'store'],
  ui: ['random', 'task', 'config', 'model', 'analysis', 'run', 'files', 'store', 'client'],
  // src/main.tsx, the page's entry.
  '.': ['random', 'task', 'config', 'model', 'analysis', 'run', 'files', 'store', 'client', 'ui'],
};
const MAY_IMPORT: Record<string, readonly string[]> = Object.fromEntries(Object.entries(BELOW).map(([f, below]) => [f, [...below, f]]));

/** Folders whose code never imports React (the math, the worker, the shared formats, the store's logic). */
const NO_REACT = ['random', 'task', 'config', 'model', 'analysis', 'run', 'files', 'worker', 'client', 'cli'];
/** Folders whose code never touches tensors (the ground floors, the file formats, views and the page's state). */
const NO_TENSORS = ['random', 'task', 'config', 'files', 'ui', 'store', 'client'];
/** Globals that exist only on the page: the Worker's code must not use them. */
const PAGE_GLOBALS = /\b(document|window|indexedDB|localStorage)\b/;
const MAX_LINES = 400;
/** A folder holds at most this many source files of its own; more, and it is split into rooms by what they hold. */
const MAX_FILES_PER_FOLDER = 15;

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

const files = walk(SRC).filter((f) => /\.(ts|tsx|css)$/.test(f));
const code = files.filter((f) => /\.tsx?$/.test(f));

/** Source without comments (so a comment may mention `window` or an old path). */
function stripComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

interface Import {
  spec: string;
  /** The file it resolves to, relative to src/, or null for a package. */
  target: string | null;
}

/** Static, dynamic and side-effect imports, and the Worker's `new URL(…)` entry. */
function importsOf(file: string): { imports: Import[]; workerEntries: string[] } {
  const text = stripComments(readFileSync(file, 'utf8'));
  const imports: Import[] = [];
  const patterns = [/\b(?:import|export)\s[^;]*?\bfrom\s*['"]([^'"]+)['"]/g, /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g, /\bimport\s+['"]([^'"]+)['"]/g];
  for (const re of patterns) {
    for (const m of text.matchAll(re)) {
      const spec = m[1];
      const target = spec.startsWith('.') ? relative(SRC, normalize(join(dirname(file), spec))) : null;
      imports.push({ spec, target });
    }
  }
  const workerEntries = [...text.matchAll(/new\s+URL\(\s*['"]([^'"]+)['"]\s*,\s*import\.meta\.url/g)].map((m) => relative(SRC, normalize(join(dirname(file), m[1]))));
  return { imports, workerEntries };
}

/** The top-level folder of a path relative to src/ ('.' for src/main.tsx): its floor. */
function folderOf(srcPath: string): string {
  const parts = srcPath.split('/');
  return parts.length > 1 ? parts[0] : '.';
}

/** The folder a file stands in, relative to src/ ('.' for src/ itself): its room. */
function roomOf(srcPath: string): string {
  return dirname(srcPath);
}

/** The first cycle of a directed graph, as a path that ends where it starts, or null. */
function firstCycle(nodes: Iterable<string>, next: (n: string) => Iterable<string>): string[] | null {
  const state = new Map<string, 'open' | 'done'>();
  const visit = (n: string, path: string[]): string[] | null => {
    if (state.get(n) === 'done') return null;
    if (state.get(n) === 'open') return [...path.slice(path.indexOf(n)), n];
    state.set(n, 'open');
    for (const m of next(n)) {
      const found = visit(m, [...path, n]);
      if (found) return found;
    }
    state.set(n, 'done');
    return null;
  };
  for (const n of nodes) {
    const found = visit(n, []);
    if (found) return found;
  }
  return null;
}

const graph = new Map(code.map((f) => [relative(SRC, f), importsOf(f)]));

describe('layout of src/', () => {
  it('knows every folder', () => {
    const folders = new Set([...graph.keys()].map(folderOf));
    expect([...folders].filter((f) => !(f in MAY_IMPORT))).toEqual([]);
  });

  it('each file imports only its own folder and the floors below it', () => {
    const wrong: string[] = [];
    for (const [file, { imports }] of graph) {
      const allowed = MAY_IMPORT[folderOf(file)] ?? [];
      for (const imp of imports) {
        if (imp.target === null) continue;
        if (imp.target.startsWith('..')) wrong.push(`${file} imports ${imp.spec}, outside src/`);
        else if (!allowed.includes(folderOf(imp.target))) wrong.push(`${file} → ${imp.target}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('every relative import resolves to a file', () => {
    const missing = [...graph].flatMap(([file, { imports }]) =>
      imports.filter((i) => i.target !== null && !i.target.endsWith('.css') && !graph.has(i.target)).map((i) => `${file} → ${i.spec}`),
    );
    expect(missing).toEqual([]);
  });

  it('only the page-side client starts the Workers, by their entry files', () => {
    const entries = [...graph].flatMap(([file, { workerEntries }]) => workerEntries.map((e) => `${file} → ${e}`));
    // The run's worker, the sweep's (issue #13) and the appendix tasks' (#22), which train beside it, and the one that reads imported files (#24).
    expect(entries.sort()).toEqual([
      'client/client.ts → worker/measure.worker.ts',
      'client/client.ts → worker/train.worker.ts',
      'client/runs/import-worker.ts → worker/import.worker.ts',
      'client/sequence.ts → worker/sequence.worker.ts',
      'client/sweep/sweep.ts → worker/sweep.worker.ts',
    ]);
  });

  it('has no import cycles', () => {
    const cycle = firstCycle(graph.keys(), (f) => (graph.get(f)?.imports ?? []).flatMap((i) => (i.target && graph.has(i.target) ? [i.target] : [])));
    expect(cycle?.join(' → ') ?? null).toBeNull();
  });

  it('rooms (folders) stand on each other without a cycle: a folder never imports one that imports it back', () => {
    const roomImports = new Map<string, Set<string>>();
    for (const [file, { imports }] of graph) {
      const from = roomOf(file);
      const to = roomImports.get(from) ?? new Set<string>();
      for (const imp of imports) if (imp.target && graph.has(imp.target) && roomOf(imp.target) !== from) to.add(roomOf(imp.target));
      roomImports.set(from, to);
    }
    const cycle = firstCycle(roomImports.keys(), (r) => roomImports.get(r) ?? []);
    expect(cycle?.join(' → ') ?? null).toBeNull();
  });

  it(`no folder holds more than ${MAX_FILES_PER_FOLDER} source files of its own`, () => {
    const perRoom = new Map<string, number>();
    for (const f of files) perRoom.set(roomOf(relative(SRC, f)), (perRoom.get(roomOf(relative(SRC, f))) ?? 0) + 1);
    expect([...perRoom].filter(([, n]) => n > MAX_FILES_PER_FOLDER).map(([room, n]) => `src/${room}: ${n} files`)).toEqual([]);
  });

  it("every folder of src/ is named in the README's 'How it is built', which says what it holds", () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const built = readme.slice(readme.indexOf('## How it is built'));
    const block = built.slice(built.indexOf('```'), built.indexOf('```', built.indexOf('```') + 3));
    const rooms = [...new Set(files.map((f) => roomOf(relative(SRC, f))))].filter((r) => r !== '.');
    const named = new Set(block.split(/\s+/).map((word) => word.replace(/\/$/, '')));
    expect(rooms.filter((r) => !named.has(`src/${r}`)).map((r) => `src/${r}`)).toEqual([]);
  });

  it("the Worker's folder never touches the page's globals", () => {
    const found = [...graph.keys()]
      .filter((f) => folderOf(f) === 'worker')
      .flatMap((f) => {
        const m = stripComments(readFileSync(join(SRC, f), 'utf8')).match(PAGE_GLOBALS);
        return m ? [`${f} uses ${m[0]}`] : [];
      });
    expect(found).toEqual([]);
  });

  it('math and the worker never import React; views and the page state never import tfjs', () => {
    const wrong: string[] = [];
    for (const [file, { imports }] of graph) {
      const folder = folderOf(file);
      for (const { spec } of imports) {
        if (NO_REACT.includes(folder) && /^react(-dom)?(\/|$)/.test(spec)) wrong.push(`${file} imports ${spec}`);
        if (NO_TENSORS.includes(folder) && spec.startsWith('@tensorflow/')) wrong.push(`${file} imports ${spec}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it(`no source file is over ${MAX_LINES} lines`, () => {
    const long = files.map((f) => ({ f: relative(SRC, f), lines: readFileSync(f, 'utf8').split('\n').length })).filter((x) => x.lines > MAX_LINES);
    expect(long.map((x) => `${x.f}: ${x.lines} lines`)).toEqual([]);
  });

  it('the checker sees imports of every form (so a rule cannot pass by not looking)', () => {
    const { imports, workerEntries } = importsOf(join(SRC, 'client', 'client.ts'));
    expect(imports.some((i) => i.target === 'store/store.ts')).toBe(true);
    expect(workerEntries).toEqual(['worker/train.worker.ts', 'worker/measure.worker.ts']);
    const backends = importsOf(join(SRC, 'worker', 'backend', 'loaders.ts')).imports.map((i) => i.spec);
    expect(backends).toContain('@tensorflow/tfjs-backend-wasm');
    // A room's imports are seen across rooms: the fused step stands on the transformer.
    const fused = importsOf(join(SRC, 'model', 'webgpu', 'fused-step.ts')).imports.flatMap((i) => (i.target ? [roomOf(i.target)] : []));
    expect(fused).toContain('model/transformer');
  });
});
