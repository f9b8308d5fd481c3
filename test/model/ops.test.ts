import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it, beforeAll } from 'vitest';
import { addAll, crossEntropyMean, crossEntropyPerExample, log1pAccurate, mm, oneHotFloat } from '../../src/model/transformer/ops.ts';
import { useBackend } from '../helpers.ts';

/** Cross-entropy in float64, the textbook way. */
function referenceCE(logits: number[], label: number): number {
  const m = Math.max(...logits);
  const lse = m + Math.log(logits.reduce((s, x) => s + Math.exp(x - m), 0));
  return lse - logits[label];
}

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`loss ops on ${backend}`, () => {
    beforeAll(() => useBackend(backend));

    it('makes float one-hots with ones, not int bits', () => {
      expect(Array.from(oneHotFloat(tf.tensor1d([2, 0], 'int32'), 3).dataSync())).toEqual([0, 0, 1, 1, 0, 0]);
    });

    it('computes log1p accurately for tiny and ordinary arguments', () => {
      const xs = [0, 1e-12, 1e-7, 3e-5, 0.5, 3];
      const got = log1pAccurate(tf.tensor1d(xs)).dataSync();
      xs.forEach((x, i) => expect(Math.abs(got[i] - Math.log1p(x)) / Math.max(Math.log1p(x), 1e-30)).toBeLessThan(1e-6));
    });

    it('matches float64 cross-entropy, and keeps relative precision near 1e-7', () => {
      const rows = [
        { x: [1, 2, 3.5, -1], y: 2 },
        { x: [0.3, -2, 0.1, 4], y: 0 },
        { x: [25, 8, 9, 8.5], y: 0 }, // loss ≈ 1.5e-7: x_y − logsumexp(x) would round to 0 or 2e-6 in float32
        { x: [-80, 60, 0, 1], y: 0 }, // huge loss, no overflow
      ];
      const logits = tf.tensor2d(rows.map((r) => r.x));
      const labels = oneHotFloat(tf.tensor1d(rows.map((r) => r.y), 'int32'), 4);
      const got = crossEntropyPerExample(logits, labels).dataSync();
      rows.forEach((r, i) => {
        const want = referenceCE(r.x, r.y);
        expect(Math.abs(got[i] - want) / want).toBeLessThan(1e-5);
      });
    });

    it('has the gradient (softmax − onehot)/N, exact in the label component at tiny loss', () => {
      const x = [[30, 8, 9, 8.5], [1, 2, 3, 4]];
      const yIdx = [0, 3];
      const logits = tf.tensor2d(x);
      const labels = oneHotFloat(tf.tensor1d(yIdx, 'int32'), 4);
      const g = tf.grad((l: tf.Tensor) => crossEntropyMean(l as tf.Tensor2D, labels))(logits).arraySync() as number[][];
      x.forEach((row, i) => {
        const m = Math.max(...row);
        const z = row.reduce((s, v) => s + Math.exp(v - m), 0);
        const p = row.map((v) => Math.exp(v - m) / z);
        const others = p.reduce((s, v, j) => (j === yIdx[i] ? s : s + v), 0);
        row.forEach((_, j) => {
          const want = (j === yIdx[i] ? -others : p[j]) / 2;
          expect(Math.abs(g[i][j] - want)).toBeLessThanOrEqual(Math.abs(want) * 1e-4 + 1e-12);
        });
      });
      // The label component is not 0 even though p_y rounds to 1 in float32.
      expect(g[0][0]).toBeLessThan(0);
      // The lower-precision loss (lossprec=f32, App. D.2): p_y − 1 in float32 is exactly 0 on the
      // well-fit row (the wrong logits are still pushed down), and equal to the exact one elsewhere.
      const f32 = tf.grad((l: tf.Tensor) => crossEntropyMean(l as tf.Tensor2D, labels, 'f32'))(logits).arraySync() as number[][];
      expect(f32[0][0]).toBe(0);
      for (let j = 1; j < 4; j++) expect(f32[0][j]).toBeCloseTo(g[0][j], 12);
      f32[1].forEach((v, j) => expect(Math.abs(v - g[1][j])).toBeLessThan(1e-6));
    });
  });
}

describe('addAll', () => {
  beforeAll(() => useBackend('cpu'));

  it('sums any number of tensors (tf.addN in groups WebGPU can bind)', () => {
    for (const n of [1, 2, 6, 7, 8, 13, 40]) {
      const ts = Array.from({ length: n }, (_, i) => tf.tensor1d([i, 1]));
      expect(Array.from(addAll(ts).dataSync())).toEqual([(n * (n - 1)) / 2, n]);
    }
    expect(() => addAll([])).toThrow(/at least one/);
  });
});

describe('mm on wasm with one operand under two shapes', () => {
  beforeAll(() => useBackend('wasm'));

  it('gives the right products (tfjs-wasm caches operators by the right operand’s data id)', () => {
    const x = tf.tensor1d(Array.from({ length: 24 }, (_, i) => (i % 7) - 3));
    const asTall = tf.reshape(x, [6, 4]);
    const asWide = tf.reshape(x, [4, 6]);
    const left6 = tf.ones([2, 6]);
    const left4 = tf.ones([3, 4]);
    const first = mm(left6, asTall).arraySync() as number[][];
    const second = mm(left4, asWide).arraySync() as number[][];
    // Column sums, computed by hand from x.
    const xs = Array.from({ length: 24 }, (_, i) => (i % 7) - 3);
    const colSums = (rows: number, cols: number) => Array.from({ length: cols }, (_, j) => xs.filter((_, i) => i % cols === j && Math.floor(i / cols) < rows).reduce((s, v) => s + v, 0));
    expect(first[0]).toEqual(colSums(6, 4));
    expect(second[2]).toEqual(colSums(4, 6));
  });
});
