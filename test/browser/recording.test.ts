/**
 * The recorded reference run as a shared story (issue 15, items 1–3): the address keeps `run=` and
 * the scrubbed epoch `at=`, a reload reopens it there, the page says it is a recording, the guide
 * quotes the scrubbed epoch and marks its phase, and pinning K keeps every K-dependent curve drawn.
 */
import { mkdirSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARTIFACTS, baseUrl, hasBrowser, openBrowser, scrubTo, waitForRecording, waitForState, type Session } from './browser.ts';

const viewEpoch = (page: Page) =>
  page.evaluate(() => (window as unknown as { grokscope: { store: { getState(): { viewEpoch: number | null } } } }).grokscope.store.getState().viewEpoch);

/** The guide panel marked as the viewed epoch's phase. */
const currentGuide = (page: Page) => page.evaluate(() => document.querySelector('.guide[aria-current]')?.getAttribute('data-testid') ?? null);

interface KState {
  active: number[];
  pinned: boolean;
  versions: number[];
  version: number;
  snapshots: number[];
}

/** The K state and the version each checkpoint's K-dependent measures were taken with. */
const kState = (page: Page) =>
  page.evaluate(() => {
    type S = { keyFreqs: { active: number[]; pinned: boolean; version: number }; snapshotEpochs: number[]; history: { column(n: string): Float64Array; indexOf(e: number): number } };
    const s = (window as unknown as { grokscope: { store: { getState(): S } } }).grokscope.store.getState();
    const v = s.history.column('keyFreqsVersion');
    return { ...s.keyFreqs, versions: Array.from(v), snapshots: s.snapshotEpochs.map((e) => v[s.history.indexOf(e)]) };
  }) as Promise<KState>;

/** Finite points of each trace of a chart, by trace name. */
function tracePoints(page: Page, testId: string): Promise<Record<string, number>> {
  return page.evaluate((id) => {
    const el = document.querySelector(`[data-testid="${id}"]`) as unknown as { data?: { name?: string; y?: ArrayLike<number> }[] };
    return Object.fromEntries((el.data ?? []).map((t) => [t.name ?? '', Array.from(t.y ?? []).filter((v) => Number.isFinite(v)).length]));
  }, testId);
}

