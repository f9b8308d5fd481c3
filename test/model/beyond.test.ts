/**
 * ⊥Grad and StableMax against an independent PyTorch implementation (test/fixtures/beyond/
 * make_beyond.py: float32, torch.optim.AdamW): from one initial checkpoint and split, 100 updates
 * of the single trainer and of the batched trainer (beside a model without the knob, so the
 * per-model switch is tested too) follow it within 1e-4 relative, weights and both moments.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, type TrainConfig } from '../../src/config/schema.ts';
import { BatchedTrainer, batchProblem } from '../../src/model/batched/batched-trainer.ts';
import { Trainer } from '../../src/model/trainer.ts';
import { orthogonalGrad } from '../../src/model/orthograd.ts';
import { collapsedPerExample, stablemaxPerExample, stablemaxS } from '../../src/model/transformer/stablemax.ts';
import * as tf from '@tensorflow/tfjs-core';
import { relErr } from '../compare.ts';
import { maxAbsDiff, numTensors, tinyConfig, useBackend } from '../helpers.ts';
import { constrainNorm, constrainNormBatched } from '../../src/model/weight-norm.ts';
import { initWeights, paramSpecs } from '../../src/model/transformer/params.ts';
import { disposePairBatch, forwardGeneral, makePairBatch } from '../../src/model/transformer/forward.ts';
import { forwardFast } from '../../src/model/transformer/fast.ts';
import { labelTable } from '../../src/task/pairs.ts';
import { referenceLogits } from './reference.ts';

interface Case {
  loss: string;
  og: number;
  wd: number;
  losses: number[];
  weights: number[];
  m: number[];
  v: number[];
}
const REF = JSON.parse(readFileSync(new URL('../fixtures/beyond/reference.json', import.meta.url), 'utf8')) as {
  p: number; dModel: number; nHeads: number; dMlp: number; lr: number; warmup: number; beta1: number; beta2: number;
  updates: number; train: number[]; names: string[]; init: Record<string, number[]>; cases: Record<string, Case>;
};

const TOL = 1e-4;
const weights = () => Object.fromEntries(REF.names.map((n) => [n, Float32Array.from(REF.init[n])]));
const CASES = Object.keys(REF.cases);

function configOf(c: Case): TrainConfig {
  return {
    ...DEFAULT_CONFIG, p: REF.p, dModel: REF.dModel, nHeads: REF.nHeads, dMlp: REF.dMlp, frac: REF.train.length / (REF.p * REF.p),
    lr: REF.lr, warmup: REF.warmup, beta1: REF.beta1, beta2: REF.beta2, weightDecay: c.wd, orthoGrad: c.og, loss: c.loss as TrainConfig['loss'],
  };
}

describe('⊥Grad and StableMax against PyTorch (100 updates from one checkpoint)', () => {
  it.each(CASES)('%s: the single trainer follows PyTorch within 1e-4 (wasm)', async (name) => {
    await useBackend('wasm');
    const c = REF.cases[name];
    const trainer = new Trainer(configOf(c), { weights: weights(), trainIndices: REF.train });
    const losses: number[] = [];
    for (let t = 0; t < REF.updates; t++) {
      trainer.trainStep();
      losses.push(trainer.lastTrainLoss!.dataSync()[0]);
    }
    const s = await trainer.readState();
    trainer.dispose();
    expect(relErr(losses, c.losses)).toBeLessThan(TOL);
    expect(relErr(s.weights, c.weights)).toBeLessThan(TOL);
    expect(relErr(s.m, c.m)).toBeLessThan(TOL);
    expect(relErr(s.v, c.v)).toBeLessThan(TOL);
  }, 60_000);

  it.each(CASES.filter((n) => REF.cases[n].og))('%s: the batched trainer, beside a model without it, follows PyTorch within 1e-4', async (name) => {
    await useBackend('wasm');
    const c = REF.cases[name];
    // A batch shares its loss (SHAPE_KEYS): the partner is the same loss without ⊥Grad.
    const plain = REF.cases[c.loss === 'stablemax' ? 'stablemax' : 'adamw'];
    const batched = new BatchedTrainer([configOf(c), configOf(plain)], { weights: [weights(), weights()], trainIndices: [REF.train, REF.train] });
    for (let t = 0; t < REF.updates; t++) batched.trainStep();
    const states = await batched.readState();
    batched.dispose();
    for (const [i, ref] of [c, plain].entries()) {
      expect(relErr(states[i].weights, ref.weights)).toBeLessThan(TOL);
      expect(relErr(states[i].m, ref.m)).toBeLessThan(TOL);
      expect(relErr(states[i].v, ref.v)).toBeLessThan(TOL);
    }
  }, 60_000);

  it('StableMax by hand: s, the loss, its gradient against finite differences, and softmax collapse', async () => {
    await useBackend('cpu');
    // logits (1, 0, −1), label 0: s = (2, 1, 1/2), p_0 = 2/3.5, loss = log(3.5/2).
    const x = tf.tensor2d([[1, 0, -1]]);
    const y = tf.tensor2d([[1, 0, 0]]);
    expect(Array.from(stablemaxS(x).dataSync())).toEqual([2, 1, 0.5]);
    expect(stablemaxPerExample(x, y).dataSync()[0]).toBeCloseTo(Math.log(3.5 / 2), 6);
    const g = tf.grad((t: tf.Tensor) => tf.sum(stablemaxPerExample(t as tf.Tensor2D, y)))(x).dataSync();
    const loss = (v: number[]) => {
      const s = v.map((z) => (z >= 0 ? z + 1 : 1 / (1 - z)));
      return -Math.log(s[0] / (s[0] + s[1] + s[2]));
    };
    for (let j = 0; j < 3; j++) {
      const h = 1e-6;
      const up = [1, 0, -1].map((z, i) => (i === j ? z + h : z));
      const down = [1, 0, -1].map((z, i) => (i === j ? z - h : z));
      // At 0 the one-sided derivative from above (s' = 1) is the kernel's, as torch.where's.
      const fd = j === 1 ? (loss(up) - loss([1, 0, -1])) / h : (loss(up) - loss(down)) / (2 * h);
      expect(g[j]).toBeCloseTo(fd, 4);
    }
    // Collapse: softmax's p_y rounds to 1 at a margin of 20 (e^−20 < 2^−24), not at 10; StableMax's never here.
    const wide = tf.tensor2d([[20, 0, 0], [10, 0, 0]]);
    const labels = tf.tensor2d([[1, 0, 0], [1, 0, 0]]);
    expect(Array.from(collapsedPerExample('softmax', wide, labels).dataSync())).toEqual([1, 0]);
    expect(Array.from(collapsedPerExample('stablemax', wide, labels).dataSync())).toEqual([0, 0]);
    tf.dispose([x, y, wide, labels]);
  });

  it('⊥Grad by hand: the result is orthogonal to each tensor, of the gradient norm, and leaks nothing', async () => {
    await useBackend('cpu');
    const before = numTensors();
    // Two tensors [3] and [2]: w = (1, 0, 0 | 0, 2), g = (1, 1, 0 | 3, 4).
    // First: g⊥ = (0, 1, 0), scaled to ‖g‖ = √2. Second: g⊥ = (3, 0), ‖g‖ = 5 → (5, 0).
    const out = orthogonalGrad(tf.tensor1d([1, 1, 0, 3, 4]), tf.tensor1d([1, 0, 0, 0, 2]), [3, 2]);
    const v = Array.from(out.dataSync());
    [0, Math.SQRT2, 0, 5, 0].forEach((x, i) => expect(v[i]).toBeCloseTo(x, 6));
    // A zero weight tensor (a bias at init) keeps its gradient.
    const zero = orthogonalGrad(tf.tensor2d([[1, 2]]), tf.tensor2d([[0, 0]]), [2]);
    expect(Array.from(zero.dataSync())).toEqual([1, 2]);
    tf.dispose([out, zero]);
    expect(numTensors()).toBe(before + 4);
  });
});

describe("Omnigrok's constrained weight norm", () => {
  it('rescales by hand, one model and M models (norm 0 leaves a model exactly as it is)', async () => {
    await useBackend('cpu');
    const before = numTensors();
    const [a, b, m] = tf.tidy(() => [tf.variable(tf.tensor1d([3, 0])), tf.variable(tf.tensor1d([4])), tf.variable(tf.tensor2d([[3, 4], [0.1, 0.7]]))]);
    constrainNorm([a, b], 10);
    expect(Array.from(a.dataSync())).toEqual([6, 0]);
    expect(b.dataSync()[0]).toBeCloseTo(8, 6);
    constrainNormBatched([m], [1, 0]);
    const v = m.dataSync();
    [0.6, 0.8].forEach((x, i) => expect(v[i]).toBeCloseTo(x, 6));
    expect([v[2], v[3]]).toEqual([Math.fround(0.1), Math.fround(0.7)]);
    tf.dispose([a, b, m]);
    expect(numTensors()).toBe(before);
  });

  it('keeps ‖θ‖₂ at the target every update, single and batched alike; initscale scales the seeded init', async () => {
    await useBackend('wasm');
    const c = tinyConfig({ weightDecay: 0, weightNorm: 12, initScale: 3 });
    const w1 = initWeights(tinyConfig());
    const w3 = initWeights(c);
    for (const k of Object.keys(w1)) expect(maxAbsDiff(w3[k], Array.from(w1[k], (x) => x * 3))).toBeLessThan(1e-6);
    const single = new Trainer(c);
    for (let t = 0; t < 30; t++) single.trainStep();
    const m = await single.evaluateAsync();
    expect(Math.sqrt(m.sumSquaredWeights)).toBeCloseTo(12, 4);
    const s = await single.readState();
    single.dispose();
    const plain = tinyConfig({ seed: 1 });
    const batched = new BatchedTrainer([c, plain]);
    for (let t = 0; t < 30; t++) batched.trainStep();
    const states = await batched.readState();
    batched.dispose();
    expect(relErr(states[0].weights, s.weights)).toBeLessThan(1e-5);
    const ref = new Trainer(plain);
    for (let t = 0; t < 30; t++) ref.trainStep();
    expect(relErr(states[1].weights, (await ref.readState()).weights)).toBeLessThan(1e-5);
    ref.dispose();
  }, 60_000);
});

describe("the Clock and the Pizza's attention rate", () => {
  const pairsOf = (p: number) => new Int32Array(p * p).map((_, i) => i);
  it.each([
    [0.3, 1],
    [0, 1],
    [0.3, 2],
  ])('α = %s, %s block(s): the forwards follow the independent float64 reference (1e-5)', async (attnRate, nLayers) => {
    await useBackend('wasm');
    const c = tinyConfig({ attnRate, nLayers });
    const w = initWeights(c);
    const params = Object.fromEntries(paramSpecs(c).map((s) => [s.name, tf.tensor(w[s.name], s.shape)]));
    const pairs = pairsOf(c.p);
    const batch = makePairBatch(c, pairs, labelTable('add', c.p, 0));
    const expected: number[] = [];
    for (const i of pairs) expected.push(...referenceLogits(c, w, Math.floor(i / c.p), i % c.p));
    const scale = Math.max(...expected.map(Math.abs));
    const forwards = nLayers === 1 ? [forwardGeneral, forwardFast] : [forwardGeneral];
    for (const f of forwards) expect(maxAbsDiff(f(params, c, batch).dataSync(), expected) / scale).toBeLessThan(1e-5);
    // α changes the logits (the test could fail): α = 1 is another function.
    const softmaxOnly = forwardGeneral(params, { ...c, attnRate: 1 }, batch).dataSync();
    expect(maxAbsDiff(softmaxOnly, expected) / scale).toBeGreaterThan(1e-3);
    tf.dispose(Object.values(params));
    disposePairBatch(batch);
  });

  it('trains batched exactly as single runs (α = 0.5), and a batch shares its α', async () => {
    await useBackend('wasm');
    const cs = [tinyConfig({ attnRate: 0.5 }), tinyConfig({ attnRate: 0.5, seed: 2 })];
    const batched = new BatchedTrainer(cs);
    for (let t = 0; t < 20; t++) batched.trainStep();
    const states = await batched.readState();
    batched.dispose();
    for (const [i, c] of cs.entries()) {
      const single = new Trainer(c);
      for (let t = 0; t < 20; t++) single.trainStep();
      expect(relErr(states[i].weights, (await single.readState()).weights)).toBeLessThan(1e-5);
      single.dispose();
    }
    expect(batchProblem([tinyConfig({ attnRate: 0.5 }), tinyConfig()])).toMatch(/attnRate/);
    expect(batchProblem([tinyConfig({ loss: 'stablemax' }), tinyConfig()])).toMatch(/loss/);
  }, 60_000);
});
