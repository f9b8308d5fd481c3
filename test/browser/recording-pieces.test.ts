/**
 * ?run=reference from a static host, as the build lays it out (src/files/recording.ts): two tiny
 * static servers written here, one that answers HTTP Range requests (206) and one that ignores
 * them (200, the whole file). On both the curves are drawn while the snapshots are still held back
 * by the server, the progress is shown, and every snapshot arrives in the end; with Range, a
 * scrub to a far epoch fetches that snapshot next.
 */
import { readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize } from 'node:path';
import type { Page } from 'playwright-core';
import { inject } from 'vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARTIFACTS, hasBrowser, openBrowser, scrubTo, waitForRecording, waitForState, type Session } from './browser.ts';
import type { RecordingManifest } from '../../src/files/recording.ts';

const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.wasm': 'application/wasm', '.json': 'application/json', '.svg': 'image/svg+xml', '.png': 'image/png' };

interface StaticHost {
  url: string;
  /** Epochs of the snapshot pieces asked for, in the order asked (Range requests only). */
  asked: number[];
  /** Lets the snapshots through (held back until then, after the first `free` bytes). */
  release(): void;
  /** Lets the training worker's script through (held back with `holdWorker`). */
  releaseWorker(): void;
  close(): Promise<void>;
}

/** A static server of the built site; `ranges` says whether it honours Range; `damage`: a snapshot's epoch sent with a flipped byte. */
async function staticHost(dir: string, ranges: boolean, damage: number | null = null, opts: { holdWorker?: boolean } = {}): Promise<StaticHost> {
  const manifest = JSON.parse(readFileSync(join(dir, 'runs/reference/recording.json'), 'utf8')) as RecordingManifest;
  let released = false;
  const waiting: (() => void)[] = [];
  const gate = () => (released ? Promise.resolve() : new Promise<void>((r) => waiting.push(r)));
  let workerReleased = !opts.holdWorker;
  const workerWaiting: (() => void)[] = [];
  const asked: number[] = [];
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const file = join(dir, normalize(path === '/' ? '/index.html' : path));
    let size: number;
    try {
      size = statSync(file).isFile() ? statSync(file).size : -1;
    } catch {
      size = -1;
    }
    if (size < 0) {
      res.writeHead(404).end();
      return;
    }
    if (!workerReleased && /\/train\.worker[^/]*\.js$/.test(path)) {
      workerWaiting.push(() => res.writeHead(200, { 'Content-Type': 'text/javascript', 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' }).end(readFileSync(file)));
      return;
    }
    const headers = { 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream', 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };
    const bytes = readFileSync(file);
    const pieces = path.endsWith('/snapshots.bin');
    const range = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
    if (ranges && range) {
      const [from, to] = [Number(range[1]), Number(range[2])];
      const epoch = manifest.snapshots.find((p) => p.offset === from)?.epoch ?? -1;
      if (pieces) asked.push(epoch);
      void (pieces ? gate() : Promise.resolve()).then(() => {
        res.writeHead(206, { ...headers, 'Content-Range': `bytes ${from}-${to}/${size}`, 'Content-Length': String(to - from + 1) });
        const part = bytes.slice(from, to + 1);
        if (pieces && epoch === damage) part[1000] ^= 0x10;
        res.end(part);
      });
      return;
    }
    res.writeHead(200, { ...headers, 'Content-Length': String(size) });
    if (!pieces) {
      res.end(bytes);
      return;
    }
    // The whole pieces file: its first 3 snapshots at once, the rest once released.
    const free = manifest.snapshots[3].offset;
    res.write(bytes.subarray(0, free));
    void gate().then(() => res.end(bytes.subarray(free)));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    asked,
    release() {
      released = true;
      for (const w of waiting.splice(0)) w();
    },
    releaseWorker() {
      workerReleased = true;
      for (const w of workerWaiting.splice(0)) w();
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

interface Shown {
  snapshots: { loaded: number; total: number; failed: number } | null;
  snapshotEpochs: number[];
  traces: number;
  line: string;
}

function shown(page: Page): Promise<Shown> {
  return page.evaluate(() => {
    type S = { recordingSnapshots: (Shown['snapshots'] & { key: string }) | null; snapshotEpochs: number[] };
    const s = (window as unknown as { grokscope: { store: { getState(): S } } }).grokscope.store.getState();
    return {
      snapshots: s.recordingSnapshots ? { loaded: s.recordingSnapshots.loaded, total: s.recordingSnapshots.total, failed: s.recordingSnapshots.failed } : null,
      snapshotEpochs: s.snapshotEpochs,
      traces: document.querySelectorAll('.js-plotly-plot .scatterlayer .trace').length,
      line: document.querySelector('[data-testid="recording-line"]')?.textContent ?? '',
    };
  });
}

/** Opens ?run=reference from `host`; resolves once the curves are drawn (the snapshots held back). */
async function openReference(page: Page, host: StaticHost): Promise<{ epochs: number[]; at: Shown }> {
  await page.goto(`${host.url}?run=reference&backend=wasm`);
  const loaded = await waitForRecording(page, 120_000, 'the reference curves');
  await expect.poll(async () => (await shown(page)).traces, { timeout: 30_000, message: 'the curves drawn' }).toBeGreaterThan(0);
  return { epochs: loaded.history.map((c) => c.epoch), at: await shown(page) };
}

describe.skipIf(!hasBrowser)('a recording in pieces from a static host', () => {
  const outDir = inject('outDir');
  let s: Session;
  beforeAll(async () => {
    s = await openBrowser({ webgpu: false, width: 1440, height: 1000 });
  });
  afterAll(async () => {
    await s?.close();
  });

  it('without Range support: the curves first, then the whole snapshots file streamed in', async () => {
    const host = await staticHost(outDir, false);
    try {
      const { at } = await openReference(s.page, host);
      // Drawn while the server still holds back most snapshots; the count is on the page.
      expect(at.snapshots).not.toBeNull();
      expect(at.snapshots!.loaded).toBeLessThan(at.snapshots!.total);
      expect(at.line).toMatch(new RegExp(`Snapshots \\d+/${at.snapshots!.total} loaded`));
      await s.page.screenshot({ path: `${ARTIFACTS}/recording-pieces-loading.png` });
      host.release();
      await expect.poll(async () => (await shown(s.page)).snapshotEpochs.length, { timeout: 120_000, message: 'every snapshot in the worker' }).toBe(at.snapshots!.total);
      const done = await shown(s.page);
      expect(done.snapshots).toEqual({ loaded: at.snapshots!.total, total: at.snapshots!.total, failed: 0 });
      expect(host.asked.length).toBe(0);
    } finally {
      host.release();
      await host.close();
    }
  }, 300_000);

  it('with Range support: one piece at a time, the one nearest the scrubber first', async () => {
    const host = await staticHost(outDir, true);
    try {
      const { epochs, at } = await openReference(s.page, host);
      expect(at.snapshots!.loaded).toBeLessThan(at.snapshots!.total);
      // At most one request in flight (held back); scrub to memorization, far from the end.
      const index = epochs.findIndex((e) => e >= 1000);
      const before = host.asked.length;
      await scrubTo(s.page, index);
      host.release();
      await expect.poll(async () => (await shown(s.page)).snapshotEpochs.length, { timeout: 120_000, message: 'every snapshot in the worker' }).toBe(at.snapshots!.total);
      // The piece asked for next after the scrub is epoch 1,000's: nothing between it and the end first.
      expect(host.asked[before], `asked in order: ${host.asked.join(', ')}`).toBe(epochs[index]);
      expect(new Set(host.asked).size).toBe(host.asked.length);
      expect((await shown(s.page)).snapshots).toEqual({ loaded: at.snapshots!.total, total: at.snapshots!.total, failed: 0 });
      expect(s.logs.filter((l) => l.startsWith('pageerror'))).toEqual([]);
    } finally {
      host.release();
      await host.close();
    }
  }, 300_000);

  it('the curves are drawn before the training worker has started, and stay as it loads the run', async () => {
    const host = await staticHost(outDir, true, null, { holdWorker: true });
    host.release();
    try {
      await s.page.goto(`${host.url}?run=reference&backend=wasm`);
      // Read in the import worker and drawn while the training worker's script is held back.
      const early = await waitForState(s.page, (st) => st.history.length > 100, 60_000, 'the curves before the worker');
      expect(early.status).toBe('starting');
      await expect.poll(async () => (await shown(s.page)).traces, { timeout: 30_000, message: 'the curves drawn' }).toBeGreaterThan(0);
      expect(await s.page.evaluate(() => document.querySelector('[data-testid="loss-chart"]')?.textContent ?? '')).not.toMatch(/Starting the training worker/);
      // Watched, not trained, while it opens: no Train press to start the run it replaces.
      expect(await s.page.getByTestId('train').count()).toBe(0);
      expect(await s.page.getByTestId('train-yourself').isDisabled()).toBe(true);
      expect(await s.page.getByTestId('epoch').textContent()).toBe(early.history.at(-1)!.epoch.toLocaleString('en-US'));
      // A recording's texts from the first frame: End, not Live; no phase before the worker measures it; no λ slider.
      expect(await s.page.getByTestId('live').textContent()).toBe('End');
      expect(await s.page.getByTestId('scrub-label').textContent()).toBe(`epoch ${early.history.at(-1)!.epoch.toLocaleString('en-US')}`);
      expect(await s.page.getByTestId('wd-slider').count()).toBe(0);
      expect(await s.page.getByTestId('recorded-settings').count()).toBe(1);
      await s.page.screenshot({ path: `${ARTIFACTS}/recording-preview.png` });
      host.releaseWorker();
      // The worker checks the run and loads it: the same curves, now the recording on show.
      const onShow = () => s.page.evaluate(() => (window as unknown as { grokscope: { store: { getState(): { recording: { key: string } | null } } } }).grokscope.store.getState().recording?.key ?? null);
      await expect.poll(onShow, { timeout: 120_000, message: 'the recording loaded in the worker' }).toBe('reference');
      const loaded = await waitForRecording(s.page, 60_000, 'the loaded curves');
      expect(loaded.history.map((c) => c.epoch)).toEqual(early.history.map((c) => c.epoch));
      expect(s.logs.filter((l) => l.startsWith('pageerror'))).toEqual([]);
    } finally {
      host.releaseWorker();
      await host.close();
    }
  }, 300_000);

  it('a damaged piece is named, and the run stays open with the others', async () => {
    const host = await staticHost(outDir, true, 5700);
    host.release();
    try {
      const { at } = await openReference(s.page, host);
      const total = at.snapshots!.total;
      await expect.poll(async () => { const x = (await shown(s.page)).snapshots!; return x.loaded + x.failed; }, { timeout: 120_000, message: 'every piece arrived or failed' }).toBe(total);
      expect((await shown(s.page)).snapshots!.failed).toBe(1);
      const notices = (await waitForState(s.page, (st) => st.notices.some((n) => /could not be loaded/.test(n.text)), 30_000, 'the notice')).notices;
      expect(notices.find((n) => /could not be loaded/.test(n.text))!.text).toMatch(/1 of the recording's 28 snapshots could not be loaded \(the snapshot at epoch 5700 is damaged.*stays open with the 27/);
      // The worker takes them in its turn (after the measures it is busy with).
      await expect.poll(async () => (await shown(s.page)).snapshotEpochs.length, { timeout: 120_000, message: 'the snapshots in the worker' }).toBe(total - 1);
      const done = await shown(s.page);
      expect(done.snapshotEpochs).not.toContain(5700);
      expect(done.line).toMatch(/Snapshots 27\/28 loaded \(1 failed\)/);
    } finally {
      await host.close();
    }
  }, 300_000);
});
