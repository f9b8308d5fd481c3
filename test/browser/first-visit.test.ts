/**
 * The first seconds of a visit (issue #25), in headless Chromium with a fresh profile: Train works
 * from the first paint while the backends are timed beside it (the timing is held back here, so
 * the run provably starts before the choice), the run moves to the chosen backend without losing
 * its curves, the Train button never moves under the cursor, and a reload uses the remembered
 * choice at once without timing again.
 */
import { describe, expect, it } from 'vitest';
import { ARTIFACTS, baseUrl, hasBrowser, openBrowser, pageState, waitForState } from './browser.ts';

describe.skipIf(!hasBrowser)('the first visit', () => {
  it('trains before the backend is chosen, moves to the choice, and nothing moves under the cursor', async () => {
    // Service workers off: the measuring worker's script must come through the route below.
    const s = await openBrowser({ webgpu: false, serviceWorkers: 'block' });
    try {
      const { page, context } = s;
      let release!: () => void;
      const released = new Promise<void>((r) => (release = r));
      let measureLoads = 0;
      await context.route(/measure\.worker[^/]*\.js/, async (route) => {
        measureLoads += 1;
        await released;
        await route.continue();
      });
      await page.goto(baseUrl);
      const train = page.getByTestId('train');
      await train.waitFor({ state: 'visible' });
      const firstBox = (await train.boundingBox())!;
      // Usable at the first paint: no backend chosen yet.
      expect(await train.isEnabled()).toBe(true);
      expect((await pageState(page)).backend).toBeNull();
      await train.click();
      const early = await waitForState(page, (x) => x.history.some((c) => c.epoch > 0), 120_000, 'the first checkpoint of the run');
      // It trains on the backend in hand, before the timing has even started.
      expect(early.backend).toBeNull();
      expect(await page.evaluate(() => (window as unknown as { grokscope: { store: { getState(): { backendInHand: { name: string; chosenBy: string } | null } } } }).grokscope.store.getState().backendInHand)).toMatchObject({ name: 'wasm', chosenBy: 'provisional' });
      expect(early.status).toBe('running');
      expect(measureLoads).toBe(1);

      release();
      const chosen = await waitForState(page, (x) => x.backend !== null, 180_000, 'the backend choice');
      const backend = chosen.backend as unknown as { name: string; chosenBy: string };
      expect(backend.chosenBy).toBe('measurement');
      expect(backend.name).toBe('wasm');
      // The run went on: its curves were kept, in order, and it still trains.
      const later = await waitForState(page, (x) => x.epoch > chosen.epoch && x.history.length > early.history.length, 120_000, 'training after the choice');
      expect(later.status).toBe('running');
      const epochs = later.history.map((c) => c.epoch);
      expect(epochs.slice(0, early.history.length)).toEqual(early.history.map((c) => c.epoch));
      expect(epochs).toEqual([...new Set(epochs)].sort((a, b) => a - b));
      await expect.poll(() => page.getByTestId('speed-choice').textContent()).toMatch(/chose wasm$/);
      // Nothing moved under the cursor: the button (now Pause) is where Train was at the first paint.
      const box = (await page.getByTestId('pause').boundingBox())!;
      expect(Math.abs(box.x - firstBox.x)).toBeLessThan(0.5);
      expect(Math.abs(box.y - firstBox.y)).toBeLessThan(0.5);
      // The notice about the backend floats over the page instead of pushing it.
      const notice = page.getByTestId('backend-notice');
      await expect.poll(() => notice.count()).toBe(1);
      expect(await notice.evaluate((el) => getComputedStyle(el).position)).toBe('fixed');
      await page.screenshot({ path: `${ARTIFACTS}/first-visit.png` });
      await page.getByTestId('pause').click();
      await waitForState(page, (x) => x.status === 'paused', 60_000, 'the pause');

      // A repeat visit: the remembered choice at once, nothing timed again.
      await page.reload();
      const again = await waitForState(page, (x) => x.backend !== null, 60_000, 'the remembered backend');
      expect((again.backend as unknown as { chosenBy: string }).chosenBy).toBe('cache');
      expect(measureLoads).toBe(1);
      expect(s.logs.filter((l) => l.startsWith('pageerror'))).toEqual([]);
    } finally {
      await s.close();
    }
  }, 420_000);
});
