/**
 * A sweep of an appendix task (App. D.3) over seeds and data sizes. On a GPU it trains batched: the
 * M models' parameters stacked along a leading axis, one forward and one update for all of them.
 * The loss is the sum of the models' own mean losses, so each model's gradient is its own, and
 * AdamW is elementwise, so every model trains exactly as alone (trainer.ts; checked in its test).
 * Each model has its own seeded weights, training set (or fresh batches) and test set, as alone; a
 * smaller set's batch is padded with rows that count for nothing. On the CPU backends the models
 * train one after another: tfjs-wasm's batched product does not use XNNPACK and is ~9× slower than
 * the products one by one ([4, 4096, 48]·[4, 48, 48]: 33 ms against 3.9 ms), which made a stacked
 * update of 4 skip3 models 3.1× slower than the 4 alone.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Rng, streamSeed } from '../../random/rng.ts';
import { SEQUENCE_TASKS, sequenceTestSet, sliceBatch, type SequenceBatch } from '../../task/sequence.ts';
import { AdamW } from '../adamw.ts';
import type { SequenceCheckpoint, SequenceRunConfig } from './config.ts';
import { disposeSequenceTensors, initSequenceParams, modelLosses, sequenceForward, sequenceModelOf, sequenceTensors, type SequenceModelSpec, type SequenceTensors } from './forward.ts';
import { SequenceTrainer, modelsMeasures } from './trainer.ts';

/** What varies between the models of a sweep. */
export interface SequenceSweepPoint {
  seed: number;
  /** Training examples; Infinity: fresh every update (then for every model). */
  data: number;
}

/** `b` with rows added to `n`, each counting for nothing (weights 0). */
function padded(b: SequenceBatch, n: number): SequenceBatch {
  if (b.n === n) return b;
  const out: SequenceBatch = { n, nCtx: b.nCtx, tokens: new Int32Array(n * b.nCtx), targets: new Int32Array(n * b.nCtx), weights: new Float32Array(n * b.nCtx) };
  out.tokens.set(b.tokens);
  out.targets.set(b.targets);
  out.weights.set(b.weights);
  return out;
}

/** Whether points can share one stacked update: all fresh or all fixed, the same batches an epoch. */
export function stackingProblem(base: SequenceRunConfig, points: SequenceSweepPoint[]): string | null {
  const fresh = points.filter((p) => !Number.isFinite(p.data)).length;
  if (fresh > 0 && fresh < points.length) return 'fresh data (inf) and fixed sets cannot train in one batched update';
  const size = base.batch > 0 ? base.batch : 0;
  if (size > 0 && fresh === 0 && new Set(points.map((p) => Math.ceil(p.data / size))).size > 1) {
    return `with batches of ${size}, the data sizes make different numbers of batches an epoch (${points.map((p) => `${p.data}: ${Math.ceil(p.data / size)}`).join(', ')})`;
  }
  return null;
}

/**
 * The sweep's runs, trained stacked (`SequenceStack`) where that is one update for all on a GPU,
 * else one after another (`SequenceTrainer` each); the same checkpoints either way.
 */
export class SequenceSweepTrainer {
  readonly layout: 'stacked' | 'one by one';
  private readonly stack: SequenceStack | null;
  private readonly alone: SequenceTrainer[];

  constructor(base: SequenceRunConfig, points: SequenceSweepPoint[], opts: { stacked?: boolean } = {}) {
    if (points.length === 0) throw new Error('a sweep needs at least one run');
    if (points.some((p) => !(p.data > 0))) throw new Error('every data size must be a positive number of examples or inf');
    const gpu = ['webgpu', 'webgl'].includes(tf.getBackend());
    const stacked = (opts.stacked ?? gpu) && points.length > 1 && stackingProblem(base, points) === null;
    this.layout = stacked ? 'stacked' : 'one by one';
    this.stack = stacked ? new SequenceStack(base, points) : null;
    this.alone = stacked ? [] : points.map((p) => new SequenceTrainer({ ...base, seed: p.seed, data: p.data }));
  }

  get epoch(): number {
    return this.stack?.epoch ?? this.alone[0].epoch;
  }

  trainEpoch(): void {
    if (this.stack) this.stack.trainEpoch();
    else for (const t of this.alone) t.trainEpoch();
  }

  measure(): SequenceCheckpoint[] {
    return this.stack ? this.stack.measure() : this.alone.map((t) => t.measure());
  }

  dispose(): void {
    this.stack?.dispose();
    for (const t of this.alone) t.dispose();
  }
}