describe.skipIf(!hasBrowser)('a recorded run you can share and reload', () => {
  let s: Session;
  let epochs: number[] = [];
  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    s = await openBrowser({ webgpu: false, width: 1440, height: 900 });
    await s.page.goto(`${baseUrl}?run=reference&backend=wasm`);
    const st = await waitForRecording(s.page, 120_000, 'the reference run to open');
    epochs = st.history.map((c) => c.epoch);
  }, 150_000);
  afterAll(async () => {
    await s?.close();
  });

  it('says it is a recording, keeps run= and at= in the address, and reopens there after a reload', async () => {
    const { page } = s;
    await expect.poll(() => page.getByTestId('status').textContent()).toMatch(/^Reference: mainline .*seed 0 — recorded, not training/);
    // Named once on the screen (the time bar's line), not again in the run panel's status.
    await expect.poll(() => page.getByTestId('recording-line').innerText()).toMatch(/^Reference: mainline .*seed 0 — recorded, not training/);
    expect(await page.evaluate(() => document.body.innerText.split('recorded, not training').length - 1)).toBe(1);
    await expect(page.getByTestId('train-yourself').textContent()).resolves.toMatch(/Train this configuration yourself/);
    expect(await page.getByTestId('train').count()).toBe(0);
    expect(new URL(page.url()).searchParams.get('run')).toBe('reference');
    const index = epochs.findIndex((e) => e >= 3000);
    await scrubTo(page, index);
    await expect.poll(() => new URL(page.url()).searchParams.get('at')).toBe(String(epochs[index]));
    const url = new URL(page.url());
    expect(url.searchParams.get('run')).toBe('reference');
    expect(url.searchParams.get('epochs')).toBeNull();
    await page.reload();
    await waitForState(page, (x) => x.history.length === epochs.length, 120_000, 'the recording to reopen');
    await expect.poll(() => viewEpoch(page), { timeout: 30_000 }).toBe(epochs[index]);
    await expect.poll(() => page.getByTestId('scrub-label').textContent()).toMatch(new RegExp(`^epoch ${epochs[index].toLocaleString('en-US')}`));
    expect(new URL(page.url()).searchParams.get('at')).toBe(String(epochs[index]));
    await page.screenshot({ path: `${ARTIFACTS}/recording-reopened-1440x900.png` });
    // The accuracy chart's "0%" tick stays clear of the memorization label (#21 polish).
    const clash = () =>
      page.evaluate(() => {
        const el = document.querySelector('[data-testid="accuracy-chart"]');
        const tick = [...(el?.querySelectorAll('.ytick text') ?? [])].find((t) => t.textContent === '0%');
        const label = [...(el?.querySelectorAll('.annotation') ?? [])].find((a) => a.textContent === 'memorization');
        if (!tick || !label) return null;
        const a = tick.getBoundingClientRect();
        const b = label.getBoundingClientRect();
        return a.right > b.left && b.right > a.left && a.bottom > b.top && b.bottom > a.top;
      });
    await expect.poll(clash, { timeout: 20_000 }).not.toBeNull();
    expect(await clash()).toBe(false);
  }, 180_000);

  it("quotes the scrubbed epoch's numbers and phase in the guide, and marks the phase while Play runs", async () => {
    const { page } = s;
    const guideText = () => page.getByTestId('guide-cleanup').textContent();
    await scrubTo(page, 0);
    await expect.poll(guideText).toMatch(/At epoch 0: test loss/);
    const atZero = (await guideText())!;
    expect(atZero).toMatch(/has not started yet/);
    expect(atZero).not.toMatch(/test accuracy 99/);
    expect(await currentGuide(page)).toBe('guide-memorization');
    const late = epochs.findIndex((e) => e >= 14_000);
    await scrubTo(page, late);
    await expect.poll(guideText).toMatch(new RegExp(`At epoch ${epochs[late].toLocaleString('en-US')}: test loss`));
    expect(await guideText()).toMatch(/test accuracy (99|100)/);
    expect(await currentGuide(page)).toMatch(/guide-cleanup/);
    // Play the whole run in 8 s from the start: the highlighted panel follows the phases. Play
    // first holds until the heavy views can follow (#21 item 10: 28 s measured alone, more in CI).
    await scrubTo(page, 0);
    await page.getByTestId('speed-8').click();
    await page.getByTestId('play').click();
    const seen = new Set<string>();
    const start = Date.now();
    while (Date.now() - start < 180_000 && seen.size < 3) {
      const c = await currentGuide(page);
      if (c) seen.add(c);
      await page.waitForTimeout(100);
    }
    await page.getByTestId('play').click();
    expect([...seen]).toEqual(expect.arrayContaining(['guide-memorization', 'guide-circuit', 'guide-cleanup']));
    // Step buttons and the keyboard move the scrubber one checkpoint.
    await scrubTo(page, 10);
    await page.getByTestId('step-forward').click();
    await expect.poll(() => viewEpoch(page)).toBe(epochs[11]);
    await page.locator('h1').click();
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('ArrowLeft');
    await expect.poll(() => viewEpoch(page)).toBe(epochs[9]);
    await page.keyboard.press('?');
    await expect.poll(() => page.getByTestId('key-help').isVisible()).toBe(true);
    await page.keyboard.press('Escape');
    await expect.poll(() => page.getByTestId('key-help').count()).toBe(0);
  }, 300_000);

  it('keeps every K-dependent curve drawn (≥ 20 points) after K changes, and the phases', async () => {
    const { page } = s;
    await page.getByTestId('live').click();
    const phaseLabel = () => page.getByTestId('scrub-label').textContent();
    const before = (await phaseLabel())!;
    expect(before).toMatch(/stable|cleanup/);
    const rule = await kState(page);
    await page.getByTestId('k-input').fill('14');
    await page.getByTestId('k-apply').click();
    await page.getByTestId('loss-chart').scrollIntoViewIfNeeded();
    await expect.poll(async () => (await kState(page)).active, { timeout: 60_000 }).toEqual([14]);
    // While re-measuring the phases stay those of the complete curves.
    for (let i = 0; i < 10; i++) {
      expect(await phaseLabel()).toBe(before);
      await page.waitForTimeout(200);
    }
    await expect.poll(() => page.getByTestId('k-status').textContent()).toMatch(/re-measuring the curves with this K/);
    // Every snapshot re-measured with K = {14}: the curves are complete again.
    await expect.poll(async () => { const k = await kState(page); return k.snapshots.every((v) => v === k.version); }, { timeout: 150_000 }).toBe(true);
    await expect.poll(() => page.getByTestId('k-status').textContent()).not.toMatch(/re-measuring/);
    await page.waitForTimeout(1200);
    const loss = await tracePoints(page, 'loss-chart');
    await page.getByTestId('accuracy-chart').scrollIntoViewIfNeeded();
    await expect.poll(async () => (await tracePoints(page, 'accuracy-chart'))['restricted (test)'] ?? 0, { timeout: 10_000 }).toBeGreaterThanOrEqual(20);
    console.log(`K = {14}: points per trace ${JSON.stringify(loss)}`);
    expect(loss['restricted (test)']).toBeGreaterThanOrEqual(20);
    expect(loss['excluded (train)']).toBeGreaterThanOrEqual(20);
    expect(await phaseLabel()).not.toMatch(/memorization/);
    await page.getByTestId('loss-chart').scrollIntoViewIfNeeded();
    await page.waitForTimeout(800);
    await page.getByTestId('loss-chart').screenshot({ path: `${ARTIFACTS}/recording-k14-loss.png` });
    // "Use the rule": the curves measured with the rule's K come back whole.
    await page.getByTestId('k-rule').click();
    await expect.poll(async () => [...(await kState(page)).active].sort((a, b) => a - b), { timeout: 60_000 }).toEqual([...rule.active].sort((a, b) => a - b));
    // The button sits in the Fourier section, and a chart redraws only while on screen: back to it.
    await page.getByTestId('loss-chart').scrollIntoViewIfNeeded();
    await expect.poll(async () => (await tracePoints(page, 'loss-chart'))['excluded (train)'], { timeout: 30_000 }).toBe(epochs.length);
    expect(await page.getByTestId('k-status').textContent()).not.toMatch(/the rule now says/);
  }, 300_000);

  it('asks before another recording replaces this one', async () => {
    const { page } = s;
    const messages: string[] = [];
    page.once('dialog', (d) => {
      messages.push(d.message());
      void d.dismiss();
    });
    await page.getByTestId('open-no-wd').scrollIntoViewIfNeeded();
    await page.getByTestId('open-no-wd').click();
    await expect.poll(() => messages.length).toBe(1);
    expect(messages[0]).toMatch(/in place of the recorded run “Reference: mainline/);
    await page.waitForTimeout(1000);
    expect(new URL(page.url()).searchParams.get('run')).toBe('reference');
    page.once('dialog', (d) => void d.accept());
    await page.getByTestId('open-no-wd').click();
    await expect.poll(() => new URL(page.url()).searchParams.get('run'), { timeout: 120_000 }).toBe('no-wd');
    await expect.poll(() => page.getByTestId('status').textContent(), { timeout: 120_000 }).toMatch(/^Control: no weight decay .*recorded, not training/);
    expect(s.logs.filter((l) => l.startsWith('pageerror'))).toEqual([]);
  }, 180_000);
});
