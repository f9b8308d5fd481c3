/**
 * A sweep in the page (issue #13), on the built site in Chromium (wasm): a `sweep=` link fills the
 * form, Train sweep trains the four runs batched in the sweep worker with progress for the whole
 * sweep, the phase diagram fills, and clicking a cell opens that run as the page's run — its
 * configuration, its history as trained, and training that continues from its last epoch. And a
 * small sweep on the software WebGPU adapter.
 */
import { mkdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARTIFACTS, baseUrl, hasBrowser, openBrowser, pageState, waitForState, type Session } from './browser.ts';

const BASE = 'p=23&dm=32&mlp=64&frac=0.5&wd=1';
const SWEEP = 'wd:0.3,1;seed:0,1';
const EPOCHS = 300;

type SweepRuns = { index: number; label: string; rows: { epoch: number; testLoss: number }[]; summary: unknown }[];

function sweepState(page: Session['page']) {
  return page.evaluate(() => {
    type Store = { getState(): { status: string; done: number; total: number; runs: SweepRuns; message: string | null; batches: number[][] } };
    const s = (window as unknown as { grokscope: { sweep: Store } }).grokscope.sweep.getState();
    return { status: s.status, done: s.done, total: s.total, message: s.message, batches: s.batches, runs: s.runs.map((r) => ({ index: r.index, label: r.label, rows: r.rows, summary: r.summary })) };
  });
}

if (!hasBrowser) {
  describe('sweep in the page', () => {
    it.skip('skipped: Chromium not found (apt-get install -y chromium, or set CHROMIUM_PATH)', () => {});
  });
}

