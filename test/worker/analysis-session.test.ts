import { beforeAll, describe, expect, it } from 'vitest';
import { Trainer } from '../../src/model/trainer.ts';
import type { WorkerEvent } from '../../src/run/protocol.ts';
import { KEY_FREQS_STABLE_CHECKPOINTS, pickFeaturedNeurons } from '../../src/worker/analysis/run-analysis.ts';
import { TrainingSession } from '../../src/worker/training/session.ts';
import { SnapshotStore } from '../../src/worker/analysis/snapshots.ts';
import { cosineSumNetwork } from '../analysis/constructed.ts';
import { numTensors, tinyConfig, useBackend } from '../helpers.ts';

function collect() {
  const events: WorkerEvent[] = [];
  const of = <T extends WorkerEvent['type']>(type: T) => events.filter((e): e is Extract<WorkerEvent, { type: T }> => e.type === type);
  return { events, of, post: (e: WorkerEvent) => events.push(e) };
}

const c0InRange = (v: number, lo: number, hi: number) => v >= lo && v <= hi;

describe('analysis in the training session', () => {
  beforeAll(() => useBackend('wasm'));

  it('measures every checkpoint, runs the heavy pass at epoch 0, and keeps snapshots', async () => {
    const { of, post } = collect();
    const session = new TrainingSession({ createTrainer: (c) => new Trainer(c), post, backendInfo: () => ({ name: 'wasm', adapter: '', requested: null, skipped: [] }), checkpointEvery: 10 });
    await session.handle({ type: 'init', config: tinyConfig({ epochs: 30 }), backend: null });
    await session.handle({ type: 'start' });
    await session.idle();
    const cps = of('checkpoint').map((e) => e.checkpoint);
    expect(cps.map((c) => c.epoch)).toEqual([0, 10, 20, 30]);
    for (const c of cps) {
      expect(Number.isFinite(c.restrictedLoss)).toBe(true);
      expect(Number.isFinite(c.excludedLoss)).toBe(true);
      expect(c.giniWL).toBeGreaterThanOrEqual(0);
      expect(c.normsWL).toHaveLength(4); // P = 7: constant + 3 frequencies
      expect(c.cosCoefficients).toHaveLength(3);
    }
    const heavy = of('heavy');
    expect(heavy[0].result.epoch).toBe(0);
    expect(heavy[0].result.attention).toHaveLength(2 * 49);
    expect(cps[0].neuronsWellExplained).toBe(heavy[0].result.neuronsWellExplained);
    // The clock/pizza measures ride on the heavy pass: measured at epoch 0, NaN where it did not run.
    const heavyEpochs = new Set(heavy.filter((e) => e.latest).map((e) => e.result.epoch));
    for (const c of cps) {
      for (const v of [c.distanceIrrelevance, c.gradientSymmetricity]) expect(Number.isFinite(v)).toBe(heavyEpochs.has(c.epoch));
    }
    expect(c0InRange(cps[0].distanceIrrelevance, 0, 1.0001) && c0InRange(cps[0].gradientSymmetricity, -1, 1.0001)).toBe(true);
    expect(of('snapshots').at(-1)!.epochs).toEqual([0, 10, 20, 30]);
    expect(of('keyFreqs')[0].keyFreqs).toMatchObject({ version: 0, active: [], pinned: false });
    session.dispose();
  });

  it('re-measures past snapshots when K is pinned, and inspects a past epoch', async () => {
    const { of, post } = collect();
    const session = new TrainingSession({ createTrainer: (c) => new Trainer(c), post, backendInfo: () => ({ name: 'wasm', adapter: '', requested: null, skipped: [] }), checkpointEvery: 5 });
    await session.handle({ type: 'init', config: tinyConfig({ epochs: 20 }), backend: null });
    await session.handle({ type: 'start' });
    await session.idle();
    const before = numTensors();
    const versionBefore = of('keyFreqs').at(-1)!.keyFreqs.version;
    const recomputedBefore = of('recomputed').length;
    await session.handle({ type: 'setKeyFreqs', keyFreqs: [2] });
    await session.idle();
    const k = of('keyFreqs').at(-1)!.keyFreqs;
    expect(k).toMatchObject({ active: [2], pinned: true, version: versionBefore + 1 });
    const rows = of('recomputed')
      .slice(recomputedBefore)
      .flatMap((e) => e.rows.map((r) => ({ ...r, version: e.version })));
    expect(rows.map((r) => r.epoch)).toEqual([0, 5, 10, 15, 20]);
    expect(rows.every((r) => r.version === k.version && r.excludedLossPerFreq.length === 1)).toBe(true);
    expect(of('recomputed').at(-1)!.remaining).toBe(0);
    // The re-measured epoch-20 values equal those of the same run measured with K = {2} from the start.
    const pinnedRun = collect();
    const other = new TrainingSession({ createTrainer: (c) => new Trainer(c), post: pinnedRun.post, backendInfo: () => ({ name: 'wasm', adapter: '', requested: null, skipped: [] }), checkpointEvery: 5 });
    await other.handle({ type: 'init', config: tinyConfig({ epochs: 20 }), backend: null, keyFreqs: [2] });
    await other.handle({ type: 'start' });
    await other.idle();
    const direct = pinnedRun.of('checkpoint').at(-1)!.checkpoint;
    const remeasured = rows.find((r) => r.epoch === 20)!;
    expect(direct.epoch).toBe(20);
    expect(remeasured.restrictedLoss).toBeCloseTo(direct.restrictedLoss, 5);
    expect(remeasured.excludedLoss).toBeCloseTo(direct.excludedLoss, 5);
    other.dispose();
    await session.handle({ type: 'step', epochs: 5 });
    await session.idle();
    const fresh = of('checkpoint').at(-1)!.checkpoint;
    expect(fresh).toMatchObject({ epoch: 25, keyFreqsVersion: k.version });
    expect(fresh.excludedLossPerFreq).toHaveLength(1);
    await session.handle({ type: 'inspect', epoch: 7 });
    const inspected = of('heavy').at(-1)!;
    expect(inspected.latest).toBe(false);
    expect(inspected.result.epoch).toBe(5);
    await session.handle({ type: 'setKeyFreqs', keyFreqs: [9] });
    expect(of('error').at(-1)!.message).toMatch(/key frequencies: key frequency 9 is not an integer in \[1, 3\]/);
    expect(numTensors()).toBeLessThanOrEqual(before + 1);
    session.dispose();
  });

  it('switches the curves to the rule’s K once it is stable, then re-measures', async () => {
    const { config, weights } = cosineSumNetwork(11, [2, 4], 3);
    const { of, post } = collect();
    const session = new TrainingSession({
      createTrainer: (c) => new Trainer(c, { weights }),
      post,
      backendInfo: () => ({ name: 'wasm', adapter: '', requested: null, skipped: [] }),
      checkpointEvery: 1,
    });
    // A tiny lr keeps the constructed circuit: the rule sees K = {2, 4} at every checkpoint.
    await session.handle({ type: 'init', config: { ...config, lr: 1e-7, weightDecay: 0, epochs: 6 }, backend: null });
    await session.handle({ type: 'start' });
    await session.idle();
    const states = of('keyFreqs').map((e) => e.keyFreqs);
    const switched = states.find((s) => s.version === 1)!;
    expect([...switched.active].sort()).toEqual([2, 4]);
    const cps = of('checkpoint').map((e) => e.checkpoint);
    // Until the switch the curves used K = {} (version 0); afterwards K = {2, 4}.
    expect(cps[KEY_FREQS_STABLE_CHECKPOINTS - 1].keyFreqsVersion).toBe(0);
    expect(cps.at(-1)!.keyFreqsVersion).toBe(1);
    const rows = of('recomputed').flatMap((e) => e.rows);
    expect(rows.map((r) => r.epoch).slice(0, 3)).toEqual([0, 1, 2]);
    // With K = {2, 4} the restricted loss is the model's own loss (the circuit is all there is).
    const last = cps.at(-1)!;
    expect(Math.abs(last.restrictedLoss - last.testLoss) / last.testLoss).toBeLessThan(1e-2);
    session.dispose();
  });

  it('can run without analysis (to measure what it costs)', async () => {
    const { of, post } = collect();
    const session = new TrainingSession({ createTrainer: (c) => new Trainer(c), post, backendInfo: () => ({ name: 'wasm', adapter: '', requested: null, skipped: [] }), checkpointEvery: 10, analysis: false });
    await session.handle({ type: 'init', config: tinyConfig({ epochs: 20 }), backend: null });
    await session.handle({ type: 'start' });
    await session.idle();
    expect(of('checkpoint').map((e) => e.checkpoint.epoch)).toEqual([0, 10, 20]);
    expect(of('checkpoint')[1].checkpoint.restrictedLoss).toBeNaN();
    expect(of('heavy')).toEqual([]);
    session.dispose();
  });
});

