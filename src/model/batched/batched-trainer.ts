/**
 * N runs of one model shape trained together: every weight and Adam moment has a leading model
 * axis, and one update of all N is one set of kernels (products per model on wasm and cpu, see
 * batched-ops.ts). The models may differ in everything that keeps the shape: seed (split, init,
 * dropout), task, training fraction or an explicit split, lr, λ, β1, β2, warm-up, dropout, L1 and
 * Grokfast. Each model's training set is its own list of pairs, padded to the longest with loss
 * weight 0 (exact, and cheaper than weighting all P² pairs). Each model then follows exactly the
 * updates its single `Trainer` would (test/model/batched.test.ts: ≤ 1e-5 relative over 100 updates).
 */
import * as tf from '@tensorflow/tfjs-core';
import { dims, type TrainConfig } from '../../config/schema.ts';
import { makeDataset, type Dataset } from '../../task/pairs.ts';
import { oneHotFloat, addAll } from '../transformer/ops.ts';
import { initWeights, paramSpecs, size, type Weights } from '../transformer/params.ts';
import { streamSeed } from '../../random/rng.ts';
import type { TrainerState } from '../trainer.ts';
import { BatchedAdamW } from './batched-adamw.ts';
import { forwardFastBatched, type BatchedPairs } from './batched-forward.ts';
import { crossEntropyPerExampleBatched, weightedCrossEntropy } from './batched-ops.ts';
import { disposeFusedPairs, fusedLossAndGrad, fusedStepFits, type FusedPairs } from '../webgpu/fused-step.ts';
import { fusedAvailable } from '../webgpu/fused.ts';
import { scatterMatrix } from '../webgpu/attention.ts';
import { BatchedModelView } from './model-view.ts';
import { orthogonalGrad } from '../orthograd.ts';
import { constrainNormBatched } from '../weight-norm.ts';
import { EVAL_LENGTH } from '../evaluate.ts';
import { collapsedPerExample, stablemaxPerExample } from '../transformer/stablemax.ts';

/** Fields that fix the tensors' shapes (and the activation and loss kernels): equal across a batch. */
export const SHAPE_KEYS = ['p', 'dModel', 'nHeads', 'dMlp', 'nLayers', 'act', 'vocabOut', 'loss', 'attnRate', 'lossPrecision'] as const satisfies readonly (keyof TrainConfig)[];

/** Why these configurations cannot train as one batch, or null. */
export function batchProblem(configs: TrainConfig[]): string | null {
  if (configs.length === 0) return 'a batch needs at least one model';
  for (const k of SHAPE_KEYS) {
    const values = new Set(configs.map((c) => c[k]));
    if (values.size > 1) return `models trained together must share ${k}; got ${[...values].join(', ')}`;
  }
  if (configs[0].nLayers !== 1) return 'batched training handles 1-block models (the fast forward)';
  return null;
}

export interface BatchedTrainerOptions {
  /** Per model: explicit train pair indices instead of the seeded split. */
  trainIndices?: (ArrayLike<number> | undefined)[];
  /** Per model: starting weights instead of the seeded init. */
  weights?: (Weights | undefined)[];
  /** The fused WebGPU step (fused-step.ts); default: on when the backend is webgpu and every model fits it. */
  fused?: boolean;
}

/** Per model, `[M, 6]` rows as `Trainer.evaluate` (evaluate.ts): losses, accuracies, Σθ², softmax collapse. */
export const EVAL_WIDTH = EVAL_LENGTH;

let nextId = 0;

export class BatchedTrainer {
  readonly configs: TrainConfig[];
  readonly datasets: Dataset[];
  readonly models: number;
  private readonly names: string[];
  private readonly params: tf.Variable[];
  private readonly optimizer: BatchedAdamW;
  private readonly train: BatchedPairs;
  /** Whether updates run the fused WebGPU step (fused-step.ts), and its pairs. */
  readonly fusedStep: boolean;
  private readonly fusedPairs: FusedPairs | null;
  private readonly trainLabels: tf.Tensor3D;
  private readonly trainWeights: tf.Tensor2D;
  private readonly all: BatchedPairs;
  private readonly allLabels: tf.Tensor3D;
  private readonly allLabelIds: tf.Tensor2D;
  /** `[M, P²]` 1 on each model's train pairs. */
  private readonly trainMask: tf.Tensor2D;
  private lastLoss: tf.Tensor1D | null = null;
  private readonly nTrain: number[];

