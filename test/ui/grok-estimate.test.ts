import { describe, expect, it } from 'vitest';
import { presetConfig } from '../../src/config/presets.ts';
import { epochFlops } from '../../src/model/flops.ts';
import { createAppStore } from '../../src/store/store.ts';
import { estimateForRun, estimateGrok, LONG_WAIT_SECONDS } from '../../src/ui/controls/grok-estimate.ts';
import { checkpointFixture } from '../helpers.ts';

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

  it("a preset's settings with another run length: its epoch quoted while the limit reaches it, nothing when the run stops first", () => {
    expect(estimateGrok({ ...presetConfig('mainline'), epochs: 16_000 }, 0, 5)?.grokEpoch).toBe(10_000);
    expect(estimateGrok({ ...presetConfig('mainline'), epochs: 5_000 }, 0, 5)).toBeNull();
  });

  it("quotes the preset's epoch only while the run is trained as the preset: a live λ voids it (#21)", () => {
    const store = createAppStore();
    const mainline = presetConfig('mainline');
    store.setState({ applied: mainline, draft: mainline, epoch: 100, epochsPerSec: 5 });
    const push = (epoch: number, weightDecay: number) => store.getState().history.push(checkpointFixture(epoch, { weightDecay, lr: mainline.lr }));
    push(0, 1);
    push(100, 1);
    expect(estimateForRun(store.getState())?.grokEpoch).toBe(10_000);
    // λ changed live: the worker's config (applied) is unchanged, the estimate must not be.
    store.setState({ draft: { ...mainline, weightDecay: 0.3 } });
    expect(estimateForRun(store.getState())).toBeNull();
    push(200, 0.3);
    // Back at λ = 1, but 100 epochs were trained with 0.3: no longer the paper's run.
    store.setState({ draft: mainline });
    expect(estimateForRun(store.getState())).toBeNull();
  });
});
