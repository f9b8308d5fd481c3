/**
 * The story on every screen (issue 21): what a newcomer meets on a laptop (1440×900, 1280×720), a
 * projector (1920×1080) and a phone with touch (390×844). Screenshots land in test-results/story-*.
 */
import { mkdirSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { ARTIFACTS, baseUrl, hasBrowser, openBrowser, waitForState, type Session } from './browser.ts';

const SIZES = [
  { name: 'laptop', width: 1440, height: 900, touch: false },
  { name: 'small-laptop', width: 1280, height: 720, touch: false },
  { name: 'projector', width: 1920, height: 1080, touch: false },
  { name: 'phone', width: 390, height: 844, touch: true },
] as const;

const LABELS = [0, 0.001, 0.01, 0.1, 1, 10, 100];

/** The λ shown after `act`, once the page has settled. */
async function lambdaAfter(page: Page, act: () => Promise<void>): Promise<string | null> {
  await act();
  await page.waitForTimeout(250);
  return page.getByTestId('wd-value').textContent();
}

describe.skipIf(!hasBrowser)('the story on every screen (#21)', () => {
  let s: Session | undefined;
  afterAll(async () => {
    await s?.close();
  });

  for (const size of SIZES) {
    it(`${size.name} ${size.width}×${size.height}: λ's labels sit at their stops and set exactly their value`, async () => {
      mkdirSync(ARTIFACTS, { recursive: true });
      await s?.close();
      s = await openBrowser({ webgpu: false, width: size.width, height: size.height, touch: size.touch });
      const { page } = s;
      await page.goto(`${baseUrl}?preset=quick&wd=100&backend=wasm`);
      await waitForState(page, (st) => st.status === 'idle', 60_000, 'the worker to be ready');
      // Item 1: 100 reads "100" (it read "1").
      expect(await page.getByTestId('wd-value').textContent()).toBe('100');
      expect(await page.getByTestId('wd-slider').getAttribute('aria-valuetext')).toBe('λ = 100');
      for (const v of LABELS) {
        const label = page.getByTestId(`wd-stop-${v}`);
        await label.evaluate((e) => e.scrollIntoView({ block: 'center' }));
        // Pressing on the track straight above a label's centre lands on that label's value…
        const box = (await label.boundingBox())!;
        const track = (await page.getByTestId('wd-slider').boundingBox())!;
        const tap = (x: number, y: number) => (size.touch ? page.touchscreen.tap(x, y) : page.mouse.click(x, y));
        expect(await lambdaAfter(page, () => tap(box.x + box.width / 2, track.y + track.height / 2)), `the track above "${v}"`).toBe(String(v));
        // …and pressing the label itself sets exactly it, from anywhere else.
        await page.getByTestId('wd-slider').fill(v === 1 ? '3' : '17');
        expect(await lambdaAfter(page, () => label.click()), `the label "${v}"`).toBe(String(v));
        expect(box.width).toBeGreaterThanOrEqual(24);
        expect(box.height).toBeGreaterThanOrEqual(24);
      }
      await page.getByTestId('wd-stop-1').click();
      await page.locator('[aria-label="Live settings"]').screenshot({ path: `${ARTIFACTS}/story-${size.name}-lambda.png` });
    });
  }
});
