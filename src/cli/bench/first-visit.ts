/**
 * `npm run bench -- --first-visit`: the first seconds of a visit (issue #25), measured in headless
 * Chromium on the built site with a fresh profile each time: when Train can be pressed, when the
 * first checkpoint follows a press, and when the recorded run's first curve is drawn and how many
 * bytes came before it. Times are from the page's navigation start (performance.now()).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { UsageError } from '../node/args.ts';
import { CHROMIUM_QUIET_FLAGS, findChromium } from './chromium.ts';

export interface FirstVisit {
  /** The Train button's first paint, and when it is enabled (ms since navigation start). */
  trainShownMs: number;
  trainUsableMs: number;
  /** Train pressed as soon as usable: its first checkpoint (epoch ≥ 1) on the curves, after the press. */
  firstCheckpointMs: number;
  /** The same on a repeat visit, Train pressed once the run is ready (remembered backend). */
  repeatUsableMs: number;
  repeatFirstCheckpointMs: number;
  /**
   * ?run=reference: the loss curve drawn (from the file's head, while the training worker may still
   * be starting), the bytes received before it (all, and the recording's), and when the worker has
   * the run open (scrubbing and the heavy views work from then).
   */
  referenceCurveMs: number;
  referenceOpenMs: number;
  bytesBeforeCurve: number;
  recordingBytesBeforeCurve: number;
}

type Handle = { grokscope: { store: { getState(): { status: string; recording: unknown; recordingRequest: unknown; history: { toArray(): { epoch: number }[] } } } } };

/**
 * ms since navigation start when `cond` (run in the page, where it answers performance.now() once
 * it holds, else false) first holds.
 */
async function whenInPage(page: Page, cond: () => number | false, timeoutMs = 300_000): Promise<number> {
  const handle = await page.waitForFunction(cond, undefined, { timeout: timeoutMs, polling: 10 });
  return (await handle.jsonValue()) as number;
}

const trainEnabled = () => {
  const b = document.querySelector<HTMLButtonElement>('[data-testid=train]');
  return !!b && !b.disabled && performance.now();
};
const trainShown = () => document.querySelector('[data-testid=train]') !== null && performance.now();
const checkpointed = () => ((window as unknown as Handle).grokscope?.store.getState().history.toArray().some((c) => c.epoch > 0) ?? false) && performance.now();
const pressTrain = (page: Page) => page.evaluate(() => {
  document.querySelector<HTMLButtonElement>('[data-testid=train]')!.click();
  return performance.now();
});

