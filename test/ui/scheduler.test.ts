/**
 * The charts' redraw queue: a checkpoint that touches many charts is drawn over several frames,
 * each frame stopping once FRAME_BUDGET_MS is spent (the browser's frame-budget test relies on it).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { cancelDraw, FRAME_BUDGET_MS, requestDraw } from '../../src/ui/plot/scheduler.ts';

describe('the redraw queue', () => {
  let frames: FrameRequestCallback[] = [];
  let now = 0;
  beforeEach(() => {
    frames = [];
    now = 0;
    vi.stubGlobal('requestAnimationFrame', (cb: FrameRequestCallback) => frames.push(cb));
    vi.spyOn(performance, 'now').mockImplementation(() => now);
  });
  afterEach(() => {
    vi.unstubAllGlobals();
    vi.restoreAllMocks();
  });
  const runFrame = () => frames.shift()!(now);

  it('stops a frame once the budget is spent and draws the rest on the next frames', () => {
    const drawn: number[][] = [[]];
    // Ten charts, 5 ms each: the budget fits three (15 ms > 12 after the third), then a new frame.
    for (let i = 0; i < 10; i++) requestDraw({}, () => { now += 5; drawn.at(-1)!.push(i); });
    expect(frames.length).toBe(1);
    while (frames.length) {
      runFrame();
      drawn.push([]);
    }
    const perFrame = drawn.filter((d) => d.length > 0);
    const fits = Math.floor(FRAME_BUDGET_MS / 5) + 1;
    expect(perFrame.flat()).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(perFrame.length).toBe(Math.ceil(10 / fits));
    for (const d of perFrame.slice(0, -1)) expect(d.length).toBe(fits);
  });

  it('draws a chart requested twice once, and not at all once cancelled', () => {
    const key = {};
    let n = 0;
    requestDraw(key, () => n++);
    requestDraw(key, () => (n += 10));
    const gone = {};
    requestDraw(gone, () => (n += 100));
    cancelDraw(gone);
    runFrame();
    expect(n).toBe(10);
    expect(frames.length).toBe(0);
  });
});
