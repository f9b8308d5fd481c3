import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { AdamW, GrokfastEma, adamWCoefficients } from '../../src/model/adamw.ts';
import { numTensors, useBackend } from '../helpers.ts';

const HP = { lr: 0.01, weightDecay: 0.1, beta1: 0.9, beta2: 0.98, eps: 1e-8, warmup: 0 };

function oneParam(value: number[]) {
  return new Map([['w', tf.variable(tf.tensor1d(value))]]);
}

describe('AdamW (PyTorch semantics)', () => {
  beforeAll(() => useBackend('cpu'));

  it('matches a hand-computed first update without warm-up', () => {
    // θ=2, g=0.5, lr=0.01, λ=0.1: θ ← 2·(1 − 0.001) = 1.998; m = 0.05, v = 0.005;
    // m̂ = 0.05/0.1 = 0.5, v̂ = 0.005/0.02 = 0.25; θ ← 1.998 − 0.01·0.5/(0.5 + 1e-8) = 1.9880000002
    const params = oneParam([2]);
    const opt = new AdamW(params, { ...HP });
    opt.step({ w: tf.tensor1d([0.5]) });
    expect(params.get('w')!.dataSync()[0]).toBeCloseTo(1.9880000002, 6);
    expect(opt.m.dataSync()[0]).toBeCloseTo(0.05, 7);
    expect(opt.v.dataSync()[0]).toBeCloseTo(0.005, 7);
    expect(opt.t).toBe(1);
  });

  it('applies the authors’ warm-up: update 0 has lr 0, update 1 has lr/10, with bias correction by step', () => {
    // Update 0: lr_0 = 0 → θ stays 2 (no decay either), but m = 0.05, v = 0.005.
    // Update 1 with g = −1: lr_1 = 0.001; θ ← 2·(1 − 0.001·0.1) = 1.9998;
    //   m = 0.9·0.05 − 0.1 = −0.055, v = 0.98·0.005 + 0.02 = 0.0249;
    //   θ ← 1.9998 − (0.001/(1 − 0.9²))·(−0.055)/(√0.0249/√(1 − 0.98²) + 1e-8) = 2.000165053908369
    const params = oneParam([2]);
    const opt = new AdamW(params, { ...HP, warmup: 10 });
    opt.step({ w: tf.tensor1d([0.5]) });
    expect(params.get('w')!.dataSync()[0]).toBe(2);
    opt.step({ w: tf.tensor1d([-1]) });
    expect(opt.m.dataSync()[0]).toBeCloseTo(-0.055, 7);
    expect(opt.v.dataSync()[0]).toBeCloseTo(0.0249, 7);
    expect(params.get('w')!.dataSync()[0]).toBeCloseTo(2.000165053908369, 5);
  });

  it('decays every parameter, decoupled from the gradient', () => {
    // Zero gradient: Adam's step is 0, only θ·(1 − lr·λ) acts.
    const params = oneParam([1, -3]);
    const opt = new AdamW(params, { ...HP, lr: 0.1, weightDecay: 1 });
    opt.step({ w: tf.tensor1d([0, 0]) });
    const w = params.get('w')!.dataSync();
    expect(w[0]).toBeCloseTo(0.9, 6);
    expect(w[1]).toBeCloseTo(-2.7, 6);
  });

  it('uses a changed lr and λ at the next update and keeps the moments', () => {
    const params = oneParam([2]);
    const opt = new AdamW(params, { ...HP });
    opt.step({ w: tf.tensor1d([0.5]) });
    opt.hp.weightDecay = 0;
    opt.hp.lr = 0.02;
    const before = params.get('w')!.dataSync()[0];
    opt.step({ w: tf.tensor1d([0.5]) });
    // t = 1: m = 0.095, v = 0.0099; m̂ = 0.095/0.19 = 0.5, v̂ = 0.0099/0.0396 = 0.25 → step 0.02·0.5/0.5
    expect(before - params.get('w')!.dataSync()[0]).toBeCloseTo(0.02, 6);
  });

  it('updates several parameters at once exactly as one at a time', () => {
    // The flat update must give each parameter the values its own update would.
    const W = [0.3, -1.2, 2.5, 0.01, -0.7, 1.1];
    const b = [0.4, -0.05];
    const together = new Map<string, tf.Variable>([
      ['W', tf.variable(tf.tensor2d(W, [2, 3]))],
      ['b', tf.variable(tf.tensor1d(b))],
    ]);
    const alone = { W: new Map([['W', tf.variable(tf.tensor2d(W, [2, 3]))]]), b: oneParam(b) };
    const opt = new AdamW(together, { ...HP, warmup: 3 });
    const optW = new AdamW(alone.W, { ...HP, warmup: 3 });
    const optB = new AdamW(new Map([['b', alone.b.get('w')!]]), { ...HP, warmup: 3 });
    for (let i = 0; i < 6; i++) {
      const gW = tf.tensor2d(W.map((x, j) => Math.sin(x * (i + 1) + j)), [2, 3]);
      const gB = tf.tensor1d(b.map((x, j) => Math.cos(x * (i + 2) - j)));
      opt.step({ W: gW, b: gB });
      optW.step({ W: gW });
      optB.step({ b: gB });
      tf.dispose([gW, gB]);
    }
    expect(together.get('W')!.shape).toEqual([2, 3]);
    expect(Array.from(together.get('W')!.dataSync())).toEqual(Array.from(alone.W.get('W')!.dataSync()));
    expect(Array.from(together.get('b')!.dataSync())).toEqual(Array.from(alone.b.get('w')!.dataSync()));
    expect(Array.from(opt.v.dataSync())).toEqual([...optW.v.dataSync(), ...optB.v.dataSync()]);
  });

  it('computes its coefficients in float64', () => {
    const k = adamWCoefficients({ ...HP, warmup: 10 }, 5);
    expect(k.lrT).toBeCloseTo(0.005, 12);
    expect(k.decay).toBeCloseTo(1 - 0.0005, 12);
    expect(k.stepSize).toBeCloseTo(0.005 / (1 - 0.9 ** 6), 12);
  });

  it('round-trips its state and leaks no tensors', async () => {
    const params = oneParam([2, 1]);
    const opt = new AdamW(params, { ...HP });
    const before = numTensors();
    for (let i = 0; i < 5; i++) {
      const g = tf.tensor1d([0.5, -0.2]);
      opt.step({ w: g });
      g.dispose();
    }
    expect(numTensors()).toBe(before);
    const state = await opt.readState();
    const other = new AdamW(oneParam([0, 0]), { ...HP });
    other.loadState(state);
    expect(other.t).toBe(5);
    expect(Array.from(other.m.dataSync())).toEqual(Array.from(opt.m.dataSync()));
  });
});

describe('Grokfast-EMA', () => {
  beforeAll(() => useBackend('cpu'));

  it('starts μ at the first gradient and returns g + λ·μ', () => {
    // α = 0.5, λ = 2: step 1: μ = g1 = 1 → 1 + 2 = 3; step 2 g = 3: μ = 0.5·1 + 0.5·3 = 2 → 3 + 4 = 7.
    const gf = new GrokfastEma(0.5, 2);
    const out1 = gf.filter(tf.tensor1d([1, -2]));
    expect(Array.from(out1.dataSync())).toEqual([3, -6]);
    // step 2, g = (3, 0): μ = (2, −1) → (3 + 4, 0 − 2).
    const out2 = gf.filter(tf.tensor1d([3, 0]));
    expect(Array.from(out2.dataSync())).toEqual([7, -2]);
    gf.dispose();
  });
});
