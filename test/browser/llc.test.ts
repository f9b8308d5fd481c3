/**
 * The LLC over training in Chromium: with `llc=` in the link, the worker estimates the run's
 * snapshots while it trains (epochs keep advancing between estimates), the chart gets its points
 * and the last estimate's chains, and the settings are shown and in the URL.
 */
import { mkdirSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARTIFACTS, baseUrl, hasBrowser, openBrowser, pageState, waitForState, type Session } from './browser.ts';

const LINK = 'preset=quick&backend=wasm&llc=chains:2,draws:10,batch:32,share:0.3';

interface Llc {
  points: { epoch: number; llc: number; error: number; settled: boolean }[];
  traces: number[][] | null;
  settings: Record<string, number> | null;
}

function llc(page: Page): Promise<Llc> {
  return page.evaluate(() => {
    type S = { points: Llc['points']; last: { traces: number[][] } | null; settings: Record<string, number> | null };
    const s = (window as unknown as { grokscope: { llc: { getState(): S } } }).grokscope.llc.getState();
    return { points: s.points, traces: s.last?.traces ?? null, settings: s.settings };
  });
}

describe.skipIf(!hasBrowser)('the LLC over training', () => {
  let s: Session;
  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    s = await openBrowser({ webgpu: false, width: 1440, height: 900 });
    await s.page.goto(`${baseUrl}?${LINK}`);
    await waitForState(s.page, (st) => st.status === 'idle', 60_000, 'the worker to be ready');
  });
  afterAll(async () => {
    await s?.close();
  });

  it('estimates snapshots while training runs, and draws them with the chains of the last', async () => {
    const { page } = s;
    await page.getByTestId('train').click();
    await waitForState(page, (st) => st.status === 'running', 30_000, 'training to start');
    // Estimates come while the run trains on: epochs after the first estimate keep advancing.
    const start = Date.now();
    let first: { epoch: number; at: number } | null = null;
    for (;;) {
      const [l, st] = await Promise.all([llc(page), pageState(page)]);
      if (!first && l.points.length > 0) first = { epoch: st.epoch, at: Date.now() };
      if (first && l.points.length >= 3 && st.epoch > first.epoch) break;
      if (Date.now() - start > 240_000) throw new Error(`timed out: ${l.points.length} estimates, epoch ${st.epoch}, status ${st.status}; ${s.logs.slice(-5).join(' | ')}`);
      await page.waitForTimeout(250);
    }
    const st = await pageState(page);
    expect(st.status).toBe('running');
    const l = await llc(page);
    expect(l.settings).toMatchObject({ chains: 2, draws: 10, batch: 32 });
    expect(l.traces).toHaveLength(2);
    for (const t of l.traces!) expect(t).toHaveLength(10);
    for (const p of l.points) expect(Number.isFinite(p.llc) && Number.isFinite(p.error)).toBe(true);
    expect(page.url()).toContain('llc=chains:2,draws:10,batch:32,share:0.3');
    // The chart shows them once on screen.
    await page.getByTestId('llc-over-training').scrollIntoViewIfNeeded();
    await page.waitForFunction(
      () => {
        const el = document.querySelector('[data-testid="llc-chart"]') as unknown as { data?: { x: number[] }[] } | null;
        const traces = document.querySelector('[data-testid="llc-traces-chart"]') as unknown as { data?: { x: number[] }[] } | null;
        return (el?.data?.slice(1).reduce((n, d) => n + d.x.length, 0) ?? 0) >= 3 && (traces?.data?.length ?? 0) === 2;
      },
      undefined,
      { timeout: 20_000 },
    );
    await expect(page.getByTestId('llc-status').textContent()).resolves.toContain('2 chains × 10 draws, batch 32');
    await page.getByTestId('llc-over-training').evaluate((el) => el.scrollIntoView({ block: 'end' }));
    await page.waitForTimeout(800);
    await page.screenshot({ path: `${ARTIFACTS}/llc-over-training.png` });
    await page.getByTestId('pause').click();
  });

  it('saves the estimates with the run: opening it again shows them', async () => {
    const { page } = s;
    await waitForState(page, (st) => st.status === 'paused', 30_000, 'the pause');
    const before = await llc(page);
    // Opened again without llc= in the link: nothing is estimated now, so what shows is what was saved.
    await page.goto(`${baseUrl}?preset=quick&backend=wasm`);
    await expect.poll(() => page.getByTestId('resume-accept').count(), { timeout: 30_000 }).toBe(1);
    await page.getByTestId('resume-accept').click();
    await waitForState(page, (st) => st.status !== 'starting' && st.history.length > 0, 120_000, 'the resumed run');
    await expect.poll(async () => (await llc(page)).points.length, { timeout: 20_000 }).toBeGreaterThan(0);
    const after = await llc(page);
    // Each one shown is one made before (saved with the last checkpoint after it).
    const made = new Map(before.points.map((p) => [p.epoch, p.llc]));
    for (const p of after.points) expect(made.get(p.epoch), `epoch ${p.epoch}`).toBeCloseTo(p.llc, 9);
    expect(after.settings).toMatchObject({ chains: 2, draws: 10, batch: 32 });
  });
});
