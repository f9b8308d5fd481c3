import { beforeAll, describe, expect, it } from 'vitest';
import { Trainer } from '../../src/model/trainer.ts';
import { numTensors, tinyConfig, useBackend } from '../helpers.ts';

describe('Trainer', () => {
  beforeAll(() => useBackend('wasm'));

  for (const [name, changes] of [
    ['fast path', {}],
    ['general path, 2 layers', { nLayers: 2 }],
    ['dropout, L1, Grokfast', { dropout: 0.2, l1: 1e-4, grokfastLambda: 2 }],
  ] as const) {
    it(`keeps tf.memory().numTensors flat over 200 epochs: ${name}`, async () => {
      const trainer = new Trainer(tinyConfig(changes));
      trainer.trainStep();
      await trainer.evaluateAsync();
      const before = numTensors();
      for (let e = 0; e < 200; e++) {
        trainer.trainStep();
        if (e % 50 === 0) await trainer.evaluateAsync();
      }
      expect(numTensors()).toBe(before);
      trainer.dispose();
    });
  }

  it('frees everything it made on dispose', () => {
    const before = numTensors();
    const trainer = new Trainer(tinyConfig({ grokfastLambda: 1 }));
    trainer.trainStep();
    trainer.dispose();
    expect(numTensors()).toBe(before);
  });

  it('evaluates epoch 0 at chance level and lowers the training loss', async () => {
    const c = tinyConfig({ lr: 3e-3 });
    const trainer = new Trainer(c);
    const m0 = await trainer.evaluateAsync();
    // Random init: loss near ln(d_vocab_out), accuracy near chance.
    expect(Math.abs(m0.trainLoss - Math.log(c.p + 1))).toBeLessThan(0.5);
    for (let e = 0; e < 100; e++) trainer.trainStep();
    const m = await trainer.evaluateAsync();
    expect(trainer.epoch).toBe(100);
    expect(m.trainLoss).toBeLessThan(m0.trainLoss * 0.7);
    trainer.dispose();
  });

  it("trains with the float32 loss (lossprec=f32, App. D.2) on the high-precision one's path while the loss is large", async () => {
    // Far from p_y ≈ 1 the two gradients are the same floats up to rounding: the runs stay together.
    const high = new Trainer(tinyConfig({ lr: 3e-3, seed: 2 }));
    const f32 = new Trainer(tinyConfig({ lr: 3e-3, seed: 2, lossPrecision: 'f32' }));
    const start = (await f32.evaluateAsync()).trainLoss;
    for (let e = 0; e < 40; e++) {
      high.trainStep();
      f32.trainStep();
    }
    const [mh, mf] = [await high.evaluateAsync(), await f32.evaluateAsync()];
    expect(mf.trainLoss).toBeLessThan(start - 0.1);
    expect(Math.abs(mf.trainLoss - mh.trainLoss)).toBeLessThan(1e-4 * mh.trainLoss);
    high.dispose();
    f32.dispose();
  });

  it.each(['softmax', 'stablemax'] as const)('reports as training loss the loss of the training step (%s)', async (loss) => {
    const trainer = new Trainer(tinyConfig({ loss }));
    const m = await trainer.evaluateAsync();
    trainer.trainStep();
    // The step's loss is that of the weights before it: the evaluated train loss.
    expect(trainer.lastTrainLoss!.dataSync()[0]).toBeCloseTo(m.trainLoss, 5);
    // Softmax collapse is a fraction of the training pairs; none at the init.
    expect(m.softmaxCollapse).toBe(0);
    trainer.dispose();
  });

  it('measures softmax collapse: a λ = 0 run at a high lr collapses under softmax, not under StableMax', async () => {
    const collapse = async (loss: 'softmax' | 'stablemax') => {
      const trainer = new Trainer(tinyConfig({ loss, weightDecay: 0, lr: 0.03, warmup: 0 }));
      for (let e = 0; e < 1000; e++) trainer.trainStep();
      const m = await trainer.evaluateAsync();
      trainer.dispose();
      return m;
    };
    const soft = await collapse('softmax');
    const stable = await collapse('stablemax');
    expect(soft.trainAcc).toBe(1);
    expect(soft.softmaxCollapse).toBeGreaterThan(0.2);
    expect(stable.trainAcc).toBe(1);
    expect(stable.softmaxCollapse).toBe(0);
  }, 60_000);

  it('is deterministic for a seed and honours explicit train indices and weights', async () => {
    const c = tinyConfig({ seed: 9 });
    const a = new Trainer(c);
    const b = new Trainer(c);
    for (let e = 0; e < 5; e++) {
      a.trainStep();
      b.trainStep();
    }
    expect(await a.evaluateAsync()).toEqual(await b.evaluateAsync());
    const weights = await a.readWeights();
    const clone = new Trainer(c, { weights, trainIndices: a.dataset.train });
    expect(Array.from(clone.dataset.train)).toEqual(Array.from(a.dataset.train));
    const mA = await a.evaluateAsync();
    const mC = await clone.evaluateAsync();
    expect(mC.trainLoss).toBeCloseTo(mA.trainLoss, 6);
    expect(mC.testAcc).toBe(mA.testAcc);
    for (const t of [a, b, clone]) t.dispose();
  });

  it('changes lr and λ live without touching the moments', async () => {
    const trainer = new Trainer(tinyConfig());
    for (let e = 0; e < 20; e++) trainer.trainStep();
    trainer.setHyper({ weightDecay: 0, lr: 0 });
    const before = await trainer.readWeights();
    trainer.trainStep();
    const after = await trainer.readWeights();
    // lr 0: nothing moves; the step count still advances.
    expect(Array.from(after['unembed.W_U'])).toEqual(Array.from(before['unembed.W_U']));
    expect(trainer.epoch).toBe(21);
    expect(trainer.hyper).toEqual({ lr: 0, weightDecay: 0, grokfastLambda: 0, orthoGrad: 0 });
    trainer.setHyper({ orthoGrad: 1 });
    expect(trainer.hyper.orthoGrad).toBe(1);
    expect(trainer.config.orthoGrad).toBe(1);
    trainer.dispose();
  });

  it('rejects missing or wrongly sized weights, leaking nothing', async () => {
    const c = tinyConfig();
    const good = await (async () => {
      const t = new Trainer(c);
      const w = await t.readWeights();
      t.dispose();
      return w;
    })();
    const before = numTensors();
    expect(() => new Trainer(c, { weights: { ...good, 'unembed.W_U': new Float32Array(3) } })).toThrow(/unembed.W_U has 3 values/);
    const { ['blocks.0.mlp.b_in']: _, ...missing } = good;
    expect(() => new Trainer(c, { weights: missing })).toThrow(/missing weight blocks.0.mlp.b_in/);
    expect(numTensors()).toBe(before);
  });
});
