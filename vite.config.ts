import { defineConfig, type Plugin } from 'vitest/config';
import react from '@vitejs/plugin-react';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { readImportFile } from './src/files/import-file.ts';
import { splitRecording } from './src/files/recording.ts';

/**
 * Social previews need an absolute og:image URL. The deploy sets VITE_SITE_URL (the hosted
 * address); without it the image stays relative, which some previewers also accept.
 */
function absoluteOgImage(): Plugin {
  return {
    name: 'grokscope-og-image',
    transformIndexHtml(html) {
      const site = process.env.VITE_SITE_URL;
      if (!site) return html;
      return html.replace('<meta property="og:image" content="og.png" />', `<meta property="og:image" content="${new URL('og.png', site).href}" />`);
    },
  };
}

/**
 * tfjs starts the threads of its threaded wasm from `factory.toString()`, so the factory must not
 * use a variable of the scope around it; Emscripten's `_scriptDir` is one, and a minifier drops
 * its `typeof` guard ("e is not defined" in every thread). Declaring it inside the factory keeps
 * the value (undefined in a worker, where the factory runs) and makes the source self-contained.
 */
function selfContainedThreadedWasm(): Plugin {
  const outer = /var _scriptDir = typeof document !== 'undefined' && document\.currentScript \? document\.currentScript\.src : undefined;\s*if \(typeof __filename !== 'undefined'\) _scriptDir = _scriptDir \|\| __filename;\s*return \(\s*function\(WasmBackendModuleThreadedSimd\) \{/;
  return {
    name: 'grokscope-threaded-wasm',
    transform(code, id) {
      if (!id.includes('tfjs-backend-wasm-threaded-simd.js')) return null;
      if (!outer.test(code)) this.error('tfjs-backend-wasm-threaded-simd.js changed: update selfContainedThreadedWasm in vite.config.ts');
      return code.replace(outer, "return (\nfunction(WasmBackendModuleThreadedSimd) {\n  var _scriptDir = typeof document !== 'undefined' && document.currentScript ? document.currentScript.src : undefined;");
    },
  };
}

/**
 * Each recorded run in public/runs/ (a whole .grokrun.gz, kept for Import, the CLI and old links)
 * is also laid out in pieces for the static host at build time (src/files/recording.ts, the same as
 * `npm run cli -- split`): dist/runs/<name>/recording.json, head.grokrun.gz, snapshots.bin. The
 * repository holds the recording once; `npm run dev` has no pieces and opens the whole file.
 */
function recordingPieces(): Plugin {
  let outDir = 'dist';
  return {
    name: 'grokscope-recording-pieces',
    apply: 'build',
    configResolved(config) {
      outDir = config.build.outDir;
    },
    async closeBundle() {
      for (const file of readdirSync('public/runs').filter((f) => f.endsWith('.grokrun.gz'))) {
        const read = await readImportFile(new Uint8Array(readFileSync(join('public/runs', file))), { name: file });
        if (read.kind !== 'run') throw new Error(`public/runs/${file} is not a run file`);
        const { head, pieces, manifest } = splitRecording(read.run);
        const dir = join(outDir, 'runs', file.replace(/\.grokrun\.gz$/, ''));
        mkdirSync(dir, { recursive: true });
        writeFileSync(join(dir, manifest.head), gzipSync(head, { level: 9 }));
        writeFileSync(join(dir, manifest.pieces), pieces);
        writeFileSync(join(dir, 'recording.json'), `${JSON.stringify(manifest)}\n`);
      }
    },
  };
}

/** What makes a page cross-origin isolated; public/isolation-sw.js adds the same on static hosts. */
const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default defineConfig({
  // Relative base: the built site works under any path (GitHub Pages project sites included).
  base: './',
  plugins: [react(), absoluteOgImage(), selfContainedThreadedWasm(), recordingPieces()],
  worker: { format: 'es', plugins: () => [selfContainedThreadedWasm()] },
  optimizeDeps: {
    include: ['@tensorflow/tfjs-core', '@tensorflow/tfjs-backend-webgpu', '@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-backend-webgl', '@tensorflow/tfjs-backend-cpu'],
  },
  build: {
    target: 'es2022',
    chunkSizeWarningLimit: 2000,
  },
  // Cross-origin isolation (SharedArrayBuffer) lets tfjs run its threaded wasm binary (#11).
  preview: { host: '127.0.0.1', headers: ISOLATION_HEADERS },
  server: { host: '127.0.0.1', headers: ISOLATION_HEADERS },
  test: {
    pool: 'forks',
    reporters: ['default', './test/summary-reporter.ts'],
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          // Unit tests first, then the browser tests alone: they time the page's main thread.
          sequence: { groupOrder: 0 },
          include: ['test/**/*.test.ts'],
          exclude: ['test/browser/**'],
          testTimeout: 60_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'browser',
          sequence: { groupOrder: 1 },
          include: ['test/browser/**/*.test.ts'],
          globalSetup: ['test/browser/setup.ts'],
          fileParallelism: false,
          testTimeout: 300_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