  constructor(configs: TrainConfig[], opts: BatchedTrainerOptions = {}) {
    const problem = batchProblem(configs);
    if (problem) throw new Error(problem);
    // Checked before any tensor is made, so a refusal leaks nothing.
    if (opts.fused && !fusedAvailable()) throw new Error('the fused step needs the webgpu backend');
    this.fusedStep = (opts.fused ?? fusedAvailable()) && configs.every((c) => fusedStepFits(c));
    this.configs = configs.map((c) => ({ ...c }));
    this.models = configs.length;
    const M = this.models;
    const c0 = configs[0];
    const { dVocabOut, nPairs } = dims(c0);
    this.datasets = configs.map((c, i) => makeDataset(c, opts.trainIndices?.[i]));
    this.nTrain = this.datasets.map((d) => d.train.length);
    const specs = paramSpecs(c0);
    const weights = configs.map((c, i) => opts.weights?.[i] ?? initWeights(c));
    for (const [i, w] of weights.entries()) {
      for (const spec of specs) {
        if (!w[spec.name] || w[spec.name].length !== size(spec.shape)) throw new Error(`model ${i}: weight ${spec.name} is missing or not of shape [${spec.shape.join(', ')}]`);
      }
    }
    const id = nextId++;
    this.names = specs.map((s) => s.name);
    this.params = specs.map((spec) => {
      const n = size(spec.shape);
      const flat = new Float32Array(M * n);
      weights.forEach((w, i) => flat.set(w[spec.name], i * n));
      return tf.tidy(() => tf.variable(tf.tensor(flat, [M, ...spec.shape], 'float32'), true, `b${id}/${spec.name}`));
    });
    this.optimizer = new BatchedAdamW(
      this.params,
      M,
      configs.map((c) => ({ lr: c.lr, weightDecay: c.weightDecay, beta1: c.beta1, beta2: c.beta2, eps: 1e-8, warmup: c.warmup })),
      configs.map((c) => ({ alpha: c.grokfastAlpha, lambda: c.grokfastLambda })),
    );

    const nMax = Math.max(...this.nTrain);
    const { dVocab } = dims(c0);
    const build = () => {
      const aIdx: tf.Tensor1D[] = [];
      const bIdx: tf.Tensor1D[] = [];
      const labels: tf.Tensor2D[] = [];
      const w = new Float32Array(M * nMax);
      this.datasets.forEach((d, i) => {
        const a = new Int32Array(nMax);
        const b = new Int32Array(nMax);
        const lab = new Int32Array(nMax);
        for (let k = 0; k < d.train.length; k++) {
          const pair = d.train[k];
          a[k] = Math.floor(pair / c0.p);
          b[k] = pair % c0.p;
          lab[k] = d.labels[pair];
          w[i * nMax + k] = 1 / d.train.length;
        }
        aIdx.push(tf.tensor1d(a, 'int32'));
        bIdx.push(tf.tensor1d(b, 'int32'));
        labels.push(oneHotFloat(tf.tensor1d(lab, 'int32'), dVocabOut));
      });
      const allPairs = new Int32Array(nPairs).map((_, k) => k);
      const allA = tf.tensor1d(allPairs.map((k) => Math.floor(k / c0.p)), 'int32');
      const allB = tf.tensor1d(allPairs.map((k) => k % c0.p), 'int32');
      const ids = new Int32Array(M * nPairs);
      const mask = new Float32Array(M * nPairs);
      this.datasets.forEach((d, i) => {
        ids.set(d.labels, i * nPairs);
        for (const k of d.train) mask[i * nPairs + k] = 1;
      });
      const labelIds = tf.tensor2d(ids, [M, nPairs], 'int32');
      const trainLabels = tf.stack(labels) as tf.Tensor3D;
      const weights = tf.tensor2d(w, [M, nMax]);
      // The lookups as products (general path), or the fused step's pairs and scatter matrices.
      const oneHots = (idx: tf.Tensor1D[]) => tf.stack(idx.map((t) => oneHotFloat(t, dVocab))) as tf.Tensor3D;
      const out = {
        aIdx, bIdx, trainLabels, weights, allA, allB, labelIds,
        aStacked: this.fusedStep ? undefined : oneHots(aIdx),
        bStacked: this.fusedStep ? undefined : oneHots(bIdx),
        fused: this.fusedStep ? fusedPairsOf(aIdx, bIdx, trainLabels, weights, dVocab, c0.p) : undefined,
        allLabels: tf.reshape(oneHotFloat(tf.reshape(labelIds, [-1]) as tf.Tensor1D, dVocabOut), [M, nPairs, dVocabOut]) as tf.Tensor3D,
        mask: tf.tensor2d(mask, [M, nPairs]),
      };
      const f = out.fused;
      for (const t of [...aIdx, ...bIdx, trainLabels, weights, allA, allB, labelIds, out.aStacked, out.bStacked, out.allLabels, out.mask, ...(f ? [f.a, f.b, f.labels, f.weights, f.scatter] : [])]) if (t) tf.keep(t);
      return out;
    };
    // Everything kept is made inside one tidy, so the intermediates of building it are freed.
    const made = tf.tidy(build as unknown as () => tf.TensorContainerObject) as unknown as ReturnType<typeof build>;
    this.train = { n: nMax, a: made.aIdx, b: made.bIdx, aOneHotStacked: made.aStacked, bOneHotStacked: made.bStacked };
    this.fusedPairs = made.fused ?? null;
    this.trainLabels = made.trainLabels;
    this.trainWeights = made.weights;
    this.all = { n: nPairs, a: made.allA, b: made.allB };
    this.allLabels = made.allLabels;
    this.allLabelIds = made.labelIds;
    this.trainMask = made.mask;
  }

