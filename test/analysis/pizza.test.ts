/**
 * The clock/pizza measures (analysis/pizza.ts) on constructed cases with known answers, and the
 * gradient symmetricity against central differences of the independent float64 forward.
 */
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { correctLogits, distanceIrrelevance, gradientSymmetricity, symmetricityTriplets } from '../../src/analysis/pizza.ts';
import { initWeights, paramSpecs, type Weights } from '../../src/model/transformer/params.ts';
import type { TrainConfig } from '../../src/config/schema.ts';
import { Rng } from '../../src/random/rng.ts';
import { numTensors, tinyConfig, useBackend } from '../helpers.ts';
import { referenceLogits } from '../model/reference.ts';

const P = 7;

function di(values: (a: number, b: number) => number): number {
  const t = tf.tensor1d(Float32Array.from({ length: P * P }, (_, i) => values(Math.floor(i / P), i % P)));
  const q = distanceIrrelevance(t, P);
  const v = q.dataSync()[0];
  tf.dispose([t, q]);
  return v;
}

/** Their formula on the host in float64: table over ((a+b) mod P, (a−b) mod P), std over axis 0. */
function diHost(values: (a: number, b: number) => number): number {
  const table: number[][] = Array.from({ length: P }, () => new Array<number>(P).fill(0));
  for (let a = 0; a < P; a++) for (let b = 0; b < P; b++) table[(a + b) % P][(a - b + P) % P] = values(a, b);
  const std = (xs: number[]) => {
    const m = xs.reduce((s, x) => s + x, 0) / xs.length;
    return Math.sqrt(xs.reduce((s, x) => s + (x - m) ** 2, 0) / xs.length);
  };
  let mean = 0;
  for (let d = 0; d < P; d++) mean += std(table.map((row) => row[d])) / P;
  return mean / std(table.flat());
}

describe('distance irrelevance', () => {
  it('is 0 when the correct logit depends only on a − b, 1 when only on a + b, and follows their formula otherwise', async () => {
    await useBackend('cpu');
    const before = numTensors();
    expect(di((a, b) => Math.cos((2 * Math.PI * 3 * (a - b)) / P))).toBeLessThan(1e-3);
    expect(di((a, b) => Math.cos((2 * Math.PI * 2 * (a + b)) / P) + ((a + b) % P))).toBeCloseTo(1, 5);
    const rng = new Rng(5);
    const table = Array.from({ length: P * P }, () => rng.uniform());
    const random = (a: number, b: number) => table[a * P + b];
    expect(Math.abs(di(random) - diHost(random))).toBeLessThan(1e-5);
    expect(di(random)).toBeGreaterThan(0.3);
    expect(numTensors()).toBe(before);
  });

  it('takes the logit of each pair’s label', async () => {
    await useBackend('cpu');
    const logits = tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3]);
    const c = correctLogits(logits, Int32Array.from([2, 0]));
    expect(Array.from(c.dataSync())).toEqual([3, 4]);
    tf.dispose([logits, c]);
  });
});

function symmetricity(c: TrainConfig, w: Weights, triplets: Array<[number, number, number]>): number {
  const params = Object.fromEntries(paramSpecs(c).map((s) => [s.name, tf.tensor(w[s.name], s.shape)]));
  const s = gradientSymmetricity(params, c, triplets);
  const v = s.dataSync()[0];
  tf.dispose([s, ...Object.values(params)]);
  return v;
}

/** ∂logit_c/∂x at position `pos` by central differences of the float64 forward (x = W_E[tok] + W_pos[pos]). */
function fdGrad(c: TrainConfig, w: Weights, [a, b, out]: readonly number[], pos: number): number[] {
  const h = 1e-4;
  const g: number[] = [];
  for (let j = 0; j < c.dModel; j++) {
    const at = (delta: number) => {
      const W_pos = Float32Array.from(w['pos_embed.W_pos']);
      const copy = { ...w, 'pos_embed.W_pos': Float64Array.from(W_pos) as unknown as Float32Array };
      copy['pos_embed.W_pos'][pos * c.dModel + j] += delta;
      return referenceLogits(c, copy, a, b)[out];
    };
    g.push((at(h) - at(-h)) / (2 * h));
  }
  return g;
}

const cosine = (x: number[], y: number[]) => {
  const dot = x.reduce((s, v, i) => s + v * y[i], 0);
  return dot / Math.hypot(...x) / Math.hypot(...y);
};

describe('gradient symmetricity', () => {
  it('samples their triplets: CPython random.Random(42).shuffle over (a, b, c), a-major', () => {
    // python3 -c "import random; xs=[(a,b,c) for a in range(7) for b in range(7) for c in range(7)];
    //   random.Random(42).shuffle(xs); print(xs[:6])"
    expect(symmetricityTriplets(7, 6)).toEqual([[3, 2, 1], [3, 3, 2], [1, 0, 4], [5, 4, 3], [3, 0, 4], [1, 3, 2]]);
  });

  it('is 1 for a model symmetric in a and b (constant attention, equal position rows)', async () => {
    await useBackend('cpu');
    const c = tinyConfig({ attnRate: 0 });
    const w = initWeights(c);
    const d = c.dModel;
    for (let j = 0; j < d; j++) w['pos_embed.W_pos'][d + j] = w['pos_embed.W_pos'][j];
    expect(symmetricity(c, w, symmetricityTriplets(P, 20))).toBeCloseTo(1, 5);
  });

  it('follows central differences of the float64 forward (softmax attention, an asymmetric model)', async () => {
    await useBackend('cpu');
    const before = numTensors();
    const c = tinyConfig({ attnRate: 1 });
    const w = initWeights(c);
    const triplets = symmetricityTriplets(P, 8);
    const expected = triplets.reduce((s, t) => s + cosine(fdGrad(c, w, t, 0), fdGrad(c, w, t, 1)), 0) / triplets.length;
    const got = symmetricity(c, w, triplets);
    expect(Math.abs(got - expected)).toBeLessThan(1e-3);
    expect(got).toBeLessThan(0.999);
    expect(numTensors()).toBe(before);
  });
});
