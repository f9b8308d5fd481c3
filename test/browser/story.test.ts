/**
 * The story on every screen (issue 21): what a newcomer meets on a laptop (1440×900, 1280×720), a
 * projector (1920×1080) and a phone with touch (390×844). Screenshots land in test-results/story-*.
 */
import { mkdirSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { ARTIFACTS, baseUrl, hasBrowser, openBrowser, pageState, scrubTo, waitForRecording, waitForState, type Session } from './browser.ts';

const SIZES = [
  { name: 'laptop', width: 1440, height: 900, touch: false },
  { name: 'small-laptop', width: 1280, height: 720, touch: false },
  { name: 'projector', width: 1920, height: 1080, touch: false },
  { name: 'phone', width: 390, height: 844, touch: true },
] as const;

const LABELS = [0, 0.001, 0.01, 0.1, 1, 10, 100];
const SMALL = 'p=23&dm=32&mlp=64&frac=0.5&wd=1';

/** Top and bottom of an element in the viewport, or null when it is not rendered. */
async function box(page: Page, testId: string): Promise<{ top: number; bottom: number; left: number; right: number } | null> {
  return page.evaluate((id) => {
    const el = document.querySelector(`[data-testid="${id}"]`);
    if (!el) return null;
    const r = el.getBoundingClientRect();
    return r.width > 0 ? { top: r.top, bottom: r.bottom, left: r.left, right: r.right } : null;
  }, testId);
}

async function openReference(size: (typeof SIZES)[number]): Promise<Session> {
  const s = await openBrowser({ webgpu: false, width: size.width, height: size.height, touch: size.touch });
  await s.page.goto(`${baseUrl}?run=reference`);
  await waitForRecording(s.page, 120_000, 'the reference run to open');
  return s;
}

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

  it('a recording shows only what acts on it, and its texts are a recording\'s (items 6, 7)', async () => {
    await s?.close();
    s = await openReference(SIZES[0]);
    const { page } = s;
    // What acts on a recording: Train yourself, Branch here, Play, the scrubber.
    for (const id of ['train-yourself', 'play', 'scrub']) expect(await page.getByTestId(id).count(), id).toBe(1);
    expect(await page.getByRole('button', { name: 'Branch here' }).count()).toBe(1);
    // What does not: Step, Reset, the live λ slider and learning rate.
    for (const id of ['step', 'reset', 'wd-slider', 'lr-input']) expect(await page.getByTestId(id).count(), id).toBe(0);
    expect(await page.getByTestId('recorded-settings').textContent()).toMatch(/Recorded with weight decay λ = 1 and learning rate 0\.001/);
    // Item 6: recorded with the mainline's settings for 16,000 of its 40,000 epochs — a run length, not a setting.
    expect(await page.locator('[data-testid="preset"] option:checked').textContent()).toMatch(/^Mainline/);
    // Never "live": the button is End, the label has no "live ·".
    expect(await page.getByTestId('live').textContent()).toBe('End');
    expect(await page.getByTestId('scrub-label').textContent()).toMatch(/^epoch 16,000/);
    // The guide speaks of the recorded run.
    expect(await page.getByTestId('guide-memorization').textContent()).toMatch(/The recorded run reached 100% train accuracy/);
    expect(await page.getByTestId('guide-memorization').textContent()).not.toMatch(/Your run/);
    // The slow-backend notice offers no recorded run while one is open.
    await page.getByTestId('backend-notice-toggle').click();
    expect(await page.getByTestId('offer-reference').count()).toBe(0);
    // It grokked: said in the panel and on the curves.
    expect(await page.getByTestId('grokked-line').textContent()).toMatch(/^Grokked at epoch [\d,]+: test accuracy reached 99%/);
    expect(await page.getByTestId('live-test-acc').textContent()).toMatch(/^99\.\d%|^100%/);
  }, 180_000);

  it('scrubbed views use the snapshot at or before the shown epoch (item 9)', async () => {
    const { page } = s!;
    const { epochs, snaps } = await page.evaluate(() => {
      type Store = { getState(): { history: { column(n: string): Float64Array }; snapshotEpochs: number[] } };
      const st = (window as unknown as { grokscope: { store: Store } }).grokscope.store.getState();
      return { epochs: Array.from(st.history.column('epoch')), snaps: st.snapshotEpochs };
    });
    // Checkpoints just past a snapshot and just before the next: both show the earlier snapshot's weights.
    const between = epochs.map((e, i) => ({ e, i })).filter(({ e }) => !snaps.includes(e) && e > snaps[0] && e < snaps.at(-1)!);
    for (const { e, i } of [between[0], between.at(-1)!]) {
      await scrubTo(page, i);
      const from = Math.max(...snaps.filter((x) => x <= e));
      await expect.poll(() => page.getByTestId('scrub-label').textContent()).toMatch(new RegExp(`^epoch ${e.toLocaleString('en-US')}.* · weights from epoch ${from.toLocaleString('en-US')}$`));
    }
  }, 60_000);

  it('Play covers the whole run in a duration, and every view on screen shows the shown epoch\'s snapshot (item 10)', async () => {
    const { page } = s!;
    expect(await page.getByTestId('speed-30').getAttribute('aria-pressed')).toBe('true');
    expect(await page.locator('.speeds button').allTextContents()).toEqual(['2 min', '30 s', '8 s']);
    await page.getByTestId('live').click();
    await page.getByTestId('speed-8').click();
    await page.waitForFunction(() => (window as unknown as { grokscope: { store: { getState(): { snapshotEpochs: number[] } } } }).grokscope.store.getState().snapshotEpochs.length > 1, null, { timeout: 120_000 });
    // W_E, W_L and the attention maps on screen together (a chart out of view is not drawn).
    await page.getByTestId('spectrum-we').scrollIntoViewIfNeeded();
    await expect.poll(() => page.locator('[data-testid="attention-maps"] .gtitle').textContent(), { timeout: 60_000 }).toMatch(/· epoch 16,000/);
    /** One sample, in one task: the shown epoch, its snapshot, the scrubber's epoch and the epoch each chart on screen names. */
    const sample = () =>
      page.evaluate(() => {
        type St = { playing: boolean; viewEpoch: number | null; snapshotEpochs: number[]; history: { column(n: string): Float64Array } };
        const st = (window as unknown as { grokscope: { store: { getState(): St } } }).grokscope.store.getState();
        const epochs = Array.from(st.history.column('epoch'));
        const shown = st.viewEpoch === null ? epochs[epochs.length - 1] : Math.max(...epochs.filter((e) => e <= st.viewEpoch!));
        const views: Record<string, number> = {};
        for (const el of document.querySelectorAll<HTMLElement>('[data-testid]')) {
          const r = el.getBoundingClientRect();
          const m = /·\s?epoch\s?([\d,]+)/.exec(el.querySelector(':scope .gtitle')?.textContent ?? '');
          if (m && r.bottom > 0 && r.top < innerHeight) views[el.dataset.testid!] = Number(m[1].replace(/,/g, ''));
        }
        const label = /epoch ([\d,]+)/.exec(document.querySelector('[data-testid="scrub-label"]')?.textContent ?? '');
        return {
          playing: st.playing,
          shown,
          snapshot: Math.max(...st.snapshotEpochs.filter((e) => e <= shown)),
          label: label ? Number(label[1].replace(/,/g, '')) : NaN,
          views,
          note: document.querySelector('[data-testid="play-note"]')?.textContent ?? null,
        };
      });
    const plays: { seconds: number; samples: number; inStep: number; notes: string[]; shown: Set<number>; viewed: Set<string> }[] = [];
    for (const round of [1, 2]) {
      const started = Date.now();
      await page.getByTestId('play').click();
      const play = { seconds: 0, samples: 0, inStep: 0, notes: [] as string[], shown: new Set<number>(), viewed: new Set<string>() };
      const outOfStep: string[] = [];
      while (Date.now() - started < 240_000) {
        const f = await sample();
        if (!f.playing) break;
        play.samples++;
        play.shown.add(f.shown);
        Object.keys(f.views).forEach((v) => play.viewed.add(v));
        if (f.note && !play.notes.includes(f.note)) play.notes.push(f.note);
        // Every view on screen from the shown epoch's snapshot, and the scrubber at that epoch.
        const inStep = f.label === f.shown && Object.values(f.views).every((e) => e === f.snapshot);
        if (inStep) play.inStep++;
        else if (outOfStep.length < 5) outOfStep.push(JSON.stringify(f));
        if (round === 2 && play.samples === 10) await page.screenshot({ path: `${ARTIFACTS}/story-laptop-play.png` });
        await page.waitForTimeout(50);
      }
      play.seconds = (Date.now() - started) / 1000;
      plays.push(play);
      console.log(`story play "8 s", play ${round}: ${play.seconds.toFixed(1)} s, ${play.inStep}/${play.samples} samples in step over ${play.shown.size} epochs, views ${[...play.viewed].join(', ')}; notes: ${play.notes.slice(0, 3).join(' | ')}${play.notes.length > 3 ? ` … (${play.notes.length})` : ''}`);
      expect(outOfStep).toEqual([]);
      expect(play.samples).toBeGreaterThan(10);
      for (const v of ['spectrum-we', 'spectrum-wl', 'attention-maps']) expect(play.viewed.has(v), v).toBe(true);
      // It went through the run, ending at its last snapshot.
      expect(play.shown.size).toBeGreaterThan(10);
      await expect.poll(() => page.getByTestId('scrub-label').textContent()).toMatch(/^epoch 16,000/);
    }
    // The first Play prepared the views ahead and said so; the second plays them from memory.
    expect(plays[0].notes.some((n) => /^Preparing the views so they keep step: \d+\/28 ready/.test(n))).toBe(true);
    expect(plays[1].notes.filter((n) => /^Preparing/.test(n))).toEqual([]);
  }, 560_000);

  it('a run that was training trains on after a reload and Resume; the offer goes once another run starts (item 8)', async () => {
    await s?.close();
    s = await openBrowser({ webgpu: false, width: 1440, height: 900 });
    const { page } = s;
    await page.goto(`${baseUrl}?${SMALL}&backend=wasm`);
    await waitForState(page, (st) => st.status === 'idle', 60_000, 'ready');
    await page.getByTestId('train').click();
    await waitForState(page, (st) => st.status === 'running' && st.history.length >= 4, 60_000, 'training');
    await expect.poll(() => page.evaluate(() => localStorage.getItem('grokscope.training')), { timeout: 30_000 }).not.toBeNull();
    await page.reload();
    await expect.poll(() => page.getByTestId('resume-accept').count(), { timeout: 30_000 }).toBe(1);
    await page.screenshot({ path: `${ARTIFACTS}/story-resume-offer.png` });
    await page.getByTestId('resume-accept').click();
    const resumed = await waitForState(page, (st) => st.status === 'running', 60_000, 'the resumed run to train on');
    expect(resumed.history.length).toBeGreaterThanOrEqual(4);
    expect(await page.getByTestId('status').textContent()).toMatch(/Training/);
    // Reload again: the offer; then another run starts (Train on the fresh page): the offer goes.
    await page.reload();
    await expect.poll(() => page.getByTestId('resume-accept').count(), { timeout: 30_000 }).toBe(1);
    await waitForState(page, (st) => st.status === 'idle', 60_000, 'ready');
    await page.getByTestId('train').click();
    await waitForState(page, (st) => st.status === 'running', 60_000, 'a new run');
    await expect.poll(() => page.getByTestId('resume-offer').count(), { timeout: 10_000 }).toBe(0);
    await page.getByTestId('pause').click();
    await waitForState(page, (st) => st.status === 'paused', 60_000, 'paused');
    expect(await page.evaluate(() => localStorage.getItem('grokscope.training'))).toBeNull();
  }, 240_000);

  it('while the quick preset trains, the notice does not offer it; the grok estimate goes with a live λ; the menu follows the values (item 6)', async () => {
    await s?.close();
    s = await openBrowser({ webgpu: false, width: 1440, height: 900 });
    const { page } = s;
    await page.goto(`${baseUrl}?preset=quick`);
    await waitForState(page, (st) => st.status === 'idle', 60_000, 'ready');
    await page.getByTestId('backend-notice-toggle').click();
    expect(await page.getByTestId('backend-notice').textContent()).toMatch(/This is the quick preset/);
    expect(await page.getByTestId('notice-quick').count()).toBe(0);
    expect(await page.getByTestId('offer-reference').count()).toBe(1);
    await page.getByTestId('train').click();
    await expect.poll(() => page.getByTestId('grok-estimate').count(), { timeout: 60_000 }).toBe(1);
    expect(await page.getByTestId('grok-estimate').textContent()).toMatch(/quick preset reached 99% test accuracy at epoch 1,350/);
    const menu = () => page.locator('[data-testid="preset"] option:checked').textContent();
    expect(await menu()).toMatch(/^Quick/);
    await page.getByTestId('wd-stop-0.1').click();
    await expect.poll(() => page.getByTestId('grok-estimate').count(), { timeout: 10_000 }).toBe(0);
    expect(await menu()).toBe('custom');
    await waitForState(page, (st) => st.history.some((c) => c.weightDecay === 0.1), 90_000, 'a checkpoint with λ = 0.1');
    await page.getByTestId('wd-stop-1').click();
    // Every value is the preset's again: its name, but no promise for a run trained with 0.1 for a while.
    await expect.poll(menu, { timeout: 10_000 }).toMatch(/^Quick/);
    await expect.poll(() => page.getByTestId('preset-expect').textContent(), { timeout: 10_000 }).toMatch(/no longer the preset's experiment/);
    expect(await page.getByTestId('grok-estimate').count()).toBe(0);
    await page.getByTestId('pause').click();
  }, 180_000);

  for (const size of SIZES) {
    it(`${size.name} ${size.width}×${size.height}: the first screen tells the story; text, targets and heatmaps fit the screen (items 3, 4, 5)`, async () => {
      await s?.close();
      s = await openReference(size);
      const { page } = s;
      const report: Record<string, unknown> = {};
      const inFirstScreen = async (id: string) => {
        const b = await box(page, id);
        return b !== null && b.top >= 0 && b.bottom <= size.height + 0.5;
      };
      // The grokking moment, where it happened, in the panel beside the curves.
      const st = await pageState(page);
      const grok = st.history.find((c) => c.testAcc >= 0.99)!.epoch;
      expect(await page.getByTestId('grokked-line').textContent()).toContain(`Grokked at epoch ${grok.toLocaleString('en-US')}`);
      for (const id of ['loss-chart', 'accuracy-chart']) {
        await page.getByTestId(id).scrollIntoViewIfNeeded();
        await expect
          .poll(() => page.evaluate((i) => ((document.querySelector(`[data-testid="${i}"]`) as unknown as { layout?: { annotations?: { text?: string }[] } }).layout?.annotations ?? []).map((a) => a.text).join(' | '), id), { timeout: 30_000 })
          .toContain(`grokked at epoch ${grok.toLocaleString('en-US')}`);
      }
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.waitForTimeout(800);
      await page.screenshot({ path: `${ARTIFACTS}/story-${size.name}-${size.width}x${size.height}-first-screen.png` });
      const first: Record<string, boolean> = {};
      for (const id of ['train-yourself', 'live-test-acc', 'grokked-line', 'play', 'scrub', 'loss-chart', 'accuracy-chart']) first[id] = await inFirstScreen(id);
      report.firstScreen = first;
      if (!size.touch) {
        // Laptops and the projector: controls, progress with test accuracy, and both charts with their phases, whole.
        expect(first).toEqual(Object.fromEntries(Object.keys(first).map((k) => [k, true])));
      } else {
        // The phone: the controls, test accuracy and the grokking line above the fold; the bar one row.
        for (const id of ['train-yourself', 'live-test-acc', 'grokked-line', 'play', 'scrub']) expect(first[id], id).toBe(true);
      }
      const bar = (await box(page, 'time-bar'))!;
      report.barPx = Math.round(bar.bottom - bar.top);
      if (size.touch) {
        expect(bar.bottom - bar.top).toBeLessThanOrEqual(0.2 * size.height);
        // The slow-backend notice is one line that opens on a tap. It comes once the backends are
        // timed, after the first paint (#25), floating over the page.
        await expect.poll(() => box(page, 'backend-notice'), { timeout: 90_000 }).not.toBeNull();
        const notice = (await box(page, 'backend-notice'))!;
        report.noticePx = Math.round(notice.bottom - notice.top);
        expect(notice.bottom - notice.top).toBeLessThanOrEqual(50);
        await page.getByTestId('backend-notice-toggle').tap();
        await expect.poll(async () => { const b = (await box(page, 'backend-notice'))!; return b.bottom - b.top; }).toBeGreaterThan(80);
        await page.getByTestId('backend-notice-toggle').tap();
        // No keyboard-only control on touch.
        expect(await page.getByTestId('keys-button').isVisible()).toBe(false);
        // The menu holds the rest; the nav scrolls sideways and a tapped section lands below the bar.
        await page.getByTestId('bar-menu').tap();
        await expect.poll(() => page.getByTestId('toc').isVisible()).toBe(true);
        const toc = await page.getByTestId('toc').evaluate((el) => ({ scrolls: el.scrollWidth > el.clientWidth, overflow: getComputedStyle(el).overflowX }));
        expect(toc).toEqual({ scrolls: true, overflow: 'auto' });
        await page.screenshot({ path: `${ARTIFACTS}/story-phone-menu.png` });
        await page.getByTestId('toc').getByText('Evidence').tap();
        await page.waitForTimeout(1200);
        const barNow = (await box(page, 'time-bar'))!;
        const evidence = await page.evaluate(() => document.getElementById('evidence')!.getBoundingClientRect().top);
        report.evidenceLandsAt = Math.round(evidence);
        expect(evidence).toBeGreaterThanOrEqual(barNow.bottom - 1);
        expect(evidence).toBeLessThan(barNow.bottom + 40);
        await page.screenshot({ path: `${ARTIFACTS}/story-phone-evidence.png` });
      }
      // Targets: every control at least 24 × 24 (text links inside sentences excepted), the main ones 44 on touch.
      await page.evaluate(() => document.querySelectorAll('details.drawer').forEach((d) => ((d as HTMLDetailsElement).open = true)));
      const targets = await page.evaluate(() => {
        const out: { what: string; w: number; h: number }[] = [];
        for (const el of document.querySelectorAll('button, summary, select, input:not([type=file]), [role=button]')) {
          const r = el.getBoundingClientRect();
          if (r.width === 0 || r.height === 0 || el.matches('button.link, .term-word')) continue;
          out.push({ what: `${el.tagName.toLowerCase()} "${(el.getAttribute('aria-label') ?? el.textContent ?? '').trim().slice(0, 24)}"`, w: r.width, h: r.height });
        }
        return out;
      });
      const smallest = targets.reduce((a, b) => (Math.min(b.w, b.h) < Math.min(a.w, a.h) ? b : a));
      report.smallestTarget = `${smallest.what} ${smallest.w.toFixed(0)}×${smallest.h.toFixed(0)}`;
      expect(targets.filter((t) => t.w < 24 || t.h < 24)).toEqual([]);
      if (size.touch) {
        for (const id of ['train-yourself', 'play', 'bar-menu']) {
          const b = (await box(page, id))!;
          expect(b.bottom - b.top, id).toBeGreaterThanOrEqual(44);
        }
      }
      // Chart text at least 12 px, and heatmaps crisp with a device pixel per cell.
      await page.getByTestId('attention-maps').scrollIntoViewIfNeeded();
      await expect.poll(() => page.locator('[data-testid="attention-maps"] image').count(), { timeout: 60_000 }).toBeGreaterThan(0);
      const dpr = size.touch ? 3 : 1;
      const maps = await page.locator('[data-testid="attention-maps"] image').evaluateAll((els) => els.map((e) => ({ w: e.getBoundingClientRect().width, rendering: getComputedStyle(e).imageRendering })));
      report.attentionMapPx = Math.round(maps[0].w);
      for (const m of maps) {
        expect(m.w * dpr).toBeGreaterThanOrEqual(113);
        expect(m.rendering).toBe('pixelated');
      }
      // Titles never overlap: the subplot titles and axis titles of the heatmap grids.
      for (const id of ['attention-maps', 'neuron-maps']) {
        await page.getByTestId(id).scrollIntoViewIfNeeded();
        await expect.poll(() => page.locator(`[data-testid="${id}"] .annotation-text`).count(), { timeout: 60_000 }).toBeGreaterThan(1);
        await page.waitForTimeout(500);
        const overlaps = await page.evaluate((chart) => {
          const el = document.querySelector(`[data-testid="${chart}"]`)!;
          const boxes = [...el.querySelectorAll('.annotation-text, .xtitle, .ytitle, .gtitle')].map((t) => ({ text: t.textContent ?? '', r: t.getBoundingClientRect() })).filter((b) => b.r.width > 0 && b.text.trim());
          const out: string[] = [];
          for (let i = 0; i < boxes.length; i++)
            for (let j = i + 1; j < boxes.length; j++) {
              const a = boxes[i].r;
              const b = boxes[j].r;
              if (a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1) out.push(`"${boxes[i].text}" × "${boxes[j].text}"`);
            }
          return out;
        }, id);
        expect(overlaps, `${id}: titles that overlap`).toEqual([]);
      }
      const fonts = await page.evaluate(() => [...document.querySelectorAll('.main-svg text')].filter((t) => t.textContent && (t as SVGGraphicsElement).getBBox().width > 0).map((t) => parseFloat(getComputedStyle(t).fontSize)));
      report.smallestChartFontPx = Math.min(...fonts);
      expect(Math.min(...fonts)).toBeGreaterThanOrEqual(12);
      console.log(`story ${size.name} ${size.width}×${size.height}: ${JSON.stringify(report)}`);
    }, 240_000);
  }
});