  /** Updates applied so far (every model). */
  get epoch(): number {
    return this.optimizer.t;
  }

  /** The batched parameters by TransformerLens name, `[M, …]` (owned by the trainer). */
  get paramTensors(): Record<string, tf.Tensor> {
    return Object.fromEntries(this.names.map((n, i) => [n, this.params[i]]));
  }

  /** Changes model i's lr / λ / λ_g from the next update on (moments kept). */
  setHyper(i: number, h: { lr?: number; weightDecay?: number; grokfastLambda?: number; orthoGrad?: number }): void {
    const hp = this.optimizer.hp[i];
    if (h.lr !== undefined) hp.lr = this.configs[i].lr = h.lr;
    if (h.weightDecay !== undefined) hp.weightDecay = this.configs[i].weightDecay = h.weightDecay;
    if (h.grokfastLambda !== undefined) this.optimizer.grokfast[i].lambda = this.configs[i].grokfastLambda = h.grokfastLambda;
    if (h.orthoGrad !== undefined) this.configs[i].orthoGrad = h.orthoGrad;
  }

  /** Logits `[M, P², d_vocab_out]` of every model on all pairs, in pair-index order. */
  logitsAll(): tf.Tensor3D {
    return forwardFastBatched(this.paramTensors, this.configs[0], this.models, this.all);
  }

  /** One full-batch AdamW update of every model (then Omnigrok's norm, where set); queues work, reads nothing. */
  trainStep(): void {
    this.update();
    constrainNormBatched(this.params, this.configs.map((c) => c.weightNorm));
  }

  private update(): void {
    if (this.fusedPairs) {
      // The hand-written WebGPU step of every model at once: the dispatches of one model's step.
      const { loss, g: raw } = fusedLossAndGrad(this.paramTensors, this.optimizer.flatWeights(), this.configs[0], this.fusedPairs);
      const g = this.orthogonalized(raw);
      this.optimizer.stepFused(g);
      g.dispose();
      this.lastLoss?.dispose();
      this.lastLoss = loss;
      return;
    }
    const epoch = this.epoch;
    const anyL1 = this.configs.some((c) => c.l1 > 0);
    const { value, grads } = tf.variableGrads(() => {
      const mask = this.configs.some((c) => c.dropout > 0) ? this.dropoutMask(epoch) : undefined;
      const logits = forwardFastBatched(this.paramTensors, this.configs[0], this.models, this.train, mask);
      const losses = this.configs[0].loss === 'stablemax' ? this.weightedStablemax(logits) : weightedCrossEntropy(logits, this.trainLabels, this.trainWeights, this.configs[0].lossPrecision);
      let total = losses;
      if (anyL1) {
        const l1 = addAll(this.params.map((p) => tf.sum(tf.reshape(tf.abs(p), [this.models, -1]), 1)));
        total = tf.add(losses, tf.mul(l1, tf.tensor1d(this.configs.map((c) => c.l1))));
      }
      this.lastLoss?.dispose();
      this.lastLoss = tf.keep(losses);
      return tf.sum(total) as tf.Scalar;
    });
    const varNames = this.params.map((p) => p.name);
    const g = this.orthogonalized(this.optimizer.flat(varNames.map((n) => grads[n])));
    tf.dispose(Object.values(grads));
    value.dispose();
    this.optimizer.stepFlat(g);
    g.dispose();
  }

