import { describe, expect, it } from 'vitest';
import type { LlcEstimate } from '../../src/run/protocol.ts';
import { createLlcStore, llcSeriesUpTo, withPoint } from '../../src/store/llc.ts';

const SETTINGS = { eps: 5e-5, gamma: 1000, nbeta: 10, chains: 2, draws: 3, batch: 16, seed: 0 };

function estimate(epoch: number, llc: number, settings = SETTINGS): LlcEstimate {
  return { epoch, llc, error: 0.1, llcPerChain: [llc - 0.1, llc + 0.1], initLoss: 0.5, traces: [[0.6, 0.7, 0.7], [0.5, 0.6, 0.6]], settledPerChain: [true, false], settled: epoch % 2 === 0, settings, seconds: 1 };
}

describe('the LLC store', () => {
  it('keeps the points sorted by epoch, one per epoch, and the last estimate with its traces', () => {
    const store = createLlcStore();
    store.getState().setSchedule({ settings: { chains: 2 }, share: 0.1 });
    const receive = (e: LlcEstimate) => store.getState().receive({ type: 'llc', runId: 1, estimate: e });
    receive(estimate(100, 5));
    receive(estimate(0, 9));
    receive(estimate(50, 7));
    receive(estimate(50, 6.5));
    const s = store.getState();
    expect(s.points.map((p) => [p.epoch, p.llc, p.settled])).toEqual([[0, 9, true], [50, 6.5, true], [100, 5, true]]);
    expect(s.last!.epoch).toBe(50);
    expect(s.last!.traces).toHaveLength(2);
    expect(s.settings).toEqual(SETTINGS);
  });

  it('follows the estimate in progress, and forgets it when it is done', () => {
    const store = createLlcStore();
    store.getState().setSchedule({ settings: {}, share: 0.1 });
    store.getState().receive({ type: 'llcProgress', runId: 1, epoch: 20, done: 3, total: 10 });
    expect(store.getState().progress).toEqual({ epoch: 20, done: 3, total: 10 });
    store.getState().receive({ type: 'llcProgress', runId: 1, epoch: 20, done: 10, total: 10 });
    expect(store.getState().progress).toBeNull();
  });

  it('starts the curve again for new settings, a new run, and ignores estimates while off', () => {
    const store = createLlcStore();
    const receive = (e: LlcEstimate) => store.getState().receive({ type: 'llc', runId: 1, estimate: e });
    receive(estimate(0, 1));
    expect(store.getState().points).toEqual([]);
    store.getState().setSchedule({ settings: {}, share: 0.1 });
    receive(estimate(0, 1));
    // An estimate made at other settings (sent before the worker heard of the change) replaces the curve.
    receive(estimate(10, 2, { ...SETTINGS, seed: 1 }));
    expect(store.getState().points.map((p) => p.epoch)).toEqual([10]);
    store.getState().setSchedule({ settings: { draws: 5 }, share: 0.1 });
    expect(store.getState().points).toEqual([]);
    receive(estimate(0, 1));
    store.getState().clear();
    expect(store.getState().points).toEqual([]);
    expect(store.getState().last).toBeNull();
    expect(store.getState().schedule).toEqual({ settings: { draws: 5 }, share: 0.1 });
  });

  it('shows the series a loaded run brought once it is loaded, and only then', () => {
    const store = createLlcStore();
    const series = { settings: SETTINGS, points: [{ epoch: 0, llc: 3, error: 0.1, settled: true, seconds: 2 }] };
    store.setState({ pending: series });
    // A new run's ready (not the loaded one) leaves it waiting.
    store.getState().clear(false);
    expect(store.getState().points).toEqual([]);
    store.getState().clear(true);
    expect(store.getState().points).toEqual(series.points);
    expect(store.getState().settings).toEqual(SETTINGS);
    expect(store.getState().pending).toBeNull();
  });

  it('saves the series as far as the saved state reaches, and nothing before an estimate', () => {
    const pt = (epoch: number) => ({ epoch, llc: 1, error: 0, settled: true, seconds: 0 });
    expect(llcSeriesUpTo({ settings: SETTINGS, points: [pt(0), pt(10), pt(20)] }, 10)).toEqual({ settings: SETTINGS, points: [pt(0), pt(10)] });
    expect(llcSeriesUpTo({ settings: SETTINGS, points: [pt(20)] }, 10)).toBeNull();
    expect(llcSeriesUpTo({ settings: null, points: [] }, 10)).toBeNull();
  });

  it('inserts a point in order', () => {
    const pt = (epoch: number) => ({ epoch, llc: epoch, error: 0, settled: true, seconds: 0 });
    expect(withPoint([pt(0), pt(20)], pt(10)).map((p) => p.epoch)).toEqual([0, 10, 20]);
    expect(withPoint([pt(0), pt(20)], pt(30)).map((p) => p.epoch)).toEqual([0, 20, 30]);
    expect(withPoint([], pt(5)).map((p) => p.epoch)).toEqual([5]);
  });
});
