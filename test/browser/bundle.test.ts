/**
 * What a visitor downloads: the built site's JavaScript, split into what the first load needs
 * (the page, the worker, the charts and the WebGPU backend) and what loads only on demand (the
 * WebGL, WASM and CPU backends, only where WebGPU is absent). Sizes are printed (gzip -9).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, inject, it } from 'vitest';

const outDir = inject('outDir');

/** The app's own first-load JavaScript must stay below this, gzipped. */
export const FIRST_LOAD_BUDGET_BYTES = 1.5 * 1024 * 1024;

const STATIC_IMPORT = /(?:from|import)\s*[`"']\.\/([\w.-]+\.js)[`"']/g;
const DYNAMIC_IMPORT = /import\(\s*[`"']\.\/([\w.-]+\.js)[`"']\s*\)/g;
/** Strings that only each backend's own code contains. */
const MARKERS = { webgpu: 'WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE', webgl: 'WEBGL_VERSION', wasm: 'WasmBackendModule' } as const;

function read(file: string): string {
  return readFileSync(join(outDir, 'assets', file), 'utf8');
}

/** A chunk and everything it imports statically. */
function staticClosure(entry: string): Set<string> {
  const seen = new Set<string>();
  const visit = (f: string) => {
    if (seen.has(f)) return;
    seen.add(f);
    for (const m of read(f).matchAll(STATIC_IMPORT)) visit(m[1]);
  };
  visit(entry);
  return seen;
}

function gz(files: Iterable<string>): number {
  let n = 0;
  for (const f of files) n += gzipSync(readFileSync(join(outDir, 'assets', f)), { level: 9 }).length;
  return n;
}

const kb = (n: number) => `${(n / 1024).toFixed(0)} KB`;

describe.skipIf(!outDir)('bundle', () => {
  it('keeps the first load under 1.5 MB gzipped and loads WebGL/WASM code only on demand', () => {
    const html = readFileSync(join(outDir, 'index.html'), 'utf8');
    const entry = /src="\.\/assets\/(index-[\w-]+\.js)"/.exec(html)![1];
    const page = staticClosure(entry);
    const workerFile = /new URL\(`(train\.worker-[\w-]+\.js)`/.exec(read(entry))?.[1] ?? readdirSync(join(outDir, 'assets')).find((f) => f.startsWith('train.worker-'))!;
    const worker = staticClosure(workerFile);
    const dynamicOf = (files: Set<string>) => new Set([...files].flatMap((f) => [...read(f).matchAll(DYNAMIC_IMPORT)].map((m) => m[1])));
    const charts = new Set([...dynamicOf(page)].flatMap((f) => [...staticClosure(f)]).filter((f) => f.startsWith('plotly')));
    const backends = [...dynamicOf(worker)]
      .map((f) => [...staticClosure(f)].filter((x) => !worker.has(x)))
      // A dynamic import of code the worker already holds (tfjs-core) costs nothing.
      .filter((files) => files.length > 0)
      .map((files) => {
        const code = files.map(read).join('\n');
        const kind = (Object.keys(MARKERS) as (keyof typeof MARKERS)[]).find((k) => code.includes(MARKERS[k])) ?? 'cpu';
        return { kind, files };
      });
    const webgpu = backends.find((b) => b.kind === 'webgpu');
    expect(webgpu, `backend chunks: ${JSON.stringify(backends.map((b) => b.kind))}`).toBeDefined();
    const css = readdirSync(join(outDir, 'assets')).filter((f) => f.endsWith('.css'));
    const firstLoad = new Set([...page, ...worker, ...charts, ...webgpu!.files]);
    const rows: [string, number][] = [
      ['page (React, store, views)', gz(page)],
      ['worker (training, tfjs-core, analysis)', gz(worker)],
      ['charts (plotly cartesian, lazy)', gz(charts)],
      ['WebGPU backend', gz(webgpu!.files)],
      ['styles', gz(css)],
    ];
    const total = gz(firstLoad) + gz(css);
    console.log(
      [
        'bundle sizes (gzip -9):',
        ...rows.map(([name, n]) => `  ${name.padEnd(42)} ${kb(n)}`),
        `  ${'first load with WebGPU, total'.padEnd(42)} ${kb(total)} (budget ${kb(FIRST_LOAD_BUDGET_BYTES)})`,
        ...backends.filter((b) => b.kind !== 'webgpu').map((b) => `  ${`${b.kind} backend (only without WebGPU)`.padEnd(42)} ${kb(gz(b.files))}`),
      ].join('\n'),
    );
    expect(total).toBeLessThan(FIRST_LOAD_BUDGET_BYTES);
    // Nothing of the other backends is in what every visitor loads.
    const firstCode = [...page, ...worker].map(read).join('\n');
    expect(firstCode).not.toContain(MARKERS.webgl);
    expect(firstCode).not.toContain(MARKERS.wasm);
    expect(backends.map((b) => b.kind).sort()).toEqual(['cpu', 'wasm', 'webgl', 'webgpu']);
  });
});