  /** Each model's StableMax loss on its own pairs, `[M]` (padding weighs 0), as `weightedCrossEntropy`. */
  private weightedStablemax(logits: tf.Tensor3D): tf.Tensor1D {
    const [m, n, v] = logits.shape;
    const flat = (t: tf.Tensor3D) => tf.reshape(t, [m * n, v]) as tf.Tensor2D;
    const perExample = tf.reshape(stablemaxPerExample(flat(logits), flat(this.trainLabels)), [m, n]);
    return tf.sum(tf.mul(perExample, this.trainWeights), 1) as tf.Tensor1D;
  }

  /**
   * ⊥Grad (orthograd.ts) on the rows of the models that have it on, `[M, S]`; the others' rows
   * are their gradients exactly (× 1 + 0). `g` is disposed when a new tensor is returned.
   */
  private orthogonalized(g: tf.Tensor2D): tf.Tensor2D {
    const on = this.configs.map((c) => (c.orthoGrad ? 1 : 0));
    if (!on.some((x) => x)) return g;
    const out = tf.tidy(() => {
      const perp = orthogonalGrad(g, this.optimizer.flatWeights(), this.optimizer.sizes);
      if (on.every((x) => x)) return perp;
      const col = tf.tensor2d(on, [this.models, 1]);
      return tf.add(tf.mul(perp, col), tf.mul(g, tf.sub(1, col))) as tf.Tensor2D;
    });
    g.dispose();
    return out;
  }

  /** Each model's inverted-dropout mask `[M, n, d_mlp]`, as its single run draws it (ones on padding). */
  private dropoutMask(epoch: number): tf.Tensor3D {
    return tf.tidy(() => {
      const n = this.train.n;
      const dMlp = this.configs[0].dMlp;
      const rows = this.configs.map((c, i) => {
        const nm = this.nTrain[i];
        if (c.dropout <= 0) return tf.ones([n, dMlp]);
        const keep = 1 - c.dropout;
        const seed = (streamSeed(c.seed, 'dropout') + epoch) >>> 0;
        const m = tf.div(tf.cast(tf.less(tf.randomUniform([nm, dMlp], 0, 1, 'float32', seed), keep), 'float32'), keep);
        return nm === n ? m : tf.concat([m, tf.ones([n - nm, dMlp])], 0);
      });
      return tf.stack(rows) as tf.Tensor3D;
    });
  }

  /** Each model's training loss before the latest update, `[M]`, or null. */
  get lastTrainLoss(): tf.Tensor1D | null {
    return this.lastLoss;
  }

  /** Queues every model's evaluation: `[M, 5]` rows as `Trainer.evaluate`, for one read. */
  evaluate(): tf.Tensor2D {
    return tf.tidy(() => {
      const logits = this.logitsAll();
      const [m, n, v] = logits.shape;
      const flat = (t: tf.Tensor3D) => tf.reshape(t, [m * n, v]) as tf.Tensor2D;
      const stablemax = this.configs[0].loss === 'stablemax';
      const loss = stablemax ? tf.reshape(stablemaxPerExample(flat(logits), flat(this.allLabels)), [m, n]) : crossEntropyPerExampleBatched(logits, this.allLabels); // [M, P²]
      const collapsed = tf.reshape(collapsedPerExample(this.configs[0].loss, flat(logits), flat(this.allLabels)), [m, n]);
      const correct = tf.cast(tf.equal(tf.argMax(logits, 2), this.allLabelIds), 'float32');
      const nTrain = tf.tensor1d(this.nTrain);
      const nTest = tf.tensor1d(this.nTrain.map((n) => this.all.n - n));
      const testMask = tf.sub(1, this.trainMask);
      const sumSq = addAll(this.params.map((p) => tf.sum(tf.reshape(tf.square(p), [this.models, -1]), 1)));
      return tf.stack(
        [
          tf.div(tf.sum(tf.mul(loss, this.trainMask), 1), nTrain),
          tf.div(tf.sum(tf.mul(correct, this.trainMask), 1), nTrain),
          tf.div(tf.sum(tf.mul(loss, testMask), 1), nTest),
          tf.div(tf.sum(tf.mul(correct, testMask), 1), nTest),
          sumSq,
          tf.div(tf.sum(tf.mul(collapsed, this.trainMask), 1), nTrain),
        ],
        1,
      ) as tf.Tensor2D;
    });
  }