describe.skipIf(!hasBrowser)('a sweep in the page (wasm)', () => {
  let s: Session;
  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    s = await openBrowser({ webgpu: false });
  });
  afterAll(async () => {
    await s?.close();
  });

  it('trains a small sweep batched, fills the phase diagram, and opens a clicked cell as the run', async () => {
    const { page } = s;
    await page.goto(`${baseUrl}?${BASE}&backend=wasm&sweep=${SWEEP}`);
    await waitForState(page, (st) => st.status === 'idle', 60_000, 'the worker to be ready');
    await expect.poll(() => page.getByTestId('sweep-text').inputValue()).toBe(SWEEP);
    // A bad value is named and the sweep cannot start; the good one comes back.
    await page.getByTestId('sweep-text').fill('wd:0.3,banana');
    await expect.poll(() => page.getByTestId('sweep-problem').textContent()).toMatch(/banana/);
    expect(await page.getByTestId('sweep-train').isDisabled()).toBe(true);
    await page.getByTestId('sweep-text').fill(SWEEP);
    await page.getByTestId('sweep-epochs').fill(String(EPOCHS));
    await page.getByTestId('sweep-every').fill('25');
    await expect.poll(() => page.getByTestId('sweep-train').textContent()).toBe('Train sweep (4 runs)');
    // The address keeps the sweep (a reload or a shared link brings it back).
    await expect.poll(() => new URL(page.url()).searchParams.get('sweep')).toBe(SWEEP);
    await page.getByTestId('sweep-train').click();

    // Progress over the whole sweep, while it trains.
    await expect.poll(async () => (await sweepState(page)).done, { timeout: 120_000 }).toBeGreaterThan(0);
    const mid = await sweepState(page);
    expect(mid.total).toBe(4 * EPOCHS);
    expect(mid.batches).toEqual([[0, 1, 2, 3]]);
    await expect.poll(async () => (await sweepState(page)).status, { timeout: 240_000 }).toBe('done');
    const done = await sweepState(page);
    expect(done.done).toBe(4 * EPOCHS);
    expect(done.runs.every((r) => r.summary !== null && r.rows.at(-1)?.epoch === EPOCHS)).toBe(true);
    await expect.poll(() => page.locator('[data-testid=phase-cell][data-filled=true]').count()).toBe(4);
    expect(await page.getByTestId('sweep-panel').count()).toBe(2);
    // The single run was left alone.
    expect((await pageState(page)).epoch).toBe(0);
    await page.locator('#sweep').scrollIntoViewIfNeeded();
    await page.locator('#sweep').screenshot({ path: `${ARTIFACTS}/sweep-wasm.png` });

    // Open run 3 (wd = 1, seed = 0): row 2, column 1.
    await page.getByTestId('phase-cell').nth(2).click();
    const opened = await waitForState(page, (st) => st.history.length > 0 && st.epoch === EPOCHS && st.status !== 'starting', 60_000, 'the sweep run to open');
    expect(opened.draft.weightDecay).toBe(1);
    expect(opened.draft.seed).toBe(0);
    expect(opened.draft.p).toBe(23);
    const run = done.runs[2];
    expect(run.label).toBe('wd=1, seed=0');
    expect(opened.history.map((h) => h.epoch)).toEqual(run.rows.map((r) => r.epoch));
    expect(opened.history.map((h) => h.testLoss)).toEqual(run.rows.map((r) => r.testLoss));
    expect(await page.getByTestId('phase-cell').nth(2).evaluate((el) => el.parentElement!.className)).toBe('opened');
    // It continues from its last epoch (weights and Adam moments came with it).
    await page.getByTestId('train').click();
    await waitForState(page, (st) => st.epoch > EPOCHS, 60_000, 'the opened run to train on');
    await page.getByTestId('pause').click();
    expect(s.logs.filter((l) => l.startsWith('pageerror'))).toEqual([]);
    console.log(`sweep (wasm): 4 runs × ${EPOCHS} epochs, ${done.message}`);
  });

  it('branches the opened run at its latest checkpoint with another λ, and overlays the parent', async () => {
    const { page } = s;
    const parent = await waitForState(page, (st) => st.status === 'paused', 30_000, 'the opened run to pause');
    await page.getByTestId('branch-here').click();
    await page.getByTestId('branch-wd').fill('0.3');
    await page.screenshot({ path: `${ARTIFACTS}/branch-form.png` });
    await page.getByTestId('branch-start').click();
    const branch = await waitForState(page, (st) => st.draft.weightDecay === 0.3 && ['paused', 'idle'].includes(st.status) && st.history.length > 0, 60_000, 'the branch to open');
    // It starts where the parent stopped, with the parent's history up to there.
    expect(branch.epoch).toBe(parent.epoch);
    const before = (h: { epoch: number; testLoss: number }[], e: number) => h.filter((x) => x.epoch < e).map((x) => [x.epoch, x.testLoss]);
    expect(before(branch.history, branch.epoch)).toEqual(before(parent.history, parent.epoch));
    expect(branch.notices.at(-1)?.text).toMatch(/weights and Adam moments/);
    // The parent is overlaid on the loss chart, named by the setting in which it differs (a chart
    // draws while on screen: scroll to it).
    await page.getByTestId('loss-chart').scrollIntoViewIfNeeded();
    await expect
      .poll(() => page.evaluate(() => ((document.querySelector('[data-testid=loss-chart]') as unknown as { data?: { name?: string }[] }).data ?? []).map((d) => d.name ?? '')), { timeout: 30_000 })
      .toContain('wd=1 · test');
    await page.getByTestId('train').click();
    const trained = await waitForState(page, (st) => st.epoch > parent.epoch + 20 && st.history.at(-1)!.epoch > parent.epoch, 60_000, 'the branch to train');
    expect(trained.history.at(-1)!.weightDecay).toBe(0.3);
    await page.getByTestId('pause').click();
    await page.locator('#training').screenshot({ path: `${ARTIFACTS}/branch-compare.png` });
    expect(s.logs.filter((l) => l.startsWith('pageerror'))).toEqual([]);
  });

  it('keeps the finished runs over a reload: the phase diagram fills again and a cell opens its run', async () => {
    const { page } = s;
    const before = await sweepState(page);
    await page.reload();
    await waitForState(page, (st) => st.backend !== null, 60_000, 'the page after the reload');
    await expect.poll(async () => (await sweepState(page)).status, { timeout: 30_000 }).toBe('done');
    const after = await sweepState(page);
    expect(after.message).toMatch(/4 of 4 runs of the last sweep/);
    expect(after.runs.map((r) => r.rows.map((x) => [x.epoch, x.testLoss]))).toEqual(before.runs.map((r) => r.rows.map((x) => [x.epoch, x.testLoss])));
    await expect.poll(() => page.locator('[data-testid=phase-cell][data-filled=true]').count()).toBe(4);
    // A resume offer for the branch may show; the sweep's run opens all the same.
    await page.getByTestId('phase-cell').nth(1).click();
    const opened = await waitForState(page, (st) => st.draft.weightDecay === 0.3 && st.draft.seed === 1 && st.epoch === EPOCHS && st.history.length > 0 && st.status !== 'starting', 60_000, 'a kept sweep run to open');
    expect(opened.history.map((h) => h.testLoss)).toEqual(before.runs[1].rows.map((r) => r.testLoss));
    expect(s.logs.filter((l) => l.startsWith('pageerror'))).toEqual([]);
  });
});

