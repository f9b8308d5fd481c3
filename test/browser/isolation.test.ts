/**
 * Threaded wasm (#11): `vite preview` sends the cross-origin isolation headers, so the worker runs
 * tfjs's threaded binary; a static host without headers gets them from public/isolation-sw.js
 * after one reload; with service workers blocked the page still trains, on one thread. All three
 * train the same small model to the same losses.
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { baseUrl, hasBrowser, openBrowser, waitForState, type PageState } from './browser.ts';

const SMALL = 'p=23&dm=32&mlp=128&frac=0.8&wd=2&backend=wasm&seed=3';
const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.wasm': 'application/wasm', '.svg': 'image/svg+xml', '.png': 'image/png', '.json': 'application/json' };

/** The built site as a static host serves it (GitHub Pages): no isolation headers. */
function staticHost(root: string): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '');
    let file = join(root, path);
    if (existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
    if (!existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream' });
    createReadStream(file).pipe(res);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` })));
}

/** The app has booted (on a static host, perhaps after the reload its service worker asks for). */
async function waitForApp(page: Page): Promise<void> {
  const start = Date.now();
  while (Date.now() - start < 60_000) {
    const booted = await page.evaluate(() => 'grokscope' in window).catch(() => false); // a reload under way
    if (booted) return;
    await page.waitForTimeout(250);
  }
  throw new Error('the app did not boot within 60 s');
}

interface Trained {
  isolated: boolean;
  adapter: string;
  threadedBinary: boolean;
  /** Documents the tab loaded: 1, or 2 where the service worker asked for its one reload. */
  loads: number;
  loss: Map<number, number>;
}

async function trainAt(url: string, serviceWorkers: 'allow' | 'block'): Promise<Trained> {
  const s = await openBrowser({ webgpu: false, serviceWorkers });
  try {
    const { page, context } = s;
    let threadedBinary = false;
    context.on('request', (r) => {
      if (r.url().includes('tfjs-backend-wasm-threaded-simd')) threadedBinary = true;
    });
    let loads = 0;
    page.on('load', () => loads++);
    await page.goto(`${url}?${SMALL}`);
    await waitForApp(page);
    const ready = await waitForState(page, (st) => st.status === 'idle' && st.backend !== null, 120_000, 'the worker to be ready');
    const isolated = await page.evaluate(() => globalThis.crossOriginIsolated === true);
    await page.getByTestId('train').click();
    const st: PageState = await waitForState(page, (x) => x.history.length >= 4, 120_000, 'a few checkpoints');
    await page.getByTestId('pause').click();
    expect(s.logs.filter((l) => l.startsWith('pageerror'))).toEqual([]);
    return { isolated, adapter: ready.backend!.adapter, threadedBinary, loads, loss: new Map(st.history.map((c) => [c.epoch, c.trainLoss])) };
  } finally {
    await s.close();
  }
}

function sameLosses(a: Trained, b: Trained): void {
  const common = [...a.loss.keys()].filter((e) => b.loss.has(e) && e > 0);
  expect(common.length).toBeGreaterThan(0);
  for (const e of common) expect(Math.abs(a.loss.get(e)! - b.loss.get(e)!) / b.loss.get(e)!, `train loss at epoch ${e}`).toBeLessThan(1e-5);
}

describe.skipIf(!hasBrowser)('threaded wasm where the page is cross-origin isolated', () => {
  let host: { server: Server; url: string };
  beforeAll(async () => {
    host = await staticHost(inject('outDir'));
  });
  afterAll(async () => {
    await new Promise((r) => host?.server.close(r));
  });

  it('runs the threaded binary on the isolated preview, one thread on a static host without the service worker, the same losses', async () => {
    const preview = await trainAt(baseUrl, 'allow');
    const bare = await trainAt(host.url, 'block');
    console.log(`isolation: preview ${JSON.stringify(preview.adapter)} (threaded binary: ${preview.threadedBinary}); static host, no service worker: ${JSON.stringify(bare.adapter)}`);
    expect(preview.isolated).toBe(true);
    expect(preview.threadedBinary).toBe(true);
    expect(preview.adapter).toMatch(/\d+ threads?\b/);
    expect(bare.isolated).toBe(false);
    expect(bare.threadedBinary).toBe(false);
    expect(bare.adapter).toMatch(/1 thread: the page is not cross-origin isolated/);
    expect([preview.loads, bare.loads]).toEqual([1, 1]);
    sameLosses(preview, bare);
  });

  it('on a static host without headers, isolates itself with its service worker after one reload', async () => {
    const viaWorker = await trainAt(host.url, 'allow');
    console.log(`isolation: static host with the service worker: ${JSON.stringify(viaWorker.adapter)}`);
    expect(viaWorker.isolated).toBe(true);
    expect(viaWorker.threadedBinary).toBe(true);
    expect(viaWorker.adapter).not.toMatch(/not cross-origin isolated/);
    expect(viaWorker.loads).toBe(2);
  });
});