  /** Every model's weights flat `[M, S]` (paramSpecs order): one read. */
  flatWeights(): tf.Tensor2D {
    return this.optimizer.flat(this.params);
  }

  /** Parameters per model. */
  get numParams(): number {
    return this.optimizer.size;
  }

  /** Each model's weights and moments (for run files, resuming, branching). */
  async readState(): Promise<TrainerState[]> {
    const all = tf.tidy(() => tf.concat([this.flatWeights(), this.optimizer.m, this.optimizer.v], 1));
    const values = (await all.data()) as Float32Array;
    all.dispose();
    const S = this.numParams;
    const t = this.optimizer.t;
    return this.configs.map((_, i) => {
      const row = values.subarray(i * 3 * S, (i + 1) * 3 * S);
      return { t, weights: row.slice(0, S), m: row.slice(S, 2 * S), v: row.slice(2 * S) };
    });
  }

  /** Continues every model from saved states (weights, moments, one shared update count). */
  loadState(states: TrainerState[]): void {
    const S = this.numParams;
    if (states.length !== this.models) throw new Error(`${states.length} saved states for ${this.models} models`);
    const t = states[0].t;
    const w = new Float32Array(this.models * S);
    const m = new Float32Array(this.models * S);
    const v = new Float32Array(this.models * S);
    states.forEach((s, i) => {
      if (s.weights.length !== S || s.m.length !== S || s.v.length !== S) throw new Error(`model ${i}: the saved state has ${s.weights.length} values, the model has ${S}`);
      if (s.t !== t) throw new Error('models trained together share one update count');
      w.set(s.weights, i * S);
      m.set(s.m, i * S);
      v.set(s.v, i * S);
    });
    tf.tidy(() => {
      const parts = tf.split(tf.tensor2d(w, [this.models, S]), this.params.map((p) => p.size / this.models), 1);
      this.params.forEach((p, i) => p.assign(tf.reshape(parts[i], p.shape)));
    });
    this.optimizer.loadFlat(t, m, v);
  }

  /** Model i as a single model, for the analysis of its checkpoints (model-view.ts). */
  view(i: number): BatchedModelView {
    return new BatchedModelView(this.configs[i], this.datasets[i], () => this.epoch, () => this.sliceModel(i));
  }

  /** Model i's parameters `[…shape]` (new tensors: call inside tf.tidy). */
  private sliceModel(i: number): Record<string, tf.Tensor> {
    return Object.fromEntries(this.names.map((n, k) => {
      const p = this.params[k];
      return [n, tf.reshape(tf.slice(p, [i, ...p.shape.slice(1).map(() => 0)], [1, ...p.shape.slice(1)]), p.shape.slice(1))];
    }));
  }

  dispose(): void {
    this.params.forEach((p) => p.dispose());
    this.optimizer.dispose();
    const t = this.train;
    tf.dispose([...(t.a as tf.Tensor[]), ...(t.b as tf.Tensor[]), ...(t.aOneHotStacked ? [t.aOneHotStacked] : []), ...(t.bOneHotStacked ? [t.bOneHotStacked] : [])]);
    if (this.fusedPairs) disposeFusedPairs(this.fusedPairs);
    tf.dispose([this.trainLabels, this.trainWeights, this.all.a as tf.Tensor, this.all.b as tf.Tensor, this.allLabels, this.allLabelIds, this.trainMask]);
    this.lastLoss?.dispose();
    this.lastLoss = null;
  }
}

/**
 * The fused step's pairs of M models (fused-step.ts): operands `[M, n]`, labels and row weights
 * flat over the models' rows, and each model's scatter matrices stacked `[M·3, V, n]`.
 */
function fusedPairsOf(a: tf.Tensor1D[], b: tf.Tensor1D[], labels: tf.Tensor3D, weights: tf.Tensor2D, dVocab: number, eqToken: number): FusedPairs {
  const [M, n, vOut] = labels.shape;
  const oneHotT = (t: tf.Tensor1D) => tf.transpose(oneHotFloat(t, dVocab)) as tf.Tensor2D;
  return {
    n,
    a: tf.stack(a) as tf.Tensor2D,
    b: tf.stack(b) as tf.Tensor2D,
    labels: tf.reshape(labels, [M * n, vOut]) as tf.Tensor2D,
    weights: tf.reshape(weights, [M * n]) as tf.Tensor1D,
    scatter: tf.concat(a.map((ai, i) => scatterMatrix(oneHotT(ai), oneHotT(b[i]), eqToken))) as tf.Tensor3D,
  };
}
