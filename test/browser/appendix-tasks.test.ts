/**
 * The appendix's other tasks in the page (App. D.3, Figs. 29–34): each trains in its own worker
 * beside the run on show, and its curves are drawn live — loss, accuracy, and the task's own
 * measure (skip3: attention to the token ≥ 10 per head; digits5: loss per answer digit; repeat:
 * induction and previous-token score per head). The run on show is not touched.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sequenceParamShapes } from '../../src/model/sequence/forward.ts';
import { Rng } from '../../src/random/rng.ts';
import { SEQUENCE_TASKS } from '../../src/task/sequence.ts';
import { authorsSequenceFile } from '../files/torch-forge.ts';
import { ARTIFACTS, baseUrl, hasBrowser, openBrowser, pageState, waitForState, type Session } from './browser.ts';

interface Room {
  status: string;
  backend: string | null;
  epochs: number[];
  last: Record<string, unknown> | null;
}

const room = (page: Page): Promise<Room> =>
  page.evaluate(() => {
    const s = (window as unknown as { grokscope: { sequence: { getState(): { status: string; backend: string | null; checkpoints: ({ epoch: number } & Record<string, unknown>)[] } } } }).grokscope.sequence.getState();
    return { status: s.status, backend: s.backend, epochs: s.checkpoints.map((c) => c.epoch), last: s.checkpoints.at(-1) ?? null };
  });

/** Traces drawn in a chart (plotly's own data), by test id. */
const traces = (page: Page, id: string) => page.evaluate((testId) => (document.querySelector(`[data-testid="${testId}"]`) as unknown as { data?: unknown[] } | null)?.data?.length ?? 0, id);

