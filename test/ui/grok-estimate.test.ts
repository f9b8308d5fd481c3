import { describe, expect, it } from 'vitest';
import { presetConfig } from '../../src/config/presets.ts';
import { epochFlops } from '../../src/model/flops.ts';
import { estimateGrok, LONG_WAIT_SECONDS } from '../../src/ui/controls/grok-estimate.ts';

describe('time to grok', () => {
  it("counts from the current epoch to the preset's grokking epoch at the current speed", () => {
    const est = estimateGrok(presetConfig('mainline'), 1000, 4.9)!;
    expect(est.grokEpoch).toBe(10_000);
    expect(est.seconds).toBeCloseTo(9000 / 4.9, 9);
    expect(est.source).toMatch(/paper/);
  });

  it('offers the quick preset past a long wait, its time scaled by the work of an update', () => {
    const mainline = presetConfig('mainline');
    const est = estimateGrok(mainline, 0, 4.9)!;
    expect(est.seconds).toBeGreaterThan(LONG_WAIT_SECONDS);
    const ratio = epochFlops(mainline).train / epochFlops(presetConfig('quick')).train;
    expect(ratio).toBeGreaterThan(1);
    expect(est.quickSeconds).toBeCloseTo(estimateGrok(presetConfig('quick'), 0, 4.9 * ratio)!.seconds, 6);
  });

  it('offers nothing when the wait is short, or for the quick preset itself', () => {
    expect(estimateGrok(presetConfig('mainline'), 9_000, 100)!.quickSeconds).toBeNull();
    expect(estimateGrok(presetConfig('quick'), 0, 0.1)!.quickSeconds).toBeNull();
  });

  it('says nothing without a known grokking epoch, a speed, or once past it', () => {
    expect(estimateGrok(presetConfig('no-wd'), 0, 5)).toBeNull();
    expect(estimateGrok({ ...presetConfig('mainline'), weightDecay: 0.3 }, 0, 5)).toBeNull();
    expect(estimateGrok(presetConfig('mainline'), 0, 0)).toBeNull();
    expect(estimateGrok(presetConfig('mainline'), 10_000, 5)).toBeNull();
  });
});
