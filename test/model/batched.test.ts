import { afterAll, describe, expect, it } from 'vitest';
import type { TrainConfig } from '../../src/config/schema.ts';
import { BatchedTrainer, batchProblem } from '../../src/model/batched/batched-trainer.ts';
import { Trainer } from '../../src/model/trainer.ts';
import { relErr } from '../compare.ts';
import { numTensors, tinyConfig, useBackend } from '../helpers.ts';

const small = (c: Partial<TrainConfig>): TrainConfig => tinyConfig({ p: 23, dModel: 32, nHeads: 4, dMlp: 64, frac: 0.3, ...c });

/** Models that differ in everything that keeps the shape. */
const MIXED: Partial<TrainConfig>[] = [
  { seed: 0 },
  { seed: 1, weightDecay: 0.3, lr: 3e-3 },
  { seed: 2, frac: 0.5, beta1: 0.8, beta2: 0.99, warmup: 3 },
  { seed: 3, grokfastLambda: 2, grokfastAlpha: 0.9 },
  { seed: 4, dropout: 0.2, l1: 1e-4, frac: 0.2 },
  { seed: 5, task: 'sub', weightDecay: 0 },
];

async function compare(backend: 'wasm' | 'cpu', updates: number) {
  await useBackend(backend);
  const configs = MIXED.map(small);
  const batched = new BatchedTrainer(configs);
  for (let t = 0; t < updates; t++) batched.trainStep();
  const states = await batched.readState();
  const metrics = (await batched.evaluate().array()) as number[][];
  batched.dispose();
  const errors: { w: number; m: number; v: number; metrics: number }[] = [];
  for (const [i, c] of configs.entries()) {
    const single = new Trainer(c);
    for (let t = 0; t < updates; t++) single.trainStep();
    const s = await single.readState();
    const e = await single.evaluateAsync();
    single.dispose();
    const ref = [e.trainLoss, e.trainAcc, e.testLoss, e.testAcc, e.sumSquaredWeights];
    errors.push({
      w: relErr(states[i].weights, s.weights),
      m: relErr(states[i].m, s.m),
      v: relErr(states[i].v, s.v),
      metrics: Math.max(...ref.map((x, k) => Math.abs(metrics[i][k] - x) / Math.max(Math.abs(x), 1e-3))),
    });
  }
  return errors;
}

describe('BatchedTrainer', () => {
  afterAll(() => useBackend('wasm'));

  it('trains N models exactly as N single runs (wasm, 100 updates, ≤ 1e-5 relative)', async () => {
    const errors = await compare('wasm', 100);
    for (const e of errors) {
      expect(e.w).toBeLessThanOrEqual(1e-5);
      expect(e.m).toBeLessThanOrEqual(1e-5);
      expect(e.v).toBeLessThanOrEqual(1e-5);
      expect(e.metrics).toBeLessThanOrEqual(1e-5);
    }
  }, 120_000);

  it('trains N models exactly as N single runs (cpu, 8 updates)', async () => {
    const errors = await compare('cpu', 8);
    for (const e of errors) expect(Math.max(e.w, e.m, e.v)).toBeLessThanOrEqual(1e-5);
  }, 120_000);

  it('models are independent: a model trains the same beside any others', async () => {
    await useBackend('wasm');
    const a = new BatchedTrainer([small({ seed: 7 }), small({ seed: 8, lr: 1e-2 })]);
    const b = new BatchedTrainer([small({ seed: 9, weightDecay: 3 }), small({ seed: 7 }), small({ seed: 1, frac: 0.6 })]);
    for (let t = 0; t < 30; t++) {
      a.trainStep();
      b.trainStep();
    }
    const [sa, sb] = [await a.readState(), await b.readState()];
    expect(relErr(sa[0].weights, sb[1].weights)).toBeLessThanOrEqual(1e-6);
    a.dispose();
    b.dispose();
  });

  it('keeps tf.memory().numTensors flat and frees everything on dispose', async () => {
    await useBackend('wasm');
    const before = numTensors();
    const t = new BatchedTrainer(MIXED.map(small));
    t.trainStep();
    const first = t.evaluate();
    await first.data();
    first.dispose();
    const during = numTensors();
    for (let e = 0; e < 50; e++) {
      t.trainStep();
      if (e % 10 === 0) {
        const m = t.evaluate();
        await m.data();
        m.dispose();
      }
    }
    expect(numTensors()).toBe(during);
    t.dispose();
    expect(numTensors()).toBe(before);
  });

  it('continues exactly from a saved state (resume = no interruption)', async () => {
    await useBackend('wasm');
    const configs = [small({ seed: 0 }), small({ seed: 1, grokfastLambda: 0 })];
    const whole = new BatchedTrainer(configs);
    for (let t = 0; t < 20; t++) whole.trainStep();
    const first = new BatchedTrainer(configs);
    for (let t = 0; t < 10; t++) first.trainStep();
    const mid = await first.readState();
    first.dispose();
    const second = new BatchedTrainer(configs);
    second.loadState(mid);
    for (let t = 0; t < 10; t++) second.trainStep();
    const [a, b] = [await whole.readState(), await second.readState()];
    for (let i = 0; i < 2; i++) expect(relErr(b[i].weights, a[i].weights)).toBe(0);
    whole.dispose();
    second.dispose();
  });

  it('trains on the general path off WebGPU, and refuses the fused step there before making a tensor', async () => {
    await useBackend('wasm');
    const t = new BatchedTrainer([small({ seed: 0 })]);
    expect(t.fusedStep).toBe(false);
    t.dispose();
    const before = numTensors();
    expect(() => new BatchedTrainer([small({ seed: 0 })], { fused: true })).toThrow(/webgpu/);
    expect(numTensors()).toBe(before);
  });

  it('refuses models of different shapes, naming the key', () => {
    expect(batchProblem([small({}), small({ dMlp: 32 })])).toMatch(/dMlp/);
    expect(batchProblem([small({ nLayers: 2 })])).toMatch(/1-block/);
    expect(batchProblem([small({}), small({ seed: 3, weightDecay: 0 })])).toBeNull();
    expect(() => new BatchedTrainer([small({}), small({ p: 29 })])).toThrow(/share p/);
  });
});
