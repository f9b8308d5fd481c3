/**
 * Play keeps the heavy views in step (#21 item 10): how long the playhead holds before it can play
 * on at the asked speed with every frame's views ready when shown, and what the page says meanwhile.
 */
import { describe, expect, it } from 'vitest';
import { playFrameMs, playLeadMs, playNote } from '../../src/ui/time/playback.ts';

/**
 * Simulates the Player's rule in 1 ms steps: the missing views are prepared one after another
 * (`computeMs` each, the one under way for t mod computeMs) from time 0; the page shows a frame of its own before the first (a restart);
 * the playhead steps to the next frame once the current one has been shown `frameMs`, the next
 * one's views are ready and the lead is ≤ 0. Returns when each frame was shown and whether its
 * views were ready then.
 */
function simulate(ready: boolean[], frameMs: number, computeMs: number): { shownAt: number[]; allReady: boolean } {
  let j = 0;
  const readyAt = [0, ...ready.map((r) => (r ? 0 : ++j * computeMs))];
  const shownAt: number[] = [-Infinity];
  let allReady = true;
  for (let t = 0, i = 0; i < ready.length; t++) {
    const now = readyAt.map((at) => at <= t);
    const elapsed = Math.min(t - shownAt[i], frameMs);
    const lead = playLeadMs(now.slice(i), frameMs, computeMs, elapsed, j > 0 && t < j * computeMs ? t % computeMs : 0);
    if (lead <= 0 && now[i + 1] && t - shownAt[i] >= frameMs) {
      shownAt.push(t);
      allReady &&= now[i + 1];
      i++;
    }
  }
  return { shownAt: shownAt.slice(1), allReady };
}

describe('Play holds until its views can keep step', () => {
  it('plays at once when every frame is ready (the second Play, from memory)', () => {
    expect(playLeadMs(Array(28).fill(true), 296, 750)).toBe(0);
    const { shownAt } = simulate(Array(28).fill(true), 296, 750);
    expect(shownAt[27] - shownAt[0]).toBeCloseTo(27 * 296, 6);
  });

  it('holds, when the machine is slower than the duration, just long enough for the rest to play at the asked speed', () => {
    const frameMs = playFrameMs(8, 28);
    const { shownAt, allReady } = simulate(Array(28).fill(false), frameMs, 750);
    expect(allReady).toBe(true);
    // Once it plays, it plays at the asked speed: 27 frames in 8 s.
    expect(shownAt[27] - shownAt[0]).toBeLessThanOrEqual(8000 + 28);
    // And the whole takes what the machine needs to prepare all 28 (21 s), not more.
    expect(shownAt[27]).toBeGreaterThanOrEqual(28 * 750);
    expect(shownAt[27]).toBeLessThan(28 * 750 + 300);
  });

  it('never holds when the machine prepares faster than the frames go', () => {
    expect(playLeadMs([true, false, false, false], 1500, 750, 0)).toBe(0);
    // The next frame due now and not ready: one computation's hold.
    expect(playLeadMs([true, false, false, false], 1500, 750, 1500)).toBe(750);
    const { shownAt, allReady } = simulate([true, ...Array(20).fill(false)], 1500, 750);
    expect(allReady).toBe(true);
    // The first frame waits for its views (750 ms), then one every 1.5 s.
    expect(shownAt[0]).toBe(0);
    expect(shownAt[20]).toBe(20 * 1500);
  });

  it('counts a missing current frame: its views first', () => {
    expect(playLeadMs([false, true, true], 300, 700, 300)).toBe(700);
    // Half prepared: only the missing ones in the far frames count, against their later times.
    expect(playLeadMs([true, true, false, false], 100, 500, 100)).toBe(1000 - 200);
    // The one under way for 300 ms of its 500 is ready 300 ms sooner.
    expect(playLeadMs([true, true, false, false], 100, 500, 100, 300)).toBe(1000 - 200 - 300);
  });
});

describe("the note while Play prepares", () => {
  it('says how many are ready, when it plays, and what the machine needs when it is slower than asked', () => {
    expect(playNote({ kind: 'playing' }, 8)).toBeNull();
    expect(playNote({ kind: 'preparing', ready: 12, total: 28, leadMs: 9_400, neededSeconds: 12 }, 8)).toBe(
      'Preparing the views so they keep step: 12/28 ready, playing in about 9 s (8 s asked; this machine computes them in about 12 s)',
    );
    expect(playNote({ kind: 'preparing', ready: 27, total: 28, leadMs: 300, neededSeconds: 0.75 }, 30)).toBe('Preparing the views so they keep step: 27/28 ready, playing in about 1 s');
    expect(playNote({ kind: 'drawing', drawMs: 520, seconds: 14.56 }, 8)).toBe("8 s asked; this machine draws a frame's views in about 0.5 s, so the run plays in about 15 s");
  });
});
