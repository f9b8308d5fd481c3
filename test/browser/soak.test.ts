/**
 * Soak: five minutes of training at full speed in Chromium — checkpoints, heavy passes, snapshot
 * thinning, re-measuring, autosaves and chart redraws all running — while the worker's tfjs tensor
 * count and the JavaScript heaps of page and worker are sampled. After the first third, the tensor
 * count and the worker's heap must stay flat, the snapshots' buffers within their store's budget,
 * and the page's heap flat but for its cache of heavy analyses (bounded by design). SOAK_MINUTES
 * sets the length (a leak of a tensor or an object per checkpoint shows within a minute).
 */
import { chromium, type Browser, type CDPSession, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HEAVY_CACHE_BYTES } from '../../src/store/store.ts';
import { QUIET_FLAGS, baseUrl, chromiumPath, hasBrowser, waitForState } from './browser.ts';

const MINUTES = Number(process.env.SOAK_MINUTES ?? 5);
/** ~240 KB a snapshot: the worker's store reaches its 96 MB budget after ~400 (its thinning runs from then on). */
const CONFIG = 'p=53&dm=64&heads=4&mlp=256&frac=0.4&wd=1&lr=0.003&epochs=1000000&backend=wasm';

interface Sample {
  minute: number;
  epoch: number;
  numTensors: number;
  /** The worker's JS heap and its array buffers (snapshots live there). */
  workerHeapMB: number;
  workerBuffersMB: number;
  pageHeapMB: number;
  /** The page's cache of heavy analyses (bounded by HEAVY_CACHE_BYTES, #21 item 10): its typed arrays. */
  heavyCacheMB: number;
}

/** CDP of a dedicated worker, through the browser session (Runtime.getHeapUsage). */
class WorkerCdp {
  private id = 0;
  private constructor(
    private readonly cdp: CDPSession,
    private readonly sessionId: string,
  ) {}

  static async attach(browser: Browser): Promise<WorkerCdp> {
    const cdp = await browser.newBrowserCDPSession();
    const { targetInfos } = await cdp.send('Target.getTargets');
    // The training worker, not the threads of tfjs's threaded wasm (workers too, from blob: URLs).
    const worker = targetInfos.find((t) => t.type === 'worker' && t.url.includes('train.worker'));
    if (!worker) throw new Error('no worker target');
    const { sessionId } = await cdp.send('Target.attachToTarget', { targetId: worker.targetId, flatten: false });
    return new WorkerCdp(cdp, sessionId);
  }

  call<T>(method: string, params: object = {}): Promise<T> {
    const id = ++this.id;
    return new Promise<T>((resolve, reject) => {
      const onMessage = (e: { sessionId?: string; message: string }) => {
        const m = JSON.parse(e.message) as { id?: number; result?: T; error?: { message: string } };
        if (m.id !== id) return;
        this.cdp.off('Target.receivedMessageFromTarget', onMessage);
        if (m.error) reject(new Error(m.error.message));
        else resolve(m.result as T);
      };
      this.cdp.on('Target.receivedMessageFromTarget', onMessage);
      void this.cdp.send('Target.sendMessageToTarget', { sessionId: this.sessionId, message: JSON.stringify({ id, method, params }) });
    });
  }
}

async function sample(page: Page, worker: WorkerCdp, minute: number): Promise<Sample> {
  await worker.call('HeapProfiler.collectGarbage');
  const heap = await worker.call<{ usedSize: number; backingStorageSize: number }>('Runtime.getHeapUsage');
  // The pipelined loop has a checkpoint's tensors in flight at times: the resting count is the
  // least of a few readings (a leak raises it too).
  let numTensors = Infinity;
  for (let i = 0; i < 6; i++) {
    const r = await worker.call<{ result: { value: number } }>('Runtime.evaluate', {
      expression: 'grokscopeWorker.memory().numTensors',
      returnByValue: true,
    });
    numTensors = Math.min(numTensors, r.result.value);
    await page.waitForTimeout(250);
  }
  const p = await page.evaluate(() => {
    (globalThis as unknown as { gc?: () => void }).gc?.();
    const s = (window as unknown as { grokscope: { store: { getState(): { epoch: number; heavy: Map<number, object> } } } }).grokscope.store.getState();
    let heavyBytes = 0;
    for (const h of s.heavy.values()) for (const v of Object.values(h)) if (ArrayBuffer.isView(v)) heavyBytes += v.byteLength;
    return { epoch: s.epoch, heavyBytes, heap: (performance as unknown as { memory?: { usedJSHeapSize: number } }).memory?.usedJSHeapSize ?? NaN };
  });
  return {
    minute,
    epoch: p.epoch,
    numTensors,
    workerHeapMB: heap.usedSize / 2 ** 20,
    workerBuffersMB: heap.backingStorageSize / 2 ** 20,
    pageHeapMB: p.heap / 2 ** 20,
    heavyCacheMB: p.heavyBytes / 2 ** 20,
  };
}

