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

/** What each folder of src/ may import besides packages: itself and the floors below it. */
const MAY_IMPORT: Record<string, readonly string[]> = {
  config: ['config'],
  model: ['config', 'model'],
  analysis: ['config', 'model', 'analysis'],
  run: ['config', 'model', 'analysis', 'run'],
  worker: ['config', 'model', 'analysis', 'run', 'worker'],
  store: ['config', 'model', 'analysis', 'run', 'store'],
  cli: ['config', 'model', 'analysis', 'run', 'worker', 'cli'],
  client: ['config', 'model', 'analysis', 'run', 'store', 'client'],
  ui: ['config', 'model', 'analysis', 'run', 'store', 'client', 'ui'],
  // src/main.tsx, the page's entry.
  '.': ['config', 'model', 'analysis', 'run', 'store', 'client', 'ui'],
};

/** Folders whose code never imports React (the math, the worker, the shared formats, the store's logic). */
const NO_REACT = ['config', 'model', 'analysis', 'run', 'worker', 'client', 'cli'];
/** Folders whose code never touches tensors (views and the page's state). */
const NO_TENSORS = ['ui', 'store', 'client'];
/** Globals that exist only on the page: the Worker's code must not use them. */
const PAGE_GLOBALS = /\b(document|window|indexedDB|localStorage)\b/;
const MAX_LINES = 400;

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

function folderOf(srcPath: string): string {
  const parts = srcPath.split('/');
  return parts.length > 1 ? parts[0] : '.';
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
    // The run's worker, and the sweep's (issue #13), which trains beside it.
    expect(entries.sort()).toEqual(['client/client.ts → worker/train.worker.ts', 'client/sweep.ts → worker/sweep.worker.ts']);
  });

  it('has no import cycles', () => {
    const state = new Map<string, 'open' | 'done'>();
    const cycles: string[] = [];
    const visit = (file: string, path: string[]) => {
      if (state.get(file) === 'done') return;
      if (state.get(file) === 'open') {
        cycles.push([...path.slice(path.indexOf(file)), file].join(' → '));
        return;
      }
      state.set(file, 'open');
      for (const imp of graph.get(file)?.imports ?? []) if (imp.target && graph.has(imp.target)) visit(imp.target, [...path, file]);
      state.set(file, 'done');
    };
    for (const file of graph.keys()) visit(file, []);
    expect(cycles).toEqual([]);
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
    expect(workerEntries).toEqual(['worker/train.worker.ts']);
    const backends = importsOf(join(SRC, 'worker', 'backends.ts')).imports.map((i) => i.spec);
    expect(backends).toContain('@tensorflow/tfjs-backend-wasm');
  });
});
