import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { splitPairs } from '../../src/task/pairs.ts';
import { numParams } from '../../src/model/transformer/params.ts';
import { SafetensorsError, readSafetensors } from '../../src/files/safetensors/safetensors.ts';
import type { Checkpoint } from '../../src/run/history-columns.ts';
import { RUN_FORMAT, decodeRun, encodeRun, pickRecordedSnapshots, type RunData } from '../../src/files/run-file.ts';
import { checkpointFixture, tinyConfig } from '../helpers.ts';

const config = tinyConfig();
const n = numParams(config);

// NaN and a missing per-frequency row must survive the file too.
const ckpt = (epoch: number): Checkpoint =>
  checkpointFixture(epoch, {
    trainLoss: 2 / (epoch + 1),
    testLoss: 3,
    trainAcc: 0.4,
    sumSquaredWeights: 9,
    restrictedLoss: NaN,
    keyFreqsVersion: 2,
    normsWE: [1, 2, 3, 4],
    normsWL: [4, 3, 2, epoch],
    cosCoefficients: [1, 2, 3],
    excludedLossPerFreq: epoch > 0 ? [5, 6] : [],
    neuronsWellExplained: epoch === 10 ? 7 : NaN,
  });

const run: RunData = {
  name: 'a run',
  config,
  // A split of the configuration's size (the reader checks it against frac).
  trainIndices: splitPairs(config.p, config.frac, 7).train,
  keyFreqs: { version: 2, active: [1, 3], live: [3], pinned: true },
  history: [0, 10, 20].map(ckpt),
  snapshots: [0, 20].map((epoch) => ({ epoch, weights: new Float32Array(n).map((_, i) => Math.sin(i + epoch)) })),
  resume: { t: 20, weights: new Float32Array(n).fill(1), m: new Float32Array(n).fill(2), v: new Float32Array(n).fill(3) },
  backend: { name: 'wasm', adapter: 'x' },
  createdAt: '2026-11-24T12:00:00.000Z',
};