describe.skipIf(!hasBrowser)('soak', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: chromiumPath!, headless: true, args: [...QUIET_FLAGS, '--js-flags=--expose-gc', '--enable-precise-memory-info'] });
  });
  afterAll(async () => {
    await browser?.close();
  });

  it(
    `trains ${MINUTES} minutes with flat tensor count and heaps`,
    async () => {
      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      await page.goto(`${baseUrl}?${CONFIG}`);
      await waitForState(page, (st) => st.status === 'idle', 60_000, 'ready');
      const worker = await WorkerCdp.attach(browser);
      await page.getByTestId('train').click();
      const samples: Sample[] = [];
      const start = Date.now();
      for (let m = 0; m <= MINUTES; m += MINUTES >= 4 ? 1 : 0.5) {
        while (Date.now() - start < m * 60_000) await page.waitForTimeout(1000);
        samples.push(await sample(page, worker, m));
      }
      const state = await page.evaluate(() => (window as unknown as { grokscope: { store: { getState(): { status: string; history: { length: number }; snapshotEpochs: number[] } } } }).grokscope.store.getState());
      console.log(
        [
          `soak: ${MINUTES} min, ${samples.at(-1)!.epoch} epochs, ${state.history.length} checkpoints, ${state.snapshotEpochs.length} snapshots kept`,
          'minute  epoch   tensors  worker heap MB  worker buffers MB  page heap MB  heavy cache MB',
          ...samples.map(
            (x) =>
              `${String(x.minute).padStart(6)}  ${String(x.epoch).padStart(6)}  ${String(x.numTensors).padStart(7)}  ${x.workerHeapMB.toFixed(1).padStart(14)}  ${x.workerBuffersMB.toFixed(1).padStart(17)}  ${x.pageHeapMB.toFixed(1).padStart(12)}  ${x.heavyCacheMB.toFixed(1).padStart(14)}`,
          ),
        ].join('\n'),
      );
      expect(state.status).toBe('running');
      // After the warm-up third (the snapshot store fills), nothing may grow.
      const settled = samples.filter((x) => x.minute >= MINUTES / 3);
      const range = (f: (x: Sample) => number) => Math.max(...settled.map(f)) - Math.min(...settled.map(f));
      expect(range((x) => x.numTensors)).toBeLessThanOrEqual(20);
      const first = settled[0];
      const last = settled.at(-1)!;
      expect(last.workerHeapMB).toBeLessThan(first.workerHeapMB * 1.25 + 16);
      // Array buffers hold the snapshots: bounded by the store's 96 MB budget, whatever the run length.
      expect(last.workerBuffersMB).toBeLessThan(Math.max(first.workerBuffersMB * 1.25 + 16, 96 + 64));
      // The page's heap holds the cache of heavy analyses, which grows to its 64 MiB budget by design
      // (~190 KB an analysis here, so it fills after ~350 of them, past the soak on a slow machine);
      // the rest of the page must stay flat.
      expect(last.heavyCacheMB).toBeLessThanOrEqual(HEAVY_CACHE_BYTES / 2 ** 20);
      expect(last.pageHeapMB - last.heavyCacheMB).toBeLessThan((first.pageHeapMB - first.heavyCacheMB) * 1.25 + 16);
    },
    (MINUTES + 3) * 60_000,
  );
});
