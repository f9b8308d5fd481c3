/** The slingshot rule (App. D.2) on constructed train-loss curves whose spikes are known. */
import { describe, expect, it } from 'vitest';
import { detectSlingshots } from '../../src/analysis/slingshots.ts';

/** Checkpoints every 100 epochs: memorizing until epoch 1,000, then loss 1e-6 with the given spikes. */
function curve(spikes: Record<number, number>, n = 60) {
  const epoch = Array.from({ length: n }, (_, i) => i * 100);
  const trainLoss = epoch.map((e) => spikes[e] ?? (e < 1000 ? 4 - e / 300 : 1e-6 * (1 - e / 1e6)));
  const trainAcc = epoch.map((e) => (e < 1000 ? e / 1100 : 1));
  return { epoch, trainLoss, trainAcc };
}

describe('slingshots', () => {
  it('finds each spike above 10× the running minimum, its peak and where it ends', () => {
    const c = curve({ 2000: 0.02, 2100: 0.9, 2200: 0.05, 2300: 5e-6, 4000: 0.3 });
    const s = detectSlingshots(c.epoch, c.trainLoss, c.trainAcc);
    expect(s.map((x) => [x.start, x.peak, x.end])).toEqual([
      [2000, 2100, 2300],
      [4000, 4000, 4100],
    ]);
    expect(s[0].peakLoss).toBe(0.9);
    // The running minimum: the last checkpoint before the spike (the loss drifts down slowly).
    expect(s[0].before).toBe(c.trainLoss[19]);
    expect(s[0].ratio).toBe(0.9 / c.trainLoss[19]);
  });

  it('ignores the memorization phase, float32 noise near 1e-7 and rises under 10×; a spike at the end is still up', () => {
    // A bump during memorization (train accuracy < 99%), a 5× wobble and a 50× rise to 5e-5 (under the 1e-4 floor).
    const quiet = curve({ 500: 20, 3000: 5e-6, 3500: 5e-5 });
    expect(detectSlingshots(quiet.epoch, quiet.trainLoss, quiet.trainAcc)).toEqual([]);
    const last = curve({ 5900: 2 });
    const s = detectSlingshots(last.epoch, last.trainLoss, last.trainAcc);
    expect(s).toHaveLength(1);
    expect(s[0]).toMatchObject({ start: 5900, end: null });
    // Never memorized: no slingshot, however the loss moves.
    expect(detectSlingshots(last.epoch, last.trainLoss, last.trainAcc.map(() => 0.5))).toEqual([]);
  });
});