describe.skipIf(!hasBrowser)('a sweep in the page (webgpu)', () => {
  let s: Session;
  beforeAll(async () => {
    s = await openBrowser({ webgpu: true });
  });
  afterAll(async () => {
    await s?.close();
  });

  it("trains batched on WebGPU in the sweep worker (the fused step: fused.test.ts), and a cell opens its run", async () => {
    const { page } = s;
    const epochs = 40;
    // Small enough for the software adapter.
    await page.goto(`${baseUrl}?p=5&dm=16&heads=2&mlp=64&frac=0.8&backend=webgpu&sweep=seed:0,1`);
    await waitForState(page, (st) => st.status === 'idle' && st.backend?.name === 'webgpu', 120_000, 'the worker to be ready on webgpu');
    await page.getByTestId('sweep-epochs').fill(String(epochs));
    await page.getByTestId('sweep-every').fill('10');
    await expect.poll(() => page.getByTestId('sweep-train').textContent()).toBe('Train sweep (2 runs)');
    await page.getByTestId('sweep-train').click();
    await expect.poll(async () => (await sweepState(page)).status, { timeout: 240_000 }).toBe('done');
    const done = await sweepState(page);
    expect(await page.evaluate(() => (window as unknown as { grokscope: { sweep: { getState(): { backend: string | null } } } }).grokscope.sweep.getState().backend)).toBe('webgpu');
    expect(done.batches).toEqual([[0, 1]]);
    expect(done.runs.every((r) => r.rows.at(-1)?.epoch === epochs && r.rows.every((x) => Number.isFinite(x.testLoss)))).toBe(true);
    // The two seeds trained apart: their curves differ.
    expect(done.runs[0].rows.at(-1)!.testLoss).not.toBe(done.runs[1].rows.at(-1)!.testLoss);
    await expect.poll(() => page.locator('[data-testid=phase-cell][data-filled=true]').count()).toBe(2);
    await page.getByTestId('phase-cell').nth(1).click();
    const opened = await waitForState(page, (st) => st.draft.seed === 1 && st.epoch === epochs && st.history.length > 0 && st.status !== 'starting', 120_000, 'the sweep run to open');
    expect(opened.history.map((h) => h.testLoss)).toEqual(done.runs[1].rows.map((r) => r.testLoss));
    expect(s.logs.filter((l) => l.startsWith('pageerror'))).toEqual([]);
    console.log(`sweep (webgpu, software adapter): 2 runs × ${epochs} epochs, ${done.message}`);
  });
});
