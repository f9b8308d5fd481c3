/**
 * The speed panel in Chromium: live epochs/s and GFLOP/s, the time to grok when test accuracy
 * reaches 99%, and the "Benchmark this backend" button (the worker's half of `npm run bench`),
 * which pauses the run and keeps it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeQuery } from '../../src/config/url.ts';
import { epochFlops } from '../../src/model/flops.ts';
import { ARTIFACTS, baseUrl, hasBrowser, openBrowser, waitForState, type Session } from './browser.ts';

/** Generalizes within ~1–2k epochs (80% of the pairs for training, strong decay). */
const QUICK = 'p=23&dm=32&mlp=128&frac=0.8&wd=2&lr=0.003&epochs=20000';

describe.skipIf(!hasBrowser)('speed panel', () => {
  let s: Session;
  beforeAll(async () => {
    s = await openBrowser({ webgpu: false });
  });
  afterAll(async () => {
    await s?.close();
  });

  it('shows epochs/s, GFLOP/s and the time to grok, and benchmarks without losing the run', async () => {
    const { page } = s;
    await page.goto(`${baseUrl}?${QUICK}&backend=wasm`);
    await waitForState(page, (st) => st.status === 'idle', 60_000, 'ready');
    await page.getByTestId('train').click();
    await waitForState(page, (st) => st.epoch > 200, 60_000, '200 epochs');
    const eps = Number(await page.getByTestId('speed-eps').textContent());
    const gflops = Number(await page.getByTestId('speed-gflops').textContent());
    expect(eps).toBeGreaterThan(0);
    // GFLOP/s is epochs/s times the counted FLOPs of an update (both as shown, rounded).
    const perEpoch = epochFlops(decodeQuery(QUICK).config).train / 1e9;
    expect(gflops).toBeCloseTo(eps * perEpoch, 0);
    expect(await page.getByTestId('speed-backend').textContent()).toMatch(/^wasm · /);

    const grokked = await page.waitForFunction(
      () => (window as unknown as { grokscope: { store: { getState(): { grokked: { epoch: number } | null } } } }).grokscope.store.getState().grokked,
      undefined,
      { timeout: 240_000, polling: 500 },
    );
    const { epoch } = (await grokked.jsonValue()) as { epoch: number };
    const st = await waitForState(page, () => true);
    const first = st.history.find((c) => c.testAcc >= 0.99)!;
    expect(epoch).toBe(first.epoch);
    await expect.poll(() => page.getByTestId('speed-grok').textContent()).toMatch(new RegExp(`^epoch ${first.epoch.toLocaleString('en-US')}, after (\\d+ min )?\\d+ (s|min) of training$`));

    // Benchmark: pauses, times both paths, keeps the run where it was.
    await page.getByTestId('speed-bench').click();
    const paused = await waitForState(page, (x) => x.status === 'paused', 30_000, 'the benchmark to pause the run');
    const table = page.getByTestId('speed-bench-result');
    await table.waitFor({ timeout: 120_000 });
    const rows = await table.locator('tbody tr').allTextContents();
    expect(rows.map((r) => r.slice(0, 4))).toEqual(['fast', 'gene']);
    expect(await table.locator('tfoot').textContent()).toMatch(/fast path \d+\.\d\d× faster; a checkpoint's analysis \d+ ms/);
    await page.screenshot({ path: `${ARTIFACTS}/speed-panel.png`, clip: (await page.getByTestId('speed-panel').boundingBox())! });
    const after = await waitForState(page, () => true);
    expect(after.epoch).toBe(paused.epoch);
    await page.getByTestId('train').click();
    await waitForState(page, (x) => x.epoch > paused.epoch + 20, 30_000, 'training to go on after the benchmark');
    expect(s.logs.filter((l) => l.startsWith('pageerror'))).toEqual([]);
  }, 420_000);
});
