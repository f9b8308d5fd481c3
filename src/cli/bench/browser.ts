/**
 * The browser half of `npm run bench`: builds the site, serves it on 127.0.0.1, and opens it in
 * headless Chromium (WebGPU on) once per backend, handing each page to a measurement, which runs
 * the bench harness inside the page's own worker (`window.grokscope.bench`).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import type { BackendInfo, BackendName } from '../../config/backends.ts';
import { DEFAULT_CONFIG } from '../../config/schema.ts';
import { encodeQuery } from '../../config/url.ts';
import type { Command, WorkerEvent } from '../../run/protocol.ts';
import { UsageError } from '../node/args.ts';
import { CHROMIUM_QUIET_FLAGS, findChromium } from './chromium.ts';

export type BenchAnswer = Extract<WorkerEvent, { type: 'bench' }>;

/** What the page's `bench` (client.ts `benchWorker`) takes: the worker's bench command, defaults aside. */
export type PageBenchOptions = Omit<Extract<Command, { type: 'bench' }>, 'type' | 'requestId'>;

export interface PageHandle {
  grokscope: {
    store: { getState(): { status: string; backend: BackendInfo | null } };
    bench(opts: PageBenchOptions): Promise<BenchAnswer>;
  };
}

/** Runs `measure` in a page of the built site on each backend Chromium offers (others are skipped, said on `log`). */
export async function inBrowser(backends: BackendName[], log: (s: string) => void, measure: (page: Page, backend: BackendInfo, chromiumVersion: string) => Promise<void>): Promise<void> {
  const executablePath = findChromium();
  if (!executablePath) throw new UsageError('--browser needs Chromium (apt-get install -y chromium, or set CHROMIUM_PATH)');
  const { build, preview } = await import('vite');
  const { chromium } = await import('playwright-core');
  const outDir = mkdtempSync(join(tmpdir(), 'grokscope-bench-site-'));
  log('building the site…');
  await build({ logLevel: 'warn', build: { outDir, emptyOutDir: true } });
  const server = await preview({ logLevel: 'warn', build: { outDir }, preview: { host: '127.0.0.1', port: 0, strictPort: false } });
  const browser = await chromium.launch({ executablePath, headless: true, args: ['--enable-unsafe-webgpu', ...CHROMIUM_QUIET_FLAGS] });
  try {
    const version = browser.version();
    for (const name of backends) {
      const page = await browser.newPage();
      try {
        // The page's own run is a tiny one (it starts in seconds even on a software GPU); the
        // benchmark builds its own trainers with the configuration asked for.
        const query = encodeQuery({ config: { ...DEFAULT_CONFIG, p: 7, dModel: 8, nHeads: 2, dMlp: 16, frac: 0.5 }, preset: null, backend: name, keyFreqs: null });
        await page.goto(`${server.resolvedUrls!.local[0]}?${query}`);
        await page.waitForFunction(() => {
          const st = (window as unknown as PageHandle).grokscope?.store.getState();
          return st && st.status !== 'starting' && st.backend !== null;
        }, undefined, { timeout: 120_000 });
        const backend = await page.evaluate(() => (window as unknown as PageHandle).grokscope.store.getState().backend!);
        if (backend.name !== name) {
          log(`${name}: not available in this browser (it fell back to ${backend.name}); skipped`);
          continue;
        }
        log(`${name} (${backend.adapter}): timing…`);
        await measure(page, backend, version);
      } finally {
        await page.close();
      }
    }
  } finally {
    await browser.close();
    await new Promise<void>((resolve) => server.httpServer.close(() => resolve()));
    rmSync(outDir, { recursive: true, force: true });
  }
}

/** Asks the page's worker to benchmark; throws the worker's error. */
export async function benchInPage(page: Page, opts: PageBenchOptions): Promise<BenchAnswer> {
  const answer = await page.evaluate((o) => (window as unknown as PageHandle).grokscope.bench(o), opts);
  if (answer.error) throw new Error(`${answer.backend.name}: ${answer.error}`);
  return answer;
}