async function withProfile<T>(launch: (dir: string) => Promise<BrowserContext>, use: (page: Page) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'grokscope-first-visit-'));
  const context = await launch(dir);
  try {
    return await use(context.pages()[0] ?? (await context.newPage()));
  } finally {
    await context.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function benchFirstVisit(log: (s: string) => void): Promise<FirstVisit> {
  const executablePath = findChromium();
  if (!executablePath) throw new UsageError('--first-visit needs Chromium (apt-get install -y chromium, or set CHROMIUM_PATH)');
  const { build, preview } = await import('vite');
  const { chromium } = await import('playwright-core');
  const outDir = mkdtempSync(join(tmpdir(), 'grokscope-first-visit-site-'));
  log('building the site…');
  await build({ logLevel: 'warn', build: { outDir, emptyOutDir: true } });
  const server = await preview({ logLevel: 'warn', build: { outDir }, preview: { host: '127.0.0.1', port: 0, strictPort: false } });
  const url = server.resolvedUrls!.local[0];
  const launch = (dir: string) => chromium.launchPersistentContext(dir, { executablePath, headless: true, args: [...CHROMIUM_QUIET_FLAGS], viewport: { width: 1400, height: 1000 } });
  try {
    log('a first visit: Train, then a repeat visit…');
    const train = await withProfile(launch, async (page) => {
      await page.goto(url, { waitUntil: 'commit' });
      const trainShownMs = await whenInPage(page, trainShown);
      const trainUsableMs = await whenInPage(page, trainEnabled);
      const pressed = await pressTrain(page);
      const firstCheckpointMs = (await whenInPage(page, checkpointed)) - pressed;
      await page.getByTestId('pause').click();
      await whenInPage(page, () => (window as unknown as Handle).grokscope.store.getState().status === 'paused' && performance.now());
      // A repeat visit: a new run (Reset) on the remembered backend, Train pressed once it is ready.
      await page.goto(url, { waitUntil: 'commit' });
      const repeatUsableMs = await whenInPage(page, trainEnabled);
      await whenInPage(page, () => ['idle', 'paused'].includes((window as unknown as Handle).grokscope?.store.getState().status ?? '') && performance.now());
      if (await page.evaluate(checkpointed)) {
        await page.getByTestId('reset').click();
        await whenInPage(page, () => (window as unknown as Handle).grokscope.store.getState().status === 'idle' && !(window as unknown as Handle).grokscope.store.getState().history.toArray().some((c) => c.epoch > 0) && performance.now());
      }
      const again = await pressTrain(page);
      const repeatFirstCheckpointMs = (await whenInPage(page, checkpointed)) - again;
      return { trainShownMs, trainUsableMs, firstCheckpointMs, repeatUsableMs, repeatFirstCheckpointMs };
    });
    log('a first visit to ?run=reference…');
    const reference = await withProfile(launch, async (page) => {
      const sizes: { at: number; url: string; bytes: Promise<number> }[] = [];
      const t0 = Date.now();
      page.on('requestfinished', (r) => sizes.push({ at: Date.now() - t0, url: r.url(), bytes: r.sizes().then((s) => s.responseBodySize + s.responseHeadersSize).catch(() => 0) }));
      await page.goto(`${url}?run=reference`, { waitUntil: 'commit' });
      const referenceCurveMs = await whenInPage(page, () => {
        const s = (window as unknown as Handle).grokscope?.store.getState();
        return !!(s?.recording || s?.recordingRequest) && s.history.toArray().length > 1 && document.querySelectorAll('.js-plotly-plot .scatterlayer .trace').length > 0 && performance.now();
      });
      const until = Date.now() - t0;
      const before = sizes.filter((x) => x.at <= until);
      const bytes = await Promise.all(before.map((x) => x.bytes));
      const bytesBeforeCurve = bytes.reduce((a, b) => a + b, 0);
      const recordingBytesBeforeCurve = before.reduce((n, x, i) => n + (new URL(x.url).pathname.includes('/runs/') ? bytes[i] : 0), 0);
      const referenceOpenMs = await whenInPage(page, () => {
        const s = (window as unknown as Handle).grokscope.store.getState();
        return !!s.recording && !s.recordingRequest && s.status !== 'starting' && performance.now();
      });
      return { referenceCurveMs, referenceOpenMs, bytesBeforeCurve, recordingBytesBeforeCurve };
    });
    return { ...train, ...reference };
  } finally {
    await new Promise<void>((resolve) => server.httpServer.close(() => resolve()));
    rmSync(outDir, { recursive: true, force: true });
  }
}

export function formatFirstVisit(r: FirstVisit): string {
  const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  const mb = (b: number) => `${(b / 1e6).toFixed(2)} MB`;
  return [
    `Train usable after ${s(r.trainUsableMs)} (its button painted at ${s(r.trainShownMs)})`,
    `first checkpoint after Train ${s(r.firstCheckpointMs)} (pressed as soon as usable, the run still being built)`,
    `repeat visit: Train usable after ${s(r.repeatUsableMs)}; first checkpoint after Train on the ready page ${s(r.repeatFirstCheckpointMs)}`,
    `first curve of ?run=reference after ${s(r.referenceCurveMs)}, ${mb(r.bytesBeforeCurve)} received before it (${mb(r.recordingBytesBeforeCurve)} of them the recording); the run open in the worker after ${s(r.referenceOpenMs)}`,
  ].join('\n');
}
