/**
 * Issue 24 in Chromium, what the page must survive: hostile PyTorch files are read in the import
 * worker and refused while the main thread keeps ticking (item 6); a gzip bomb through the sweep
 * import and a 1 GiB run-file bomb are refused within bounded renderer memory (item 7); a packed
 * sweep of 4 runs × 40,000 rows draws, a kept one survives a reload, and a section that fails to
 * draw says so while the rest of the page and the run go on (item 8); a run name made of HTML is
 * text in Plotly's legend (item 12); and the unclear messages are clear. ~2 min on 2 loaded cores.
 */
import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip, gzipSync } from 'node:zlib';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeQuery } from '../../src/config/url.ts';
import { encodeRun, type RunData } from '../../src/files/run-file.ts';
import { Trainer } from '../../src/model/trainer.ts';
import type { Checkpoint } from '../../src/run/history-columns.ts';
import { checkpointFixture, useBackend } from '../helpers.ts';
import { hostileFiles } from '../files/hostile-files.ts';
import { ARTIFACTS, baseUrl, hasBrowser, openBrowser, pageState, rendererPeaksMb, waitForState, type Session } from './browser.ts';

const TINY = 'p=23&dm=8&heads=2&mlp=16&backend=wasm';
const dir = join(tmpdir(), `grokscope-hostile-page-${process.pid}`);

type Grok = { grokscope: { store: { getState(): Record<string, any> }; sweep: { getState(): Record<string, any>; setState(s: object): void } } };
const noticeTexts = async (page: Page) => (await pageState(page)).notices.map((n) => n.text);
const lastNotice = async (page: Page) => (await noticeTexts(page)).at(-1) ?? '';
/** The next notice after the `before`-th. */
async function nextNotice(page: Page, before: number, timeout = 120_000): Promise<string> {
  await expect.poll(async () => (await noticeTexts(page)).length, { timeout }).toBeGreaterThan(before);
  return lastNotice(page);
}

async function importPaths(page: Page, files: [string, Uint8Array][]): Promise<void> {
  const paths = files.map(([name, bytes]) => {
    const path = join(dir, name);
    writeFileSync(path, bytes);
    return path;
  });
  await page.getByTestId('import-file').setInputFiles(paths);
}

/** The longest the main thread went without running a 20 ms timer while `during` ran, in ms. */
async function longestStall(page: Page, during: () => Promise<void>): Promise<number> {
  await page.evaluate(() => {
    const w = window as unknown as { stall: { last: number; max: number; timer: number } };
    w.stall = { last: performance.now(), max: 0, timer: 0 };
    w.stall.timer = window.setInterval(() => {
      const now = performance.now();
      w.stall.max = Math.max(w.stall.max, now - w.stall.last);
      w.stall.last = now;
    }, 20);
  });
  await during();
  return page.evaluate(() => {
    const w = window as unknown as { stall: { max: number; timer: number } };
    clearInterval(w.stall.timer);
    return Math.round(w.stall.max);
  });
}

/** A packed sweep of `n` runs over seeds, each `rows` checkpoints long. */
function packedSweep(n: number, rows: number, opts: { repeat?: number } = {}) {
  const history = Array.from({ length: rows }, (_, i) => ({ epoch: i, trainLoss: 4 * Math.exp(-i / 5000) + 1e-9, testLoss: 4.5 - i / rows, trainAcc: Math.min(1, i / 1000), testAcc: i / rows, excludedLoss: 1, giniWL: 0.2 }));
  const runs = Array.from({ length: n * (opts.repeat ?? 1) }, (_, k) => ({ index: k % n, point: `seed=${k % n}`, file: `runs/run-${k % n}.json`, result: { history } }));
  return { format: 'grokscope-sweep/1', sweep: `seed:0-${n - 1}`, base: decodeQuery(TINY).config, runs };
}

