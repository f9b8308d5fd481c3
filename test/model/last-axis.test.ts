/**
 * The last-axis copies of src/model/transformer/last-axis.ts: on wasm its own kernels, elsewhere tf's ops.
 * Either way the same values and gradients as tf.concat / tf.split / tf.stack, exactly.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { concatLast, splitLast, stackLast } from '../../src/model/transformer/last-axis.ts';
// tfjs's own gradients (of Sum, Mul, …), as the model's code registers them.
import '../../src/model/transformer/ops.ts';
import { numTensors, useBackend } from '../helpers.ts';

const seeded = (shape: number[], seed: number) => tf.randomNormal(shape, 0, 1, 'float32', seed);

/** Rows of 1 (the attention's 3 keys), short, and long enough to copy by views; 1-D (a flat vector). */
const CASES: { lead: number[]; widths: number[] }[] = [
  { lead: [5, 7, 4], widths: [1, 1, 1] },
  { lead: [9, 2], widths: [4, 32] },
  { lead: [3], widths: [17, 5, 40, 1] },
  { lead: [], widths: [300, 7, 1000] },
];

describe.each(['wasm', 'cpu'] as const)('last-axis copies (%s)', (backend) => {
  afterAll(() => useBackend('wasm'));

  it('concatLast and splitLast give tf.concat and tf.split values, and undo each other', async () => {
    await useBackend(backend);
    for (const [i, { lead, widths }] of CASES.entries()) {
      const xs = widths.map((w, k) => seeded([...lead, w], 10 * i + k));
      const joined = concatLast(xs);
      expect(joined.shape).toEqual([...lead, widths.reduce((a, b) => a + b, 0)]);
      expect(Array.from(await joined.data())).toEqual(Array.from(await tf.concat(xs, -1).data()));
      const parts = splitLast(joined, widths);
      const want = tf.split(joined, widths, -1);
      for (let k = 0; k < widths.length; k++) {
        expect(parts[k].shape).toEqual(want[k].shape);
        expect(Array.from(await parts[k].data())).toEqual(Array.from(await xs[k].data()));
      }
      tf.dispose([...xs, joined, ...parts, ...want]);
    }
  });

  it('stackLast is tf.stack along a new last axis', async () => {
    await useBackend(backend);
    const xs = [0, 1, 2].map((k) => seeded([6, 4], k));
    const s = stackLast(xs);
    expect(s.shape).toEqual([6, 4, 3]);
    expect(Array.from(await s.data())).toEqual(Array.from(await tf.stack(xs, 2).data()));
    tf.dispose([...xs, s]);
  });

  it("has tf's gradients, through a concat, a split and a piece not used", async () => {
    await useBackend(backend);
    const a = seeded([4, 3, 2], 1);
    const b = seeded([4, 3, 5], 2);
    const w = seeded([4, 3, 4], 3);
    // Only two of the three pieces reach the loss: the third's gradient is zeros.
    const loss = (cat: (x: tf.Tensor[]) => tf.Tensor, split: (x: tf.Tensor, s: number[]) => tf.Tensor[]) => (x: tf.Tensor, y: tf.Tensor) => {
      const [p, , r] = split(tf.mul(cat([x, y]), 1.5), [3, 1, 3]);
      return tf.sum(tf.mul(tf.slice(cat([r, p, tf.square(p)]), [0, 0, 0], [4, 3, 4]), w));
    };
    const ours = tf.grads(loss(concatLast, splitLast))([a, b]);
    const theirs = tf.grads(loss((x) => tf.concat(x, -1), (x, s) => tf.split(x, s, -1)))([a, b]);
    for (let k = 0; k < 2; k++) expect(Array.from(await ours[k].data())).toEqual(Array.from(await theirs[k].data()));
    tf.dispose([a, b, w, ...ours, ...theirs]);
  });

  it('refuses pieces that do not make the last axis, and leaks no tensor', async () => {
    await useBackend(backend);
    const x = seeded([2, 5], 0);
    expect(() => splitLast(x, [2, 2])).toThrow(/do not make the last axis/);
    const before = numTensors();
    for (let r = 0; r < 20; r++) {
      tf.tidy(() => {
        splitLast(concatLast([x, x]), [5, 5]);
      });
    }
    expect(numTensors()).toBe(before);
    x.dispose();
  });
});
