/**
 * The page's sweep in the worker (src/worker/sweep/session.ts): runs grouped into batches by shape
 * (and by the memory check), a checkpoint of every run of a batch per interval, each finished run
 * whole (history, snapshots, weights and moments to open and continue it), and a stop that keeps
 * what was trained. Tensors stay flat.
 */
import { describe, expect, it } from 'vitest';
import type { TrainConfig } from '../../src/config/schema.ts';
import { CPU_LIMITS } from '../../src/model/memory.ts';
import { Trainer } from '../../src/model/trainer.ts';
import { unflattenWeights } from '../../src/model/transformer/params.ts';
import { Analyzer } from '../../src/analysis/analyzer.ts';
import { EvidencePass } from '../../src/worker/analysis/evidence-pass.ts';
import type { SweepEvent } from '../../src/run/sweep-protocol.ts';
import { planBatches, runSweep } from '../../src/worker/sweep/session.ts';
import { numTensors, tinyConfig, useBackend } from '../helpers.ts';

/** The §4 evidence of one set of weights, by the single run's code (what `analyze` reports). */
async function evidenceOf(config: TrainConfig, weights: Float32Array, trainIndices: Int32Array, keyFreqs: number[]) {
  const trainer = new Trainer(config, { weights: unflattenWeights(config, weights), trainIndices });
  const analyzer = new Analyzer(trainer.config, trainer.dataset);
  const pass = new EvidencePass(trainer, analyzer);
  const prepared = pass.prepare(20, { epoch: null, ablations: [], pair: null }, keyFreqs);
  const r = prepared.finish((await prepared.tensor.data()) as Float32Array);
  prepared.tensor.dispose();
  [pass, analyzer, trainer].forEach((x) => x.dispose());
  return r;
}

const small = (c: Partial<TrainConfig>): TrainConfig => tinyConfig({ p: 23, dModel: 32, nHeads: 4, dMlp: 64, frac: 0.4, ...c });
const BACKEND = { name: 'wasm' as const, adapter: 'test', requested: null, skipped: [] };

describe('planBatches', () => {
  it('groups runs by shape, in sweep order, at most `batch` a group', () => {
    const configs = [small({ seed: 0 }), small({ dMlp: 128 }), small({ seed: 1 }), small({ seed: 2 }), small({ dMlp: 128, seed: 1 })];
    expect(planBatches(configs, 2, null).batches).toEqual([[0, 2], [3], [1, 4]]);
    expect(planBatches(configs, 8, CPU_LIMITS.wasm).batches).toEqual([[0, 2, 3], [1, 4]]);
  });

  it('refuses a shape that does not fit even alone, naming it', () => {
    const huge = { ...CPU_LIMITS.wasm, maxTensorBytes: 1000 };
    const r = planBatches([small({})], 4, huge);
    expect(r.batches).toEqual([]);
    expect(r.problem).toMatch(/P = 23/);
  });
});

describe('runSweep (wasm)', () => {
  it('trains every run, sends checkpoints of each batch and each run whole, and equals its single run', async () => {
    await useBackend('wasm');
    const configs = [small({ seed: 0, weightDecay: 1 }), small({ seed: 1, weightDecay: 0.3 }), small({ seed: 2, dMlp: 32 })].map((c) => ({ ...c, epochs: 20 }));
    const before = numTensors();
    const events: SweepEvent[] = [];
    const r = await runSweep({ type: 'train', configs, epochs: 20, every: 10, backend: 'wasm', batch: 8, snapshotBudgetBytes: 8 * 1024 * 1024 }, (e) => events.push(e), {
      backend: BACKEND,
      stopped: () => false,
      limits: CPU_LIMITS.wasm,
      yieldToMessages: async () => {},
    });
    expect(r.stopped).toBe(false);
    expect(numTensors()).toBe(before);
    const started = events.find((e) => e.type === 'started');
    expect(started && started.type === 'started' && started.batches).toEqual([[0, 1], [2]]);
    const cps = events.filter((e) => e.type === 'checkpoint');
    // Epochs 0, 10, 20 for each of the two batches.
    expect(cps.map((e) => e.type === 'checkpoint' && `${e.runs.join(',')}@${e.epoch}`)).toEqual(['0,1@0', '0,1@10', '0,1@20', '2@0', '2@10', '2@20']);
    const runs = events.filter((e): e is Extract<SweepEvent, { type: 'run' }> => e.type === 'run');
    expect(runs.map((e) => e.index)).toEqual([0, 1, 2]);
    for (const e of runs) {
      expect(e.history.map((h) => h.epoch)).toEqual([0, 10, 20]);
      expect(e.run.resume?.t).toBe(20);
      expect(e.run.snapshots.at(-1)?.epoch).toBe(20);
      expect(e.run.config).toEqual(configs[e.index]);
      // What the tables over runs take of its final weights (worker/sweep/final.ts): the batched
      // trainer's own last measures, and §4's evidence as the single-run code gives it.
      const last = e.history.at(-1)!;
      expect(e.final, e.finalProblem).not.toBeNull();
      expect(e.final!.epoch).toBe(20);
      expect(e.final!.testLoss).toBeCloseTo(last.testLoss, 4);
      expect(e.final!.testAcc).toBeCloseTo(last.testAcc, 6);
      expect(e.final!.giniWL).toBe(last.giniWL);
      expect(e.final!.keyFreqs).toEqual(e.run.keyFreqs?.active);
      const own = await evidenceOf(e.run.config, e.run.snapshots.at(-1)!.weights, e.run.trainIndices, e.final!.keyFreqs);
      expect(e.final!.lossSkipAblated).toBeCloseTo(own.lossSkipAblated, 5);
      expect(e.final!.lossOnlyKeyFreqs).toBeCloseTo(own.lossOnlyKeyFreqs, 5);
      expect(e.final!.directionFVE).toEqual(own.directionFVE);
    }
    // Run 1 (second of its batch) against its own single run: same weights after 20 updates.
    const single = new Trainer(configs[1]);
    for (let t = 0; t < 20; t++) single.trainStep();
    const st = await single.readState();
    single.dispose();
    const w = runs[1].run.resume!.weights;
    let d = 0;
    let s = 0;
    for (let i = 0; i < w.length; i++) {
      d = Math.max(d, Math.abs(w[i] - st.weights[i]));
      s = Math.max(s, Math.abs(st.weights[i]));
    }
    expect(d / s).toBeLessThan(1e-5);
  });

  it('stops at a checkpoint when asked, and keeps what each run of the batch trained', async () => {
    await useBackend('wasm');
    const configs = [small({ seed: 0 }), small({ seed: 1 }), small({ seed: 2, dMlp: 32 })].map((c) => ({ ...c, epochs: 50 }));
    let checkpoints = 0;
    const events: SweepEvent[] = [];
    const r = await runSweep({ type: 'train', configs, epochs: 50, every: 10, backend: 'wasm', batch: 8, snapshotBudgetBytes: 8 * 1024 * 1024 }, (e) => {
      events.push(e);
      if (e.type === 'checkpoint') checkpoints++;
    }, { backend: BACKEND, stopped: () => checkpoints >= 2, limits: null, yieldToMessages: async () => {} });
    expect(r.stopped).toBe(true);
    const runs = events.filter((e): e is Extract<SweepEvent, { type: 'run' }> => e.type === 'run');
    // The first batch stopped after epoch 10; the second never started.
    expect(runs.map((e) => e.index)).toEqual([0, 1]);
    expect(runs.map((e) => e.history.at(-1)?.epoch)).toEqual([10, 10]);
    expect(runs[0].run.resume?.t).toBe(10);
  });
});
