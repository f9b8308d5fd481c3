import { describe, expect, it } from 'vitest';
import { noGrokAdvice } from '../../src/config/sweep.ts';

describe('a finished sweep (#21)', () => {
  it('says so when no run reached 99%, and what usually helps', () => {
    const advice = noGrokAdvice([null, null], 3000);
    expect(advice).toMatch(/^No run reached 99% test accuracy in 3,000 epochs/);
    expect(advice).toMatch(/more epochs/);
    expect(advice).toMatch(/larger weight decay λ/);
    expect(advice).toMatch(/more training data/);
  });

  it('says nothing more when one run grokked, or none finished', () => {
    expect(noGrokAdvice([null, 1200], 3000)).toBeNull();
    expect(noGrokAdvice([], 3000)).toBeNull();
  });
});

describe("a sweep's default length (#21)", () => {
  it("is its own: 1.5× a preset's grokking epoch, else at most 3,000 — not the run's 40,000", async () => {
    const { defaultSweepEpochs, SWEEP_DEFAULT_EPOCHS } = await import('../../src/config/sweep.ts');
    const { presetConfig } = await import('../../src/config/presets.ts');
    expect(presetConfig('mainline').epochs).toBe(40_000);
    expect(defaultSweepEpochs(presetConfig('mainline'))).toBe(15_000);
    expect(defaultSweepEpochs(presetConfig('quick'))).toBe(3_000);
    expect(defaultSweepEpochs({ ...presetConfig('mainline'), p: 23, dMlp: 128 })).toBe(SWEEP_DEFAULT_EPOCHS);
    expect(defaultSweepEpochs({ ...presetConfig('mainline'), p: 23, epochs: 500 })).toBe(500);
    // A preset's settings with another run length is still that preset's experiment: its grokking epoch sets the length.
    expect(defaultSweepEpochs({ ...presetConfig('mainline'), epochs: 16_000 })).toBe(15_000);
  });
});