describe('run files', () => {
  it('round-trip history, snapshots, split, K and resume state', () => {
    const back = decodeRun(encodeRun(run));
    expect(back.name).toBe('a run');
    expect(back.config).toEqual(config);
    expect(Array.from(back.trainIndices)).toEqual(Array.from(run.trainIndices));
    expect(back.keyFreqs).toEqual(run.keyFreqs);
    expect(back.history).toHaveLength(3);
    expect(back.history[2]).toEqual({ ...ckpt(20) });
    expect(back.history[0].excludedLossPerFreq).toEqual([]);
    expect(back.snapshots.map((s) => s.epoch)).toEqual([0, 20]);
    expect(Array.from(back.snapshots[1].weights)).toEqual(Array.from(run.snapshots[1].weights));
    expect(back.resume!.t).toBe(20);
    expect(back.resume!.v[5]).toBe(3);
    expect(back.backend).toEqual({ name: 'wasm', adapter: 'x' });
  });

  it('opens the recorded reference run, written before softmax collapse was measured, with that column NaN', () => {
    const back = decodeRun(gunzipSync(readFileSync(new URL('../../public/runs/reference.grokrun.gz', import.meta.url))));
    expect(back.history.length).toBeGreaterThan(10);
    expect(back.history.every((c) => Number.isNaN(c.softmaxCollapse))).toBe(true);
    expect(back.config.loss).toBe('softmax');
    expect(back.config.orthoGrad).toBe(0);
    // Written before the LLC over training: none, and it still opens.
    expect(back.llc).toBeNull();
  });

  it('carries the LLC over training when the page estimated it (NaN errors too), and refuses a bad one by name', () => {
    const settings = { eps: 5e-5, gamma: 1000, nbeta: 26.4, chains: 1, draws: 100, batch: 128, seed: 0 };
    const points = [
      { epoch: 0, llc: 0.5, error: NaN, settled: true, seconds: 12 },
      { epoch: 20, llc: 16.4, error: NaN, settled: false, seconds: 11.5 },
    ];
    const back = decodeRun(encodeRun({ ...run, llc: { settings, points } }));
    expect(back.llc).toEqual({ settings, points });
    expect(decodeRun(encodeRun({ ...run, llc: null })).llc).toBeNull();
    expect(decodeRun(encodeRun({ ...run, llc: { settings, points: [] } })).llc).toBeNull();
    const bad = (llc: unknown) => () => decodeRun(encodeRun({ ...run, llc: llc as RunData['llc'] }));
    expect(bad({ settings: { ...settings, chains: 0 }, points })).toThrow(/LLC series is invalid: its chains must be a whole number ≥ 1/);
    expect(bad({ settings, points: [points[1], points[0]] })).toThrow(/ascending/);
    expect(bad({ settings, points: [{ ...points[0], settled: 'yes' }] })).toThrow(/boolean settled/);
  });

  it('stores snapshots in half precision when asked, readable from Python as a safetensors file', () => {
    const f16 = encodeRun(run, { snapshotDtype: 'F16' });
    const f32 = encodeRun(run);
    expect(f16.length).toBeLessThan(f32.length);
    const { tensors, metadata } = readSafetensors(f16);
    expect(metadata.format).toBe(RUN_FORMAT);
    expect(tensors.get('snapshots.weights')!.dtype).toBe('F16');
    expect(tensors.get('snapshots.weights')!.shape).toEqual([2, n]);
    expect(tensors.get('history.normsWL')!.shape).toEqual([3, 4]);
    const back = decodeRun(f16);
    const w = back.snapshots[1].weights;
    run.snapshots[1].weights.forEach((v, i) => expect(Math.abs(w[i] - v)).toBeLessThan(1e-3));
  });

  it('refuses what an import could get wrong, always with a SafetensorsError', () => {
    const good = encodeRun(run);
    const expectError = (bytes: Uint8Array, message: RegExp) => {
      expect(() => decodeRun(bytes)).toThrow(SafetensorsError);
      expect(() => decodeRun(bytes)).toThrow(message);
    };
    expectError(good.slice(0, good.length - 8), /truncated/);
    expectError(new Uint8Array([...good, 1, 2, 3]), /after its last tensor/);
    expect(() => decodeRun(good, { maxBytes: 1000 })).toThrow(/more than the 1000 allowed/);
    const text = new TextDecoder().decode(good.subarray(0, 8000));
    const versioned = good.slice();
    versioned.set(new TextEncoder().encode('grokscope-run/7'), text.indexOf('grokscope-run/1'));
    expectError(versioned, /format "grokscope-run\/7"/);
    expectError(encodeRun({ ...run, history: [ckpt(10), ckpt(5)] }), /out of order/);
    expectError(encodeRun({ ...run, snapshots: [{ epoch: 0, weights: new Float32Array(n).fill(NaN) }] }), /NaN or infinite/);
    expectError(encodeRun({ ...run, trainIndices: Int32Array.from([60]) }), /train_indices.*outside/);
  });

  it('never throws anything else on random bytes or mutated files', () => {
    const good = encodeRun(run);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
        try {
          decodeRun(bytes);
        } catch (err) {
          if (!(err instanceof SafetensorsError)) throw err;
        }
      }),
      { numRuns: 200 },
    );
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat({ max: good.length - 1 }), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }), (flips) => {
        const f = good.slice();
        for (const [i, v] of flips) f[i] = v;
        try {
          decodeRun(f);
        } catch (err) {
          if (!(err instanceof SafetensorsError)) throw err;
        }
      }),
      { numRuns: 200 },
    );
  });

  it('picks recorded snapshots densely early, then evenly, first and last kept', () => {
    const epochs = Array.from({ length: 321 }, (_, i) => i * 50);
    const picked = pickRecordedSnapshots(epochs, { max: 28, denseUntil: 2000, denseEvery: 250 });
    expect(picked.length).toBeLessThanOrEqual(28);
    expect(picked.slice(0, 9)).toEqual([0, 250, 500, 750, 1000, 1250, 1500, 1750, 2000]);
    expect(picked.at(-1)).toBe(16000);
    for (let i = 1; i < picked.length; i++) expect(picked[i]).toBeGreaterThan(picked[i - 1]);
  });
});
