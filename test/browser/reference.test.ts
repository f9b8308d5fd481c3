/**
 * The recorded reference run on the built site (vite build + vite preview, as hosted): ?run=reference
 * opens it without training, lazily (the first paint of a plain visit fetches no run), and the
 * scrubber goes from memorization to cleanup with every heavy view recomputed from its snapshots.
 */
import { statSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARTIFACTS, baseUrl, hasBrowser, openBrowser, scrubTo, waitForRecording, waitForState, type Session } from './browser.ts';

const RUN_FILE = 'public/runs/reference.grokrun.gz';

/** Moves the scrubber as a drag would (sets the range input's value and fires 'input'). */
interface ViewState {
  viewEpoch: number | null;
  heavyEpochs: number[];
  snapshotEpochs: number[];
}

function viewState(page: Page): Promise<ViewState> {
  return page.evaluate(() => {
    const s = (window as unknown as { grokscope: { store: { getState(): { viewEpoch: number | null; heavy: Map<number, unknown>; snapshotEpochs: number[] } } } }).grokscope.store.getState();
    return { viewEpoch: s.viewEpoch, heavyEpochs: [...s.heavy.keys()], snapshotEpochs: s.snapshotEpochs };
  });
}

/** The snapshot a scrubbed epoch's heavy views use: the last one at or before it (#21). */
const atOrBefore = (epochs: number[], e: number) => Math.max(...epochs.filter((x) => x <= e));

describe.skipIf(!hasBrowser)('the recorded reference run', () => {
  let s: Session;
  beforeAll(async () => {
    s = await openBrowser({ webgpu: false, width: 1440, height: 1000 });
  });
  afterAll(async () => {
    await s?.close();
  });

  it('is not fetched by a plain visit (lazy, not in the first paint)', async () => {
    const { page } = s;
    const runs: string[] = [];
    const onRequest = (r: { url(): string }) => {
      if (r.url().includes('/runs/')) runs.push(r.url());
    };
    page.on('request', onRequest);
    await page.goto(`${baseUrl}?backend=wasm`);
    await waitForState(page, (st) => st.status === 'idle', 60_000, 'ready');
    await page.waitForTimeout(1000);
    page.off('request', onRequest);
    expect(runs).toEqual([]);
  });

  it('opens with ?run=reference and scrubs from memorization to cleanup without training', async () => {
    const { page } = s;
    const bytes = statSync(RUN_FILE).size;
    console.log(`reference run: ${RUN_FILE} ${(bytes / 2 ** 20).toFixed(1)} MB`);
    expect(bytes).toBeLessThanOrEqual(15 * 2 ** 20);
    const started = Date.now();
    // wasm: this machine's WebGL is SwiftShader, far slower at the heavy views than wasm.
    await page.goto(`${baseUrl}?run=reference&backend=wasm`);
    const loaded = await waitForRecording(page, 120_000, 'the reference run to open');
    console.log(`reference run: open after ${Date.now() - started} ms, ${loaded.history.length} checkpoints to epoch ${loaded.epoch} on ${loaded.backend?.name}`);
    expect(loaded.epoch).toBeGreaterThanOrEqual(15_000);
    expect(loaded.status).not.toBe('running');
    // It is the mainline: P = 113, 30% of the pairs, λ = 1.
    expect(loaded.draft).toMatchObject({ p: 113, frac: 0.3, weightDecay: 1, seed: 0 });
    // It grokked: test accuracy ends near 100% after a long stretch of memorization.
    const last = loaded.history.at(-1)!;
    expect(last.testAcc).toBeGreaterThan(0.99);
    expect(loaded.history.find((c) => c.epoch === 1000)!.testAcc).toBeLessThan(0.5);
    const epochs = loaded.history.map((c) => c.epoch);
    // The snapshots arrive after the curves (a recording in pieces, src/files/recording.ts), the
    // nearest to the scrubber (at the end) first: wait for all of them, so the early ones scrubbed
    // to below are there (with 20 of 28, CI once had none at or before epoch 1,000).
    const pieces = () => page.evaluate(() => (window as unknown as { grokscope: { store: { getState(): { recordingSnapshots: { loaded: number; total: number } | null } } } }).grokscope.store.getState().recordingSnapshots);
    await expect.poll(async () => { const p = await pieces(); return p !== null && p.loaded === p.total; }, { timeout: 120_000, message: 'every snapshot' }).toBe(true);
    await expect.poll(async () => (await viewState(page)).snapshotEpochs.length, { timeout: 30_000, message: 'the snapshots in the worker' }).toBeGreaterThanOrEqual(20);
    const { snapshotEpochs } = await viewState(page);

    // Scrub to memorization, then to cleanup: the label names the phase, and the heavy views
    // are computed for the snapshot at or before each.
    const stops: [number, RegExp][] = [
      [1000, /memorization/],
      [8000, /cleanup/],
    ];
    for (const [target, phase] of stops) {
      const index = epochs.findIndex((e) => e >= target);
      await scrubTo(page, index);
      await expect.poll(() => page.getByTestId('scrub-label').textContent()).toMatch(new RegExp(`^epoch ${epochs[index].toLocaleString('en-US')}`));
      const label = (await page.getByTestId('scrub-label').textContent())!;
      expect(label, `the phase at epoch ${epochs[index]}`).toMatch(phase);
      const snap = atOrBefore(snapshotEpochs, epochs[index]);
      await expect.poll(async () => (await viewState(page)).heavyEpochs.includes(snap), { timeout: 60_000, message: `heavy views of snapshot ${snap}` }).toBe(true);
      await page.getByTestId('neuron-maps').scrollIntoViewIfNeeded();
      await expect
        .poll(() => page.evaluate(() => (document.querySelector('[data-testid="neuron-maps"]') as unknown as { layout?: { title?: { text?: string } } }).layout?.title?.text ?? ''), { timeout: 30_000 })
        .toMatch(new RegExp(`· epoch ${snap.toLocaleString('en-US')}$`));
      await page.screenshot({ path: `${ARTIFACTS}/reference-${phase.source}.png` });
    }
    // Nothing trained: the run is where it was opened.
    const after = await waitForState(page, () => true);
    expect(after.epoch).toBe(loaded.epoch);
    expect(after.history.length).toBe(loaded.history.length);
    // Opened again, now from the HTTP cache (it can arrive before the worker is ready): complete.
    await page.goto(`${baseUrl}?run=reference&backend=wasm`);
    await waitForState(page, (st) => st.history.length === loaded.history.length && st.epoch === loaded.epoch, 120_000, 'the cached reference run to open whole');
    expect(s.logs.filter((l) => l.startsWith('pageerror'))).toEqual([]);
  }, 300_000);
});
