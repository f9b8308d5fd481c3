/**
 * The LLC estimator on a model whose answer is known: linear regression y = x·w + N(0, 1) with d
 * parameters is regular, so its learning coefficient is d/2 (Watanabe 2009; Lau et al. 2023 §4).
 * With the loss ½·mean (y − x·w)² (the Gaussian negative log-likelihood) at the least-squares w*,
 * nβ·H ≫ γ and a small ε (its discretization bias ≈ εκ/4 < 1%), the estimate must be within
 * its stated error (2 × the chains' standard error) of d/2.
 */
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { chainSettled, estimateLLC, estimateSettled, type LlcModel } from '../../src/analysis/llc.ts';
import { Rng } from '../../src/random/rng.ts';
import { numTensors, useBackend } from '../helpers.ts';

function regression(n: number, d: number): LlcModel & { dispose: () => void } {
  const rng = new Rng(5);
  const X = Float64Array.from({ length: n * d }, () => rng.normal());
  const wTrue = Array.from({ length: d }, (_, j) => j - 1.5);
  const y = Float64Array.from({ length: n }, (_, i) => wTrue.reduce((s, w, j) => s + w * X[i * d + j], 0) + rng.normal());
  // Least squares in float64: solve (XᵀX) w = Xᵀy by Gaussian elimination.
  const A = Array.from({ length: d }, (_, r) => [...Array.from({ length: d }, (_, c) => X.reduce((s, _, i) => (i < n ? s + X[i * d + r] * X[i * d + c] : s), 0)), y.reduce((s, yi, i) => s + X[i * d + r] * yi, 0)]);
  for (let c = 0; c < d; c++) for (let r = c + 1; r < d; r++) {
    const f = A[r][c] / A[c][c];
    for (let k = c; k <= d; k++) A[r][k] -= f * A[c][k];
  }
  const wStar = new Array<number>(d).fill(0);
  for (let r = d - 1; r >= 0; r--) wStar[r] = (A[r][d] - A[r].slice(r + 1, d).reduce((s, a, k) => s + a * wStar[r + 1 + k], 0)) / A[r][r];
  const Xt = tf.tensor2d(Float32Array.from(X), [n, d]);
  const yt = tf.tensor1d(Float32Array.from(y));
  const w = tf.tidy(() => tf.variable(tf.tensor1d(wStar)));
  const lossOf = (x: tf.Tensor2D, yy: tf.Tensor1D) => tf.mul(tf.mean(tf.square(tf.sub(yy, tf.reshape(tf.matMul(x, tf.reshape(w, [d, 1])), [-1])))), 0.5) as tf.Scalar;
  return {
    params: [w],
    n,
    batch(indices) {
      if (!indices) return { loss: () => lossOf(Xt, yt), dispose: () => {} };
      const idx = tf.tensor1d(indices, 'int32');
      const xb = tf.gather(Xt, idx) as tf.Tensor2D;
      const yb = tf.gather(yt, idx) as tf.Tensor1D;
      return { loss: () => lossOf(xb, yb), dispose: () => tf.dispose([idx, xb, yb]) };
    },
    dispose: () => tf.dispose([Xt, yt, w]),
  };
}

describe('local learning coefficient (SGLD, devinterp)', () => {
  it('is d/2 for a linear regression with d = 4 parameters, within its stated error; the weights come back; nothing leaks', async () => {
    await useBackend('cpu');
    const before = numTensors();
    const model = regression(1024, 4);
    const w0 = Array.from(model.params[0].dataSync());
    const r = await estimateLLC(model, { eps: 5e-4, gamma: 1, chains: 8, draws: 2000, batch: 1024, seed: 1 });
    const stated = (2 * r.llcStd) / Math.sqrt(r.settings.chains);
    expect(r.settings.nbeta).toBeCloseTo(1024 / Math.log(1024), 9);
    expect(r.traces).toHaveLength(8);
    expect(r.traces[0]).toHaveLength(2000);
    expect(stated).toBeLessThan(0.2);
    expect(Math.abs(r.llc - 2)).toBeLessThan(stated);
    expect(r.settledPerChain).toHaveLength(8);
    expect(r.settled).toBe(true);
    expect(Array.from(model.params[0].dataSync())).toEqual(w0);
    model.dispose();
    expect(numTensors()).toBe(before);
  }, 120_000);

  it('minibatches: the same seed gives the same chains, another seed other chains', async () => {
    await useBackend('cpu');
    const model = regression(256, 2);
    const a = await estimateLLC(model, { chains: 2, draws: 50, batch: 32, seed: 3, eps: 1e-3, gamma: 1 });
    const b = await estimateLLC(model, { chains: 2, draws: 50, batch: 32, seed: 3, eps: 1e-3, gamma: 1 });
    const c = await estimateLLC(model, { chains: 2, draws: 50, batch: 32, seed: 4, eps: 1e-3, gamma: 1 });
    expect(b.traces).toEqual(a.traces);
    expect(c.traces).not.toEqual(a.traces);
    expect(a.settings.nbeta).toBeCloseTo(32 / Math.log(32), 9);
    await expect(estimateLLC(model, { eps: -1 })).rejects.toThrow(/eps/);
    model.dispose();
  });

  it('settled: a trace still climbing is not, a noisy plateau is, whatever L(w*)', () => {
    const rng = new Rng(9);
    const plateau = Array.from({ length: 200 }, () => 0.5 + 1 + 0.05 * rng.normal());
    const climbing = Array.from({ length: 200 }, (_, i) => 0.5 + i / 100 + 0.05 * rng.normal());
    expect(chainSettled(plateau, 0.5)).toBe(true);
    expect(chainSettled(climbing, 0.5)).toBe(false);
    // Measured against L(w*): the same climb sitting on a large L(w*) is still a climb.
    expect(chainSettled(climbing.map((x) => x + 100), 100.5)).toBe(false);
    expect(chainSettled([1, 1, 1], 0)).toBe(false);
    // The estimate: chains that all climb did not settle; chains whose drifts disagree did.
    const shifted = (k: number) => climbing.map((x) => x + 0.01 * k);
    expect(estimateSettled([shifted(0), shifted(1), shifted(2)], 0.5)).toBe(false);
    const noisy = (sign: number) => plateau.map((x, i) => x + (i >= 150 ? 0.3 * sign : 0));
    expect(estimateSettled([noisy(1), noisy(-1), noisy(1), noisy(-1)], 0.5)).toBe(true);
    expect(estimateSettled([plateau, plateau], 0.5)).toBe(true);
  });
});
