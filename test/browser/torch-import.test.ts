/**
 * PyTorch runs in the page: the paper authors' per-epoch files (three .pth at once) and a
 * TransformerLens Grokking-demo run open as runs (fixtures of test/fixtures/torch), the scrubber
 * shows each snapshot's views, a hostile pickle is refused, and the exports (chart CSV, history,
 * weights at the viewed epoch) download files made in the page — there is no Plotly mode bar.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeCheckpoint } from '../../src/files/safetensors/checkpoint.ts';
import { PickleWriter, torchArchive } from '../files/torch-forge.ts';
import { ARTIFACTS, baseUrl, hasBrowser, openBrowser, scrubTo, pageState, waitForState, type Session } from './browser.ts';

const FIX = join(import.meta.dirname, '../fixtures/torch');

function views(page: Page): Promise<{ viewEpoch: number | null; heavy: number[]; snapshots: number[]; split: string }> {
  return page.evaluate(() => {
    const s = (window as unknown as { grokscope: { store: { getState(): { viewEpoch: number | null; heavy: Map<number, unknown>; snapshotEpochs: number[]; applied: { split: string } } } } }).grokscope.store.getState();
    return { viewEpoch: s.viewEpoch, heavy: [...s.heavy.keys()], snapshots: s.snapshotEpochs, split: s.applied.split };
  });
}

const lastNotice = async (page: Page) => (await pageState(page)).notices.at(-1)?.text ?? '';

describe.skipIf(!hasBrowser)('PyTorch runs in the page', () => {
  let s: Session;
  const dir = mkdtempSync(join(tmpdir(), 'grokscope-torch-'));
  beforeAll(async () => {
    s = await openBrowser({ webgpu: false, width: 1440, height: 1000 });
    await s.page.goto(`${baseUrl}?backend=wasm&p=7`);
    await waitForState(s.page, (st) => st.status === 'idle', 60_000, 'ready');
  });
  afterAll(async () => {
    await s?.close();
  });

  it("opens the authors' per-epoch files as one run on their split and scrubs its snapshots", async () => {
    const { page } = s;
    await page.getByTestId('import-file').setInputFiles(['init.pth', '10.pth', '20.pth'].map((f) => join(FIX, 'authors_run', f)));
    // The last row is measured by the worker on the imported weights, after the run has opened
    // (under load that comes a moment later: CI once read the row before it): wait for it.
    const st = await waitForState(page, (x) => x.draft.p === 23 && x.epoch === 20 && x.status !== 'starting' && Number.isFinite(x.history.at(-1)?.testAcc), 60_000, 'the authors run, measured');
    expect(await lastNotice(page)).toMatch(/3 files of one run \(the paper authors' layout, P = 23\).*Split: train_data from the file/);
    expect(st.history.map((c) => c.epoch)).toEqual([10, 20]);
    expect(st.history[0].trainLoss).toBeCloseTo(0.1, 12);
    expect(Number.isFinite(st.history[1].testAcc)).toBe(true);
    await expect.poll(async () => (await views(page)).snapshots).toEqual([0, 10, 20]);
    await scrubTo(page, 0);
    await expect.poll(async () => (await views(page)).heavy.includes(10), { timeout: 60_000, message: 'the views at snapshot 10' }).toBe(true);
    await page.screenshot({ path: `${ARTIFACTS}/torch-authors-run.png`, fullPage: true });
  }, 120_000);

  it('has no Plotly mode bar; each chart has an export menu whose CSV holds the series as drawn', async () => {
    const { page } = s;
    expect(await page.locator('.modebar').count()).toBe(0);
    const chart = page.getByTestId('spectrum-we');
    await chart.scrollIntoViewIfNeeded();
    await expect.poll(() => chart.locator('.chart-menu').count(), { timeout: 30_000 }).toBe(1);
    await chart.locator('.chart-menu summary').click();
    const download = page.waitForEvent('download');
    await chart.locator('.chart-menu button[data-export="csv"]').click();
    const file = join(dir, 'chart.csv');
    await (await download).saveAs(file);
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    expect(lines[0]).toBe('trace,x,y,z');
    expect(lines.length).toBeGreaterThan(11); // P = 23: 12 frequencies (constant included)
  });

  it('exports the history as CSV and the weights at the viewed epoch as a checkpoint', async () => {
    const { page } = s;
    await page.getByTestId('export-menu').locator('summary').click();
    let download = page.waitForEvent('download');
    await page.getByTestId('export-history-csv').click();
    await (await download).saveAs(join(dir, 'history.csv'));
    const csv = readFileSync(join(dir, 'history.csv'), 'utf8').trim().split('\n');
    expect(csv[0].split(',').slice(0, 3)).toEqual(['epoch', 'trainLoss', 'testLoss']);
    expect(csv.map((l) => l.split(',')[0]).slice(1)).toEqual(['10', '20']);
    // The scrubber is at epoch 10: the weights saved are snapshot 10's.
    download = page.waitForEvent('download');
    await page.getByTestId('export-weights').click();
    await (await download).saveAs(join(dir, 'w.safetensors'));
    const ckpt = decodeCheckpoint(new Uint8Array(readFileSync(join(dir, 'w.safetensors'))));
    expect(ckpt.epoch).toBe(10);
    expect(ckpt.config.p).toBe(23);
    // Snapshot 10 of the fixture: W_E[0] = sin(0 + 0 + 1.0) / 3 (the script's closed form).
    expect(ckpt.weights['embed.W_E'][0]).toBeCloseTo(Math.sin(1) / 3, 6);
  });

  it("opens TransformerLens' Grokking-demo run file, and refuses a pickle that names os.system", async () => {
    const { page } = s;
    await page.getByTestId('import-file').setInputFiles(join(FIX, 'tl_demo_run.pth'));
    const st = await waitForState(page, (x) => x.epoch === 20 && x.history.length === 21 && x.status !== 'starting', 60_000, 'the TL demo run');
    expect(st.draft.vocabOut).toBe('p');
    // 20 epochs of recorded losses, and the final model (epoch 20) measured on opening.
    expect(st.history[19].trainLoss).toBeCloseTo(3.0 - 0.14 * 19, 12);
    await expect.poll(async () => (await views(page)).snapshots).toEqual([0, 5, 15, 20]);
    const before = await pageState(page);
    await page.getByTestId('import-file').setInputFiles(join(FIX, 'evil_os_system.pth'));
    await expect.poll(() => lastNotice(page)).toMatch(/os\.system.*nothing in the file was run.*Your runs are unchanged/);
    const after = await pageState(page);
    expect(after.history.length).toBe(before.history.length);
    // An authors' appendix-task file (a loss list named for its task) goes to the appendix-tasks room; the run stays.
    const w = new PickleWriter().proto();
    w.floats([2.37, 1.0, 0.5]);
    const skip = join(dir, 'skip_trigram_infinite.pth');
    writeFileSync(skip, torchArchive(w.stop()));
    await page.getByTestId('import-file').setInputFiles(skip);
    await expect.poll(() => lastNotice(page)).toMatch(/authors' saved run of skip3 \(App\. D\.3\).*3 steps on fresh data.*shown in “Grokking beyond modular addition”; your runs are unchanged/);
    expect((await pageState(page)).history.length).toBe(before.history.length);
    expect(s.logs.filter((l) => l.startsWith('pageerror'))).toEqual([]);
  }, 120_000);
});
