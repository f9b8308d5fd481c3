/**
 * The page on a laptop, a projector and a phone (issue 15, items 4–5), with the recorded reference
 * run open so every chart has data: no horizontal scroll, the time bar still in view after
 * scrolling to the last section, no legend over a chart title, no link to Plotly's site, hover
 * labels that say "epoch N" with full series names, and the attention heads 2 × 2 on a phone.
 * Screenshots at each size land in test-results/.
 */
import { mkdirSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { ARTIFACTS, baseUrl, hasBrowser, openBrowser, waitForRecording, type Session } from './browser.ts';

const CHARTS = ['loss-chart', 'accuracy-chart', 'gini-chart', 'weight-norm-chart', 'neuron-count-chart', 'spectrum-we', 'spectrum-wl', 'attention-maps', 'neuron-maps', 'fve-histogram', 'neurons-by-frequency', 'cluster-wl', 'logit-spectrum', 'cos-coefficients', 'interference'];

/** Legend and title boxes of a drawn chart, and whether they intersect. */
function legendOverTitle(page: Page, testId: string): Promise<{ drawn: boolean; overlap: boolean; legend: number[] | null; title: number[] | null; titleCut: boolean }> {
  return page.evaluate((id) => {
    const el = document.querySelector(`[data-testid="${id}"]`)!;
    const box = (sel: string) => {
      const r = el.querySelector(sel)?.getBoundingClientRect();
      return r && r.width > 0 ? [r.left, r.top, r.right, r.bottom] : null;
    };
    const legend = box('.legend');
    const title = box('.gtitle');
    const chart = el.getBoundingClientRect();
    const overlap = !!legend && !!title && legend[0] < title[2] && title[0] < legend[2] && legend[1] < title[3] && title[1] < legend[3];
    const titleCut = !!title && (title[0] < chart.left - 1 || title[2] > chart.right + 1 || title[1] < chart.top - 1);
    return { drawn: !!el.querySelector('.main-svg'), overlap, legend, title, titleCut };
  }, testId);
}

async function openReference(width: number, height: number): Promise<Session> {
  const s = await openBrowser({ webgpu: false, width, height });
  await s.page.goto(`${baseUrl}?run=reference&backend=wasm`);
  await waitForRecording(s.page, 120_000, 'the reference run to open');
  return s;
}

describe.skipIf(!hasBrowser)('phones and projectors', () => {
  let s: Session | undefined;
  afterAll(async () => {
    await s?.close();
  });

  for (const [width, height] of [
    [390, 844],
    [1280, 720],
    [1440, 900],
  ] as const) {
    it(`fits ${width}×${height}: no horizontal scroll, the time bar in view, no legend over a title, no Plotly link`, async () => {
      mkdirSync(ARTIFACTS, { recursive: true });
      await s?.close();
      s = await openReference(width, height);
      const { page } = s;
      await page.screenshot({ path: `${ARTIFACTS}/screen-${width}x${height}-top.png` });
      const results: Record<string, unknown> = {};
      for (const id of CHARTS) {
        await page.getByTestId(id).scrollIntoViewIfNeeded();
        await expect.poll(async () => (await legendOverTitle(page, id)).drawn, { timeout: 60_000, message: `${id} draws` }).toBe(true);
        // A draw that measured an overlap corrects it on the next frames.
        await page.waitForTimeout(700);
        const r = await legendOverTitle(page, id);
        results[id] = r;
        expect(r.overlap, `${id}: legend ${r.legend} over title ${r.title}`).toBe(false);
        expect(r.titleCut, `${id}: title ${r.title} cut off`).toBe(false);
      }
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow, 'horizontal overflow in px').toBeLessThanOrEqual(0);
      // Scrolled to the last section, the scrubber is still on screen.
      await page.locator('#logits').scrollIntoViewIfNeeded();
      await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
      await page.waitForTimeout(300);
      const bar = await page.getByTestId('scrub').boundingBox();
      expect(bar, 'the scrubber has a box').not.toBeNull();
      expect(bar!.y).toBeGreaterThanOrEqual(0);
      expect(bar!.y + bar!.height).toBeLessThanOrEqual(height);
      expect(await page.getByTestId('play').isVisible()).toBe(true);
      await page.screenshot({ path: `${ARTIFACTS}/screen-${width}x${height}-logits.png` });
      // The scrub label is whole (not cut by its box).
      const cut = await page.getByTestId('scrub-label').evaluate((el) => el.scrollWidth > el.clientWidth + 1);
      expect(cut).toBe(false);
      // Nothing on the page links to Plotly's site (its modebar did, and its cloud).
      const plotlyLinks = await page.evaluate(() => Array.from(document.querySelectorAll('a[href]')).filter((a) => /plot\.ly|plotly\.com|chart-studio/i.test(a.getAttribute('href')!)).length);
      expect(plotlyLinks).toBe(0);
      expect(await page.locator('.modebar').count()).toBe(0);
      if (width === 390) {
        // Heads wrap 2 × 2: each map is wider than the 90 px of a 4-across row.
        const widths = await page.evaluate(() => Array.from(document.querySelectorAll('[data-testid="attention-maps"] .heatmaplayer image, [data-testid="attention-maps"] .hm image')).map((i) => i.getBoundingClientRect().width));
        expect(widths.length).toBeGreaterThanOrEqual(4);
        expect(Math.min(...widths)).toBeGreaterThan(120);
        for (const id of ['attention-maps', 'neuron-maps']) {
          await page.getByTestId(id).scrollIntoViewIfNeeded();
          await page.waitForTimeout(500);
          await page.getByTestId(id).screenshot({ path: `${ARTIFACTS}/screen-390x844-${id}.png` });
        }
        // The experiment form is in a drawer, closed until opened.
        expect(await page.getByTestId('settings-drawer').evaluate((d) => (d as HTMLDetailsElement).open)).toBe(false);
      }
      if (width === 1280) {
        // Hover: "epoch N" and full series names.
        await page.getByTestId('loss-chart').scrollIntoViewIfNeeded();
        await page.waitForTimeout(500);
        const plot = await page.locator('[data-testid="loss-chart"] .nsewdrag').first().boundingBox();
        await page.mouse.move(plot!.x + plot!.width * 0.5, plot!.y + plot!.height * 0.5);
        await expect.poll(() => page.locator('[data-testid="loss-chart"] .hoverlayer').textContent(), { timeout: 5000 }).toMatch(/epoch \d{1,2},\d{3}/);
        const hover = (await page.locator('[data-testid="loss-chart"] .hoverlayer').textContent())!;
        expect(hover).toMatch(/restricted \(test\)/);
        expect(hover).toMatch(/excluded \(train\)/);
        // 3–4 significant digits: no value printed with more.
        const values = [...hover.matchAll(/: [−-]?([\d.]+)(?:e[+−-]?\d+)?/g)].map((m) => m[1]);
        expect(values.length).toBeGreaterThanOrEqual(2);
        for (const v of values) expect(v.replace('.', '').replace(/^0+/, '').length, `significant digits of ${v}`).toBeLessThanOrEqual(4);
        await page.getByTestId('loss-chart').screenshot({ path: `${ARTIFACTS}/screen-1280x720-hover.png` });
      }
      console.log(`${width}×${height}: ${JSON.stringify(Object.fromEntries(Object.entries(results).map(([k, v]) => [k, (v as { legend: unknown }).legend ? 'legend+title' : 'title'])))}`);
      expect(s.logs.filter((l) => l.startsWith('pageerror'))).toEqual([]);
    }, 300_000);
  }
});
