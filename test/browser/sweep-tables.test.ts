/**
 * Tables 3–6 over a sweep's runs in the page (App. C; ui/sweep/SweepTables.tsx), on the built site
 * in Chromium (wasm): a two-seed sweep of which one run groks and one does not (the same case as
 * test/cli/tables.test.ts), measured at each run's final weights in the sweep worker. Table 5
 * lists both runs; Tables 3, 4 and 6 the run that grokked, naming the other and why. And the
 * authors' width scan (forged with the real file's structure) opens as a sweep in the same views.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { authorsWidthScan } from '../files/torch-forge.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARTIFACTS, baseUrl, hasBrowser, openBrowser, waitForState, type Session } from './browser.ts';

const BASE = 'p=23&dm=32&heads=4&mlp=64&frac=0.6&lr=0.01&wd=1';
const EPOCHS = 1500;

type Final = { testAcc: number; lossSkipAblated: number; keyFreqs: number[] };

if (!hasBrowser) {
  describe('sweep tables in the page', () => {
    it.skip('skipped: Chromium not found (apt-get install -y chromium, or set CHROMIUM_PATH)', () => {});
  });
}

describe.skipIf(!hasBrowser)('the tables over a sweep in the page (wasm)', () => {
  let s: Session;
  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    s = await openBrowser({ webgpu: false });
  });
  afterAll(async () => {
    await s?.close();
  });

  it('Table 5 lists every run; Tables 3, 4 and 6 the run that grokked, and say which they left out', async () => {
    const { page } = s;
    await page.goto(`${baseUrl}?${BASE}&backend=wasm&sweep=seed:0,1`);
    await waitForState(page, (st) => st.status === 'idle', 60_000, 'the worker to be ready');
    await page.getByTestId('sweep-epochs').fill(String(EPOCHS));
    await page.getByTestId('sweep-every').fill('250');
    expect(await page.getByTestId('sweep-tables').count()).toBe(0);
    await page.getByTestId('sweep-train').click();
    const status = () => page.evaluate(() => (window as unknown as { grokscope: { sweep: { getState(): { status: string } } } }).grokscope.sweep.getState().status);
    await expect.poll(status, { timeout: 400_000, interval: 2000 }).toBe('done');
    const finals = await page.evaluate(() => {
      type Store = { getState(): { runs: { label: string; final: Final | null }[] } };
      return (window as unknown as { grokscope: { sweep: Store } }).grokscope.sweep.getState().runs.map((r) => ({ label: r.label, final: r.final }));
    });
    expect(finals.map((f) => f.final !== null)).toEqual([true, true]);
    const grokked = finals.filter((f) => f.final!.testAcc >= 0.99).map((f) => f.label);
    const not = finals.filter((f) => f.final!.testAcc < 0.99).map((f) => f.label);
    // The case needs one of each (else it tests nothing).
    expect([grokked.length, not.length]).toEqual([1, 1]);

    await page.getByTestId('sweep-tables').scrollIntoViewIfNeeded();
    const bodyRows = (id: string) => page.locator(`[data-testid=${id}] tbody tr th`).allTextContents();
    expect(await bodyRows('table5')).toEqual(['seed=0', 'seed=1', 'mean ± sd']);
    expect(await bodyRows('table4')).toEqual([...grokked, 'mean ± sd']);
    expect(await bodyRows('table6')).toEqual([...grokked, 'mean ± sd']);
    // Table 3: one row per key frequency of the grokked run, the run named on the first.
    const g = finals.find((f) => f.label === grokked[0])!.final!;
    expect(await bodyRows('table3')).toEqual([grokked[0], ...g.keyFreqs.slice(1).map(() => ''), 'all fits']);
    for (const id of ['table3', 'table4', 'table6']) {
      const covers = await page.getByTestId(`${id}-covers`).textContent();
      expect(covers).toContain("Covers 1 of the sweep's 2 runs, those that grokked");
      expect(covers).toContain(`left out: ${not[0]} (did not grok: final test accuracy`);
      expect(covers).toMatch(/Paper: /);
    }
    expect(await page.getByTestId('table5-covers').textContent()).toContain("Covers 2 of the sweep's 2 runs, each at its final weights.");
    // The row shows the worker's measure of that run.
    const cells = await page.locator('[data-testid=table6] tbody tr').first().locator('td').allTextContents();
    const shown = Number(cells[1]);
    expect(Math.abs(shown - g.lossSkipAblated) / g.lossSkipAblated).toBeLessThan(0.01);
    await page.getByTestId('sweep-tables').screenshot({ path: `${ARTIFACTS}/sweep-tables.png` });
  }, 600_000);

  it("opens the authors' width scan as a sweep of loss curves (no weights: no tables)", async () => {
    const { page } = s;
    const file = join(mkdtempSync(join(tmpdir(), 'grokscope-width-')), 'no_wd_width_scan.pth');
    writeFileSync(file, authorsWidthScan([8, 16, 32], 40));
    await page.getByTestId('import-file').setInputFiles(file);
    const state = () =>
      page.evaluate(() => {
        type Store = { getState(): { status: string; message: string | null; text: string; runs: { rows: { testLoss: number }[]; summary: unknown }[] } };
        const st = (window as unknown as { grokscope: { sweep: Store } }).grokscope.sweep.getState();
        return { status: st.status, message: st.message, text: st.text, rows: st.runs.map((r) => r.rows.length), last: st.runs.map((r) => r.rows.at(-1)?.testLoss) };
      });
    await expect.poll(async () => (await state()).text, { timeout: 60_000 }).toBe('dm:8,16,32');
    const st = await state();
    expect(st.status).toBe('done');
    expect(st.rows).toEqual([40, 40, 40]);
    expect(st.last[2]).toBeCloseTo(1e-3, 9);
    expect(st.message).toMatch(/3 of 3 runs from no_wd_width_scan\.pth.*width scan without weight decay.*loss curves only/);
    await expect.poll(() => page.locator('[data-testid=phase-cell][data-filled=true]').count()).toBe(3);
    expect(await page.getByTestId('sweep-tables').count()).toBe(0);
    await page.locator('#sweep').scrollIntoViewIfNeeded();
    await page.locator('#sweep').screenshot({ path: `${ARTIFACTS}/sweep-width-scan.png` });
  }, 120_000);
});