/** M models stacked along a leading axis, one update for all. */
export class SequenceStack {
  readonly model: SequenceModelSpec;
  /** Stacked [M, ...] by parameter name. */
  readonly params: Map<string, tf.Variable>;
  private readonly optimizer: AdamW;
  private readonly rngs: Rng[];
  private readonly trainSets: (SequenceBatch | null)[];
  private readonly tests: SequenceBatch[];
  private readonly testTensors: SequenceTensors;
  epoch = 0;
  private lastLosses: number[] = [];

  constructor(
    readonly base: SequenceRunConfig,
    readonly points: SequenceSweepPoint[],
  ) {
    const spec = SEQUENCE_TASKS[base.task];
    this.model = sequenceModelOf(base.task);
    const problem = stackingProblem(base, points);
    if (problem) throw new Error(problem);
    this.rngs = points.map((p) => new Rng(streamSeed(p.seed, 'sequence-train')));
    this.trainSets = points.map((p, i) => (Number.isFinite(p.data) ? spec.sample(this.rngs[i], p.data) : null));
    this.tests = points.map((p) => sequenceTestSet(base.task, p.seed, base.testSize));
    this.testTensors = sequenceTensors(this.tests, this.model);
    // Each model's own seeded initial weights (as alone), stacked.
    const singles = points.map((p) => initSequenceParams(this.model, p.seed));
    this.params = new Map([...singles[0].keys()].map((name) => [name, tf.tidy(() => tf.variable(tf.stack(singles.map((m) => m.get(name)!)), true))]));
    for (const m of singles) tf.dispose([...m.values()]);
    this.optimizer = new AdamW(this.params, { lr: base.lr, weightDecay: base.weightDecay, beta1: base.beta1, beta2: base.beta2, eps: 1e-8, warmup: 0 });
  }

  /** Each update's batch of every model, the models' batches padded to one size. */
  private updates(): SequenceBatch[][] {
    const spec = SEQUENCE_TASKS[this.base.task];
    const perModel = this.points.map((_, i) => {
      const set = this.trainSets[i];
      if (!set) return [spec.sample(this.rngs[i], this.base.batch || spec.batch || 128)];
      const size = this.base.batch > 0 ? this.base.batch : set.n;
      const out: SequenceBatch[] = [];
      for (let from = 0; from < set.n; from += size) out.push(sliceBatch(set, from, Math.min(size, set.n - from)));
      return out;
    });
    return perModel[0].map((_, u) => {
      const group = perModel.map((batches) => batches[u]);
      const n = Math.max(...group.map((b) => b.n));
      return group.map((b) => padded(b, n));
    });
  }

  /** One epoch of every model: a pass over its set in its batches, or one fresh batch. */
  trainEpoch(): void {
    for (const group of this.updates()) {
      const s = sequenceTensors(group, this.model);
      const vars = [...this.params.values()];
      let perModel: tf.Tensor1D | null = null;
      const { value, grads } = tf.variableGrads(() => {
        const losses = modelLosses(sequenceForward(this.params, this.model, s).logits, s);
        perModel = tf.keep(losses);
        return tf.sum(losses) as tf.Scalar;
      }, vars);
      const byName: Record<string, tf.Tensor> = {};
      for (const [name, v] of this.params) byName[name] = grads[v.name];
      this.optimizer.step(byName);
      this.lastLosses = Array.from(perModel!.dataSync());
      tf.dispose([value, perModel!, ...Object.values(grads)]);
      disposeSequenceTensors(s);
    }
    this.epoch += 1;
  }

  /** Every model's measures on its own test set; the train loss is its last update's. */
  measure(): SequenceCheckpoint[] {
    if (this.epoch === 0 || this.lastLosses.length === 0) this.lastLosses = this.lossesNow();
    return modelsMeasures(this.params, this.model, this.base.task, this.tests, this.testTensors).map((m, i) => ({ epoch: this.epoch, trainLoss: this.lastLosses[i], ...m }));
  }

  /** Each model's loss on its first batch, before any update. */
  private lossesNow(): number[] {
    const s = sequenceTensors(this.updates()[0], this.model);
    const losses = tf.tidy(() => modelLosses(sequenceForward(this.params, this.model, s).logits, s));
    const out = Array.from(losses.dataSync());
    losses.dispose();
    disposeSequenceTensors(s);
    return out;
  }

  dispose(): void {
    disposeSequenceTensors(this.testTensors);
    tf.dispose([...this.params.values(), this.optimizer.m, this.optimizer.v]);
  }
}
