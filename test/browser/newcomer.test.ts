/**
 * The newcomer's wait and settings that tell the truth (issue 15, items 6–7): before Train the
 * charts say what to do instead of showing a dot, the guide defines its terms where they first
 * appear and points to the recorded run while the run memorizes; Space trains and pauses; a live
 * λ change makes the preset menu say "custom" and leaves a mark on the curves.
 */
import { mkdirSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nearestStop } from '../../src/ui/controls/weight-decay-stops.ts';
import { ARTIFACTS, baseUrl, hasBrowser, openBrowser, waitForState, type Session } from './browser.ts';

/** A preset exactly (so the menu names it), and one of the faster ones: P = 53 with λ = 5. */
const SMALL = 'preset=p53&backend=wasm';

type ChartLayout = { annotations?: { text?: string; hovertext?: string }[]; shapes?: { type?: string; x0?: number; line?: { width?: number } }[] };
const layoutOf = (page: Page, id: string) =>
  page.evaluate((i) => (document.querySelector(`[data-testid="${i}"]`) as unknown as { layout?: ChartLayout }).layout ?? null, id) as Promise<ChartLayout | null>;

describe.skipIf(!hasBrowser)("the newcomer's first minutes", () => {
  let s: Session;
  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    s = await openBrowser({ webgpu: false, width: 1280, height: 720 });
    await s.page.goto(`${baseUrl}?${SMALL}`);
    await waitForState(s.page, (x) => x.status === 'idle', 60_000, 'the worker to be ready');
  });
  afterAll(async () => {
    await s?.close();
  });

  it('says "press Train" on an empty chart, defines its terms, and points to the recording', async () => {
    const { page } = s;
    await page.getByTestId('loss-chart').scrollIntoViewIfNeeded();
    await expect.poll(async () => (await layoutOf(page, 'loss-chart'))?.annotations?.map((a) => a.text).join(' ') ?? '', { timeout: 20_000 }).toMatch(/Press Train — the first points arrive within a second/);
    await page.screenshot({ path: `${ARTIFACTS}/newcomer-empty-1280x720.png` });
    // The memorization panel defines the excluded loss and K before using them.
    const memo = page.getByTestId('guide-memorization');
    await memo.getByTestId('term-excluded loss').click();
    await expect.poll(() => memo.getByTestId('term-definition').textContent()).toMatch(/training loss after the key frequencies K are removed/);
    expect(await memo.getByTestId('term-K').count()).toBe(1);
    for (const term of ['ℤ_P', 'W_L', 'Gini', 'FVE']) expect(await page.getByTestId(`term-${term}`).count(), term).toBeGreaterThanOrEqual(1);
    await expect.poll(() => page.getByTestId('coming').textContent()).toMatch(/to see what is coming, open the recorded reference run/);
  });

  it('trains and pauses with Space', async () => {
    const { page } = s;
    await page.locator('h1').click();
    await page.keyboard.press('Space');
    await waitForState(page, (x) => x.status === 'running', 30_000, 'Space to train');
    await waitForState(page, (x) => x.history.length >= 4, 60_000, 'a few checkpoints');
    await page.locator('h1').click();
    await page.keyboard.press('Space');
    await waitForState(page, (x) => x.status === 'paused', 30_000, 'Space to pause');
    expect(await page.getByTestId('preset').evaluate((el) => (el as HTMLSelectElement).selectedOptions[0].textContent)).toMatch(/P = 53 with λ = 5/);
  }, 120_000);

  it('says "custom" after a live λ change and marks the change on the curves', async () => {
    const { page } = s;
    const before = await waitForState(page, () => true);
    expect(await page.getByTestId('preset').evaluate((el) => (el as HTMLSelectElement).selectedOptions[0].textContent)).toMatch(/P = 53 with λ = 5/);
    // λ from 5 to 1 on the slider, as a drag would.
    await page.getByTestId('wd-slider').evaluate((el, v) => {
      const setter = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value')!.set!;
      setter.call(el, String(v));
      el.dispatchEvent(new Event('input', { bubbles: true }));
    }, nearestStop(1));
    await expect.poll(() => page.getByTestId('wd-value').textContent()).toBe('1');
    await page.getByTestId('step').click();
    await waitForState(page, (x) => x.history.length > before.history.length && x.history.at(-1)!.weightDecay === 1, 60_000, 'a checkpoint with the new λ');
    await expect.poll(() => page.getByTestId('preset').evaluate((el) => (el as HTMLSelectElement).selectedOptions[0].textContent)).toBe('custom');
    await page.getByTestId('loss-chart').scrollIntoViewIfNeeded();
    await expect
      .poll(async () => (await layoutOf(page, 'loss-chart'))?.annotations?.find((a) => /changed live/.test(a.hovertext ?? ''))?.hovertext ?? '', { timeout: 20_000 })
      .toMatch(/weight decay λ changed live: 5 → 1 \(between epochs [\d,]+ and [\d,]+\)/);
    const marks = (await layoutOf(page, 'loss-chart'))!.shapes!.filter((x) => x.type === 'line' && x.line?.width === 1);
    expect(marks.length).toBe(1);
    await page.waitForTimeout(600);
    await page.getByTestId('loss-chart').screenshot({ path: `${ARTIFACTS}/newcomer-live-change-1280x720.png` });
    expect(s.logs.filter((l) => l.startsWith('pageerror'))).toEqual([]);
  }, 120_000);
});