describe.skipIf(!hasBrowser)('the appendix tasks in the page', () => {
  let s: Session;
  const dir = mkdtempSync(join(tmpdir(), 'grokscope-appendix-'));
  beforeAll(async () => {
    s = await openBrowser({ webgpu: false, width: 1440, height: 1000 });
    await s.page.goto(`${baseUrl}?backend=wasm&p=7`);
    await waitForState(s.page, (st) => st.status === 'idle', 60_000, 'ready');
  });
  afterAll(async () => {
    await s?.close();
  });

  it('trains skip trigrams on fresh data live, stops, and leaves the run on show alone', async () => {
    const { page } = s;
    const before = await pageState(page);
    await page.locator('#appendix-tasks').scrollIntoViewIfNeeded();
    expect(await page.getByTestId('seq-about').textContent()).toMatch(/exactly one of them ≥ 10.*Fresh examples every update/);
    await page.getByTestId('seq-train').click();
    await expect.poll(async () => (await room(page)).epochs.length, { timeout: 90_000, message: 'checkpoints of skip3' }).toBeGreaterThanOrEqual(3);
    const r = await room(page);
    expect(r.backend).toBe('wasm');
    expect(r.epochs.slice(0, 3)).toEqual([0, 25, 50]);
    // One attention line per head, train and test loss, the accuracy.
    await expect.poll(() => traces(page, 'seq-task-chart'), { timeout: 30_000 }).toBe(4);
    expect(await traces(page, 'seq-loss-chart')).toBe(2);
    expect((r.last!.specialTokenAttention as number[]).every((x) => x >= 0 && x <= 1)).toBe(true);
    expect(await page.getByTestId('seq-status').textContent()).toMatch(/Skip trigrams, fresh data: training on wasm · epoch [\d,]+ of 3,000/);
    await page.getByTestId('seq-stop').click();
    await expect.poll(async () => (await room(page)).status, { timeout: 30_000 }).toBe('stopped');
    await page.locator('#appendix-tasks').screenshot({ path: `${ARTIFACTS}/appendix-skip3.png` });
    // The run on show: the same, not started.
    const after = await pageState(page);
    expect(after.status).toBe(before.status);
    expect(after.history.length).toBe(before.history.length);
    expect(s.logs.filter((l) => l.startsWith('pageerror'))).toEqual([]);
  }, 180_000);

  it('digits5 draws a loss per answer digit, repeat an induction and a previous-token score per head', async () => {
    const { page } = s;
    // The run chosen rides in the address (appendix=), and a link with it opens the room on that run.
    await page.getByTestId('seq-preset').selectOption('repeat-512');
    await expect.poll(() => new URL(page.url()).searchParams.get('appendix'), { timeout: 10_000 }).toBe('repeat-512');
    await page.goto(`${baseUrl}?backend=wasm&p=7&appendix=digits5-inf`);
    await waitForState(page, (st) => st.status === 'idle', 60_000, 'ready');
    expect(await page.getByTestId('seq-preset').inputValue()).toBe('digits5-inf');
    for (const [preset, chart] of [
      ['digits5-700', 6],
      ['repeat-inf', 16],
    ] as const) {
      await page.getByTestId('seq-preset').selectOption(preset);
      await page.getByTestId('seq-train').click();
      await expect.poll(async () => (await room(page)).epochs.length, { timeout: 120_000, message: `the first checkpoint of ${preset}` }).toBeGreaterThanOrEqual(1);
      await page.getByTestId('seq-stop').click();
      await expect.poll(async () => (await room(page)).status, { timeout: 120_000 }).toBe('stopped');
      await expect.poll(() => traces(page, 'seq-task-chart'), { timeout: 30_000 }).toBe(chart);
      const last = (await room(page)).last!;
      // At initialization every digit's loss is near ln 10; a random attention-only model's scores are small.
      if (preset === 'digits5-700') for (const x of last.perTokenLoss as number[]) expect(Math.abs(x - Math.log(10))).toBeLessThan(1);
      else for (const x of (last.inductionScore as number[][]).flat()) expect(x).toBeLessThan(0.5);
    }
    await page.locator('#appendix-tasks').screenshot({ path: `${ARTIFACTS}/appendix-repeat.png` });
    expect(s.logs.filter((l) => l.startsWith('pageerror'))).toEqual([]);
  }, 400_000);

  it("opens an authors' saved model: its curves, and the model measured on fresh problems", async () => {
    const { page } = s;
    const before = await pageState(page);
    // A 5-digit-addition model in the authors' layout (seeded random weights) with three train losses.
    const random = new Rng(9);
    const params = new Map(
      sequenceParamShapes({ ...SEQUENCE_TASKS.digits5.model, vocab: 12, vocabOut: 10, nCtx: 18 }).map(({ name, shape }) => {
        const values = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => random.normal() * 0.05);
        return [name, { values, shape }];
      }),
    );
    const file = join(dir, '5_digit_addition_infinite.pth');
    writeFileSync(file, authorsSequenceFile(params, 18));
    await page.getByTestId('import-file').setInputFiles(file);
    await expect.poll(async () => (await page.getByTestId('seq-status').textContent()) ?? '', { timeout: 60_000, message: 'the model measured' }).toMatch(/measured here on 1,000 fresh problems of seed 0: test loss [\d.]+, accuracy [\d.]+% per token/);
    const r = await room(page);
    // The file's three losses (fresh data: train is test), the model's measures on the last row.
    expect(r.epochs).toEqual([0, 1, 2]);
    expect(r.last!.trainLoss).toBe(0.3);
    // Small random weights: every digit's loss near ln 10.
    for (const x of r.last!.perTokenLoss as number[]) expect(Math.abs(x - Math.log(10))).toBeLessThan(0.5);
    // The status gives the model's own test loss on the fresh problems, not the file's last loss.
    const measuredLoss = Number(/test loss ([\d.]+)/.exec((await page.getByTestId('seq-status').textContent()) ?? '')![1]);
    expect(Math.abs(measuredLoss - Math.log(10))).toBeLessThan(0.5);
    await expect.poll(() => traces(page, 'seq-task-chart'), { timeout: 30_000 }).toBe(6);
    expect(await page.getByTestId('seq-about').textContent()).toMatch(/^5-digit addition\./);
    const after = await pageState(page);
    expect(after.history.length).toBe(before.history.length);
    await page.locator('#appendix-tasks').screenshot({ path: `${ARTIFACTS}/appendix-authors.png` });
    expect(s.logs.filter((l) => l.startsWith('pageerror'))).toEqual([]);
  }, 180_000);
});