/** A real run of the TINY model, trained here: resumable, with snapshots, named `name`. */
async function trainedRun(name: string): Promise<RunData> {
  await useBackend('wasm');
  const config = { ...decodeQuery(TINY).config, epochs: 40000 };
  const trainer = new Trainer(config);
  const history: Checkpoint[] = [];
  const snapshots: RunData['snapshots'] = [];
  for (let e = 0; e <= 40; e++) {
    if (e % 20 === 0) {
      history.push(checkpointFixture(e, { ...(await trainer.evaluateAsync()), normsWE: [], normsWL: [], cosCoefficients: [], excludedLossPerFreq: [] }));
      snapshots.push({ epoch: e, weights: (await trainer.readState()).weights });
    }
    if (e < 40) trainer.trainStep();
  }
  const run: RunData = { name, config, trainIndices: trainer.dataset.train, keyFreqs: null, history, snapshots, resume: await trainer.readState(), backend: null, createdAt: '' };
  trainer.dispose();
  return run;
}

describe.skipIf(!hasBrowser)('a page that survives hostile input (issue 24)', () => {
  let s: Session;
  const workers: string[] = [];
  beforeAll(async () => {
    mkdirSync(dir, { recursive: true });
    s = await openBrowser({ webgpu: false });
    s.page.on('worker', (w) => workers.push(w.url()));
    await s.page.goto(`${baseUrl}?${TINY}`);
    await waitForState(s.page, (st) => st.status === 'idle', 120_000, 'ready');
  }, 180_000);
  afterAll(async () => {
    await s?.close();
  });

  it('item 6: hostile PyTorch files are read in the import worker and refused; the main thread keeps ticking', async () => {
    const { page } = s;
    const files = hostileFiles({ small: true });
    for (const [name, message] of [
      ['bcast_1gib.pth', /268,435,456 elements but its storage holds 1/],
      ['empty_dict_kept.pth', /more than 2,000,000 objects/],
      ['dup.pth', /more than 1,000,000 values on its stack/],
      ['bcast_losses.pth', /train_losses holds 60,000,000 values/],
    ] as const) {
      const stall = await longestStall(page, async () => {
        await importPaths(page, [[name, files[name]]]);
        await expect.poll(() => lastNotice(page), { timeout: 60_000 }).toMatch(message);
      });
      console.log(`${name}: refused; the main thread's longest stall ${stall} ms; renderer peak ${rendererPeaksMb(s.dir)[0]} MB`);
      expect(stall).toBeLessThan(2000);
    }
    expect(workers.filter((u) => /import\.worker/.test(u)).length).toBeGreaterThanOrEqual(4);
    expect((await pageState(page)).status).toBe('idle');
  }, 180_000);

  it('item 7: a 1 GiB run-file bomb and a gzip bomb through the sweep import are refused within bounded memory', async () => {
    const { page } = s;
    const bomb = async (name: string, head: string) => {
      const path = join(dir, name);
      const spaces = new Uint8Array(1 << 20).fill(0x20);
      const zeros = new Uint8Array(1 << 20);
      await pipeline(Readable.from((function* () { yield new TextEncoder().encode(head); for (let i = 0; i < 1024; i++) yield head ? spaces : zeros; })()), createGzip({ level: 9 }), createWriteStream(path));
      const before = (await noticeTexts(page)).length;
      const stall = await longestStall(page, async () => {
        await page.getByTestId('import-file').setInputFiles(path);
        expect(await nextNotice(page, before)).toMatch(/cannot be opened/);
      });
      const peak = rendererPeaksMb(s.dir)[0];
      console.log(`${name}: ${await lastNotice(page)}; longest stall ${stall} ms; renderer peak so far ${peak} MB`);
      return peak;
    };
    const runPeak = await bomb('bomb.grokrun.gz', '');
    expect(await lastNotice(page)).toMatch(/neither a safetensors header.*it was not decompressed further/);
    expect(runPeak).toBeLessThan(1000);
    const sweepPeak = await bomb('bomb.json.gz', '{"format":"grokscope-sweep/1","sweep":"seed:0-3","base":{},"runs":[');
    expect(await lastNotice(page)).toMatch(/inflates to more than 512 MB/);
    expect(sweepPeak).toBeLessThan(1500);
  }, 240_000);

  it('item 8: a packed sweep of 4 runs × 40,000 rows draws; re-indented and repeated entries read; a section that fails says so and the run goes on', async () => {
    const { page } = s;
    await importPaths(page, [['big-sweep.json.gz', gzipSync(JSON.stringify(packedSweep(4, 40_000)))]]);
    await expect.poll(() => lastNotice(page), { timeout: 60_000 }).toMatch(/Opened the sweep seed:0-3 .*4 of 4 runs/);
    await expect.poll(() => page.locator('[data-testid="sweep-panel"] path').count(), { timeout: 30_000 }).toBeGreaterThan(4);
    expect(await page.getByTestId('section-error').count()).toBe(0);
    // Python's json.dumps(indent=2) with "format" last, and every run listed three times.
    const { format, ...rest } = packedSweep(4, 50, { repeat: 3 });
    await importPaths(page, [['reindented.json', new TextEncoder().encode(JSON.stringify({ ...rest, format }, null, 2))]]);
    await expect.poll(() => lastNotice(page), { timeout: 60_000 }).toMatch(/4 of 4 runs \(8 repeated entries of runs already listed left out\)/);

    // A section that throws while drawing: the others stay, training goes on.
    await page.getByTestId('train').click();
    await waitForState(page, (st) => st.status === 'running', 60_000, 'training');
    const kept = await page.evaluate(() => (window as unknown as Grok).grokscope.sweep.getState().runs);
    await page.evaluate(() => {
      const sweep = (window as unknown as Grok).grokscope.sweep;
      sweep.setState({ runs: sweep.getState().runs.map((r: object) => ({ ...r, rows: null })), version: Date.now() });
    });
    await expect.poll(() => page.locator('#sweep [data-testid="section-error"]').textContent(), { timeout: 30_000 }).toMatch(/Many runs.*could not be drawn.*The rest of the page and the run go on/);
    const before = (await pageState(page)).epoch;
    await waitForState(page, (st) => st.epoch > before + 20, 60_000, 'training after the failure');
    expect(await page.getByTestId('loss-chart').count()).toBe(1);
    await page.locator('#sweep').screenshot({ path: `${ARTIFACTS}/section-error.png` });
    await page.evaluate((runs) => (window as unknown as Grok).grokscope.sweep.setState({ runs, version: Date.now() }), kept);
    await page.locator('#sweep [data-testid="section-error"] button').click();
    await expect.poll(() => page.getByTestId('section-error').count()).toBe(0);
    await page.getByTestId('pause').click();
    await waitForState(page, (st) => st.status === 'paused', 60_000, 'paused');
  }, 180_000);

  it('item 8: a kept sweep of 40,000-row runs survives every reload', async () => {
    const { page } = s;
    // What the sweep keep writes (src/client/sweep/sweep-keep.ts), as 4 finished runs of 40,000 checkpoints.
    const sweep = packedSweep(4, 40_000);
    await page.evaluate(async ({ base, history }) => {
      const db = await new Promise<IDBDatabase>((resolve, reject) => {
        const open = indexedDB.open('grokscope-sweep', 1);
        open.onupgradeneeded = () => {
          open.result.createObjectStore('meta');
          open.result.createObjectStore('runs');
        };
        open.onsuccess = () => resolve(open.result);
        open.onerror = () => reject(open.error);
      });
      const tx = db.transaction(['meta', 'runs'], 'readwrite');
      tx.objectStore('meta').put({ sweep: 'seed:0-3', base, epochs: 40_000, every: 1, backend: null, startedAt: '' }, 'sweep');
      for (let i = 0; i < 4; i++) tx.objectStore('runs').put({ index: i, run: { config: { ...base, seed: i }, trainIndices: new Int32Array(0), keyFreqs: null, snapshots: [], resume: null }, history }, i);
      await new Promise((r) => (tx.oncomplete = r));
      db.close();
    }, { base: sweep.base, history: sweep.runs[0].result.history });
    for (let i = 0; i < 2; i++) {
      await page.reload();
      await waitForState(page, (st) => st.status !== 'starting', 60_000, 'ready after the reload');
      await expect.poll(() => page.locator('[data-testid="sweep-panel"] path').count(), { timeout: 30_000 }).toBeGreaterThan(4);
      expect(await page.locator('#root').innerHTML()).not.toBe('');
      expect(await page.getByTestId('section-error').count()).toBe(0);
    }
    expect(s.logs.filter((l) => /Maximum call stack/.test(l))).toEqual([]);
  }, 180_000);

  it('item 12 and messages: an HTML run name is text in the legend; 20 files, a run without weights, at= past the end say what happened', async () => {
    const { page } = s;
    const link = '<a href="https://example.org/">x</a>';
    const run = await trainedRun(link);
    await importPaths(page, [['linked.grokrun', encodeRun(run)]]);
    await waitForState(page, (st) => st.epoch === 40 && st.status !== 'starting', 60_000, 'the run named with a link');
    await page.getByTestId('reset').click();
    await waitForState(page, (st) => st.epoch === 0 && st.status === 'idle' && st.history.length > 0, 60_000, 'a fresh run');
    await page.getByTestId('step').click();
    await waitForState(page, (st) => st.epoch > 0 && st.status === 'paused', 60_000, 'a Step of the fresh run');
    await page.getByTestId('compare-picker').locator('summary').click();
    // A controlled checkbox: it turns on once the run's history is loaded.
    await page.locator('label', { hasText: link }).getByTestId('compare-run').click();
    const legend = () => page.evaluate(() => [...document.querySelectorAll('[data-testid="loss-chart"] g.legend')].map((g) => ({ text: g.textContent ?? '', links: g.querySelectorAll('a').length })));
    await expect.poll(async () => (await legend()).map((l) => l.text).join(' '), { timeout: 30_000 }).toContain(link);
    expect((await legend()).reduce((n, l) => n + l.links, 0)).toBe(0);
    await page.getByTestId('loss-chart').screenshot({ path: `${ARTIFACTS}/legend-name-as-text.png` });

    // 20 files at once: one opens, the notice names the 19 others.
    const files: [string, Uint8Array][] = [['first.grokrun', encodeRun({ ...run, name: 'first' })], ...Array.from({ length: 19 }, (_, i) => [`other-${i}.grokrun`, encodeRun(run)] as [string, Uint8Array])];
    await importPaths(page, files);
    await expect.poll(() => lastNotice(page), { timeout: 60_000 }).toMatch(/Opened “first”.*19 other files \(other-0\.grokrun, other-1\.grokrun.* were not opened/);
    // A run file with a history and no weights.
    await importPaths(page, [['no_weights.grokrun', encodeRun({ ...run, snapshots: [], resume: null })]]);
    await expect.poll(() => lastNotice(page), { timeout: 60_000 }).toMatch(/holds no weights \(no snapshots and no resume state\), only the history of its 3 checkpoints/);
    // at= past the end of a recording.
    await page.goto(`${baseUrl}?run=no-wd&at=99999999&backend=wasm`);
    await expect.poll(() => noticeTexts(page), { timeout: 120_000 }).toContainEqual(expect.stringMatching(/asks for epoch 99,999,999, but this recording ends at epoch 6,000/));
    expect(s.logs.filter((l) => l.startsWith('pageerror'))).toEqual([]);
  }, 240_000);
});
