/**
 * The mechanism's new views in Chromium, on a run that groks in about a thousand epochs: Fig. 1's
 * circles (every token drawn, a grokked key frequency reading the pair out, the pair chosen by
 * hand) and Fig. 15's curves, one per key frequency beside all of K. Screenshots are saved.
 */
import { mkdirSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARTIFACTS, baseUrl, hasBrowser, openBrowser, waitForState, type Session } from './browser.ts';

/** Groks in about a thousand epochs (P = 23, 80% of pairs, λ = 2). */
const GROKS_FAST = 'p=23&dm=32&mlp=128&frac=0.8&wd=2&backend=wasm';

type PlotEl = { data?: { name?: string; x?: number[]; y?: number[] }[]; layout?: { title?: { text?: string }; annotations?: { text?: string }[] } };

async function plot(page: Page, testId: string): Promise<{ traces: { name: string; points: number }[]; title: string; annotations: string[] }> {
  return page.evaluate((id) => {
    const el = document.querySelector(`[data-testid="${id}"]`) as unknown as PlotEl | null;
    return {
      traces: (el?.data ?? []).map((t) => ({ name: t.name ?? '', points: t.x?.length ?? 0 })),
      title: el?.layout?.title?.text ?? '',
      annotations: (el?.layout?.annotations ?? []).map((a) => a.text ?? ''),
    };
  }, testId);
}

describe.skipIf(!hasBrowser)("the mechanism's views", () => {
  let s: Session;
  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    s = await openBrowser({ webgpu: false, width: 1440, height: 1000 });
    await s.page.goto(`${baseUrl}?${GROKS_FAST}`);
    await waitForState(s.page, (st) => st.status === 'idle', 60_000, 'the worker to be ready');
    await s.page.getByTestId('train').click();
    await waitForState(s.page, (st) => st.history.some((c) => c.testAcc > 0.99), 240_000, 'the run to grok');
    await s.page.getByTestId('pause').click();
    await waitForState(s.page, (st) => st.status === 'paused', 30_000, 'pause');
  });
  afterAll(async () => {
    await s?.close();
  });

  it("Fig. 1: every token on each key frequency's circle, and the pair read out at (a + b) mod P", async () => {
    const { page } = s;
    await page.locator('#circle').scrollIntoViewIfNeeded();
    await expect.poll(async () => (await plot(page, 'circle-maps')).traces[0]?.points ?? 0, { timeout: 30_000 }).toBe(23);
    const circles = await plot(page, 'circle-maps');
    console.log(`circles: ${circles.annotations.filter((a) => a.startsWith('k =')).join(' | ')}`);
    // Each circle says what it reads for (5, 9) by its own angles: 14 = (5 + 9) mod 23, or another c.
    expect(circles.annotations.filter((a) => /^k = \d+ · \d+% of W_E · .* · reads (14 ✓|\d+, not 14)$/.test(a)).length).toBeGreaterThan(0);
    expect((await plot(page, 'circle-readout')).title).toMatch(/a = 5, b = 9: the sum peaks at c = \d+/);
    await page.getByTestId('circle-a').fill('20');
    // The circles of the embedding alone are not the whole circuit (the MLP reads them out): the
    // readout names its own peak, right or not, and how many pairs the circles get right.
    await expect.poll(async () => (await plot(page, 'circle-readout')).title, { timeout: 10_000 }).toMatch(/a = 20, b = 9: the sum peaks at c = \d+( = \(a \+ b\) mod P|; \(a \+ b\) mod P = 6)/);
    const readout = (await plot(page, 'circle-readout')).title;
    console.log(`readout: ${readout}`);
    expect(Number(/read (\d+)% of all pairs right/.exec(readout)![1])).toBeGreaterThan(100 / 23);
    await page.waitForTimeout(600);
    await page.locator('#circle').screenshot({ path: `${ARTIFACTS}/view-circle.png` });
  });

  it('Fig. 15: one excluded-loss curve per key frequency beside all of K', async () => {
    const { page } = s;
    const K = await page.evaluate(() => (window as unknown as { grokscope: { store: { getState(): { keyFreqs: { active: number[] } | null } } } }).grokscope.store.getState().keyFreqs?.active ?? []);
    expect(K.length).toBeGreaterThan(0);
    await page.getByTestId('excluded-per-freq-chart').scrollIntoViewIfNeeded();
    await expect.poll(async () => (await plot(page, 'excluded-per-freq-chart')).traces.length, { timeout: 20_000 }).toBe(2 + K.length);
    const chart = await plot(page, 'excluded-per-freq-chart');
    for (const k of K) expect(chart.traces.find((t) => t.name === `excluded: k = ${k} removed alone`)?.points ?? 0).toBeGreaterThan(1);
    await page.waitForTimeout(600);
    await page.getByTestId('excluded-per-freq-chart').screenshot({ path: `${ARTIFACTS}/view-excluded-per-freq.png` });
    expect(s.logs.filter((l) => l.startsWith('pageerror'))).toEqual([]);
  });
});
