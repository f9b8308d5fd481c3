/**
 * §4's evidence, one input and interventions in Chromium: clicking a cell of the correctness map
 * opens that pair; an ablation changes the loss; both are in the URL and survive a reload.
 */
import { mkdirSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARTIFACTS, baseUrl, hasBrowser, openBrowser, waitForState, type Session } from './browser.ts';

const SMALL = 'p=23&dm=32&mlp=64&backend=wasm';

interface Answer {
  epoch: number;
  p: number;
  before: { trainLoss: number };
  after: { trainLoss: number } | null;
  probe: { a: number; b: number } | null;
  ablations: { target: string; index: number; mode: string }[];
}

function evidence(page: Page): Promise<{ answer: Answer | null; pair: number | null }> {
  return page.evaluate(() => {
    const s = (window as unknown as { grokscope: { evidence: { getState(): { answer: Answer | null; pair: number | null } } } }).grokscope.evidence.getState();
    return { answer: s.answer ? ({ epoch: s.answer.epoch, p: s.answer.p, before: s.answer.before, after: s.answer.after, probe: s.answer.probe, ablations: s.answer.ablations } as Answer) : null, pair: s.pair };
  });
}

/** Page coordinates of the centre of cell (a, b) of the correctness map (a row, b column). */
function cellPosition(page: Page, a: number, b: number): Promise<{ x: number; y: number }> {
  return page.evaluate(
    ([ra, rb]) => {
      type Axis = { l2p(v: number): number; _offset: number };
      const el = document.querySelector('[data-testid="correctness-map"]') as unknown as { _fullLayout: { xaxis: Axis; yaxis: Axis }; getBoundingClientRect(): DOMRect };
      const box = el.getBoundingClientRect();
      const { xaxis, yaxis } = el._fullLayout;
      return { x: box.left + xaxis._offset + xaxis.l2p(rb), y: box.top + yaxis._offset + yaxis.l2p(ra) };
    },
    [a, b],
  );
}

describe.skipIf(!hasBrowser)('evidence, one input, interventions', () => {
  let s: Session;
  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    s = await openBrowser({ webgpu: false, width: 1440, height: 1000 });
    await s.page.goto(`${baseUrl}?${SMALL}`);
    await waitForState(s.page, (st) => st.status === 'idle', 60_000, 'the worker to be ready');
  });
  afterAll(async () => {
    await s?.close();
  });

  it('clicking a cell of the correctness map opens that pair', async () => {
    const { page } = s;
    await expect.poll(async () => (await evidence(page)).answer !== null, { timeout: 30_000, message: 'the evidence arrives' }).toBe(true);
    await page.getByTestId('correctness-map').scrollIntoViewIfNeeded();
    await expect.poll(() => page.evaluate(() => Boolean((document.querySelector('[data-testid="correctness-map"]') as unknown as { _fullLayout?: unknown })._fullLayout)), { timeout: 20_000 }).toBe(true);
    const at = await cellPosition(page, 3, 5);
    await page.mouse.click(at.x, at.y);
    await expect.poll(async () => (await evidence(page)).pair, { timeout: 10_000 }).toBe(3 * 23 + 5);
    await expect.poll(async () => (await evidence(page)).answer?.probe, { timeout: 30_000 }).toMatchObject({ a: 3, b: 5 });
    await expect(page.getByTestId('input-details').innerText()).resolves.toMatch(/Input \(3, 5\): label 8/);
    await expect.poll(() => page.url(), { timeout: 5_000 }).toMatch(/pair=3,5/);
  });

  it('an ablation changes the loss, and its URL restores it after a reload', async () => {
    const { page } = s;
    await page.getByTestId('ablate-target').selectOption('head');
    await page.getByTestId('ablate-index').fill('0');
    await page.getByTestId('ablate-mode').selectOption('mean');
    await page.getByTestId('ablate-add').click();
    await expect.poll(async () => (await evidence(page)).answer?.after != null, { timeout: 30_000, message: 'the intervention is measured' }).toBe(true);
    const first = (await evidence(page)).answer!;
    expect(first.after!.trainLoss).not.toBeCloseTo(first.before.trainLoss, 6);
    await expect(page.getByTestId('after-train-loss').innerText()).resolves.toMatch(/→/);
    await expect.poll(() => page.url(), { timeout: 5_000 }).toMatch(/ablate=head:0:mean/);
    await page.locator('#input').screenshot({ path: `${ARTIFACTS}/view-input.png` });
    await page.locator('#evidence').scrollIntoViewIfNeeded();
    await page.waitForTimeout(800);
    await page.locator('#evidence').screenshot({ path: `${ARTIFACTS}/view-evidence.png` });

    await page.reload();
    await waitForState(page, (st) => st.status === 'idle', 60_000, 'the worker to be ready again');
    await expect.poll(async () => (await evidence(page)).answer?.after != null, { timeout: 30_000, message: 'the intervention is measured after the reload' }).toBe(true);
    const again = (await evidence(page)).answer!;
    expect(again.ablations).toEqual([{ target: 'head', index: 0, mode: 'mean' }]);
    expect(again.probe).toMatchObject({ a: 3, b: 5 });
    expect(again.after!.trainLoss).toBeCloseTo(first.after!.trainLoss, 5);
    expect(s.logs.filter((l) => l.startsWith('pageerror'))).toEqual([]);
  });
});
