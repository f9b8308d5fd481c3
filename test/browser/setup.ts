/**
 * Global setup of the browser tests: finds Chromium, builds the site and serves it on
 * 127.0.0.1 (a secure context, so WebGPU is offered). Without Chromium the tests are skipped
 * with a message — except under CI=true, where a missing browser fails the run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build, preview, type PreviewServer } from 'vite';
import type { TestProject } from 'vitest/node';
import { findChromium } from '../../src/cli/bench/chromium.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    chromium: string | null;
    baseUrl: string;
    /** The built site, for the bundle-size report. */
    outDir: string;
  }
}


let server: PreviewServer | null = null;
let outDir: string | null = null;

export async function setup(project: TestProject): Promise<void> {
  const chromium = findChromium();
  if (!chromium) {
    if (process.env.CI === 'true') {
      throw new Error('browser tests need Chromium (apt-get install -y chromium, or set CHROMIUM_PATH); CI=true makes them required');
    }
    process.stderr.write('\n*** Chromium not found (apt-get install -y chromium, or set CHROMIUM_PATH): SKIPPING the browser tests ***\n\n');
    project.provide('chromium', null);
    project.provide('baseUrl', '');
    project.provide('outDir', '');
    return;
  }
  outDir = mkdtempSync(join(tmpdir(), 'grokscope-site-'));
  await build({ logLevel: 'warn', build: { outDir, emptyOutDir: true } });
  server = await preview({ logLevel: 'warn', build: { outDir }, preview: { host: '127.0.0.1', port: 0, strictPort: false } });
  const url = server.resolvedUrls?.local[0];
  if (!url) throw new Error('vite preview did not report its URL');
  project.provide('chromium', chromium);
  project.provide('baseUrl', url);
  project.provide('outDir', outDir);
}

export async function teardown(): Promise<void> {
  await new Promise<void>((resolve) => (server ? server.httpServer.close(() => resolve()) : resolve()));
  if (outDir) rmSync(outDir, { recursive: true, force: true });
}