describe('snapshot store', () => {
  it('keeps an evenly spread set within its capacity, with the first and the latest', () => {
    const store = new SnapshotStore(1000, 10_000); // capacity 10
    for (let e = 0; e <= 1000; e += 10) if (store.wants(e)) store.add(e, new Float32Array(1));
    // The session always keeps the last weights when training stops.
    store.add(1000, new Float32Array(1));
    expect(store.size).toBeLessThanOrEqual(10);
    const epochs = store.epochs();
    expect(epochs[0]).toBe(0);
    expect(epochs.at(-1)).toBe(1000);
    const gaps = epochs.slice(1).map((e, i) => e - epochs[i]);
    expect(Math.max(...gaps.slice(0, -1)) / Math.min(...gaps.slice(0, -1))).toBeLessThanOrEqual(2);
    expect(store.nearest(333)!.epoch).toBe(epochs.reduce((b, e) => (Math.abs(e - 333) < Math.abs(b - 333) ? e : b)));
    // The evidence of a scrubbed epoch uses weights it had: the last snapshot at or before it (#21).
    for (const at of [0, 333, 667, 999, 1000]) expect(store.atOrBefore(at)!.epoch).toBe(Math.max(...epochs.filter((e) => e <= at)));
  });

  it('replaces snapshots at or after a rewound epoch', () => {
    const store = new SnapshotStore(1, 1000);
    for (const e of [0, 10, 20, 30]) store.add(e, new Float32Array(1));
    store.add(15, new Float32Array(1));
    expect(store.epochs()).toEqual([0, 10, 15]);
  });

  it('features the best neuron of the most common frequencies', () => {
    const freq = Int16Array.from([3, 3, 3, 7, 7, 9]);
    const fve = Float32Array.from([0.5, 0.9, 0.7, 0.95, 0.2, 0.99]);
    expect(Array.from(pickFeaturedNeurons(freq, fve, 4))).toEqual([1, 3, 5, 2]);
  });
});
