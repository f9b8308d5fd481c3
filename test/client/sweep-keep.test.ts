/** The kept sweep (IndexedDB, fake-indexeddb here): what a reload finds of the last sweep's runs. */
import { IDBFactory } from 'fake-indexeddb';
import { describe, expect, it } from 'vitest';
import { presetConfig } from '../../src/config/presets.ts';
import type { Checkpoint } from '../../src/run/history-columns.ts';
import type { LoadableRun } from '../../src/run/protocol.ts';
import { SweepKeep, type KeptSweepMeta } from '../../src/client/sweep/sweep-keep.ts';

const base = { ...presetConfig('mainline'), p: 23, dModel: 32, dMlp: 64 };
const meta = (sweep: string): KeptSweepMeta => ({ sweep, base, epochs: 300, every: 25, backend: 'wasm', startedAt: '2026-11-25T10:00:00Z' });

function run(seed: number): LoadableRun {
  return {
    config: { ...base, seed },
    trainIndices: Int32Array.from([3, 1, 4, 1, 5]),
    keyFreqs: null,
    snapshots: [100, 200, 300].map((epoch) => ({ epoch, weights: Float32Array.from([epoch, seed, 0.5]) })),
    resume: null,
  };
}
const history = (seed: number) => [{ epoch: 0, trainLoss: 3 + seed }, { epoch: 300, trainLoss: 0.01 }] as unknown as Checkpoint[];

describe('the kept sweep', () => {
  it('keeps each finished run with its last snapshot, in index order, across a reopen', async () => {
    const factory = new IDBFactory();
    const k = await SweepKeep.open(factory);
    expect(await k.load()).toBeNull();
    await k.begin(meta('seed:0-2'));
    await k.keepRun({ index: 2, run: run(2), history: history(2) });
    await k.keepRun({ index: 0, run: run(0), history: history(0) });
    k.close();
    const again = await SweepKeep.open(factory);
    const kept = (await again.load())!;
    expect(kept.meta.sweep).toBe('seed:0-2');
    expect(kept.meta.base.p).toBe(23);
    expect(kept.runs.map((r) => r.index)).toEqual([0, 2]);
    expect(kept.runs[1].run.snapshots.map((s) => s.epoch)).toEqual([300]);
    expect(Array.from(kept.runs[1].run.snapshots[0].weights)).toEqual([300, 2, 0.5]);
    expect(kept.runs[1].run.trainIndices).toBeInstanceOf(Int32Array);
    expect(kept.runs[1].history[0].trainLoss).toBe(5);
  });

  it('forgets the previous sweep when a new one begins', async () => {
    const k = await SweepKeep.open(new IDBFactory());
    await k.begin(meta('seed:0-2'));
    await k.keepRun({ index: 1, run: run(1), history: history(1) });
    await k.begin(meta('wd:0.3,1'));
    const kept = (await k.load())!;
    expect(kept.meta.sweep).toBe('wd:0.3,1');
    expect(kept.runs).toEqual([]);
  });
});
