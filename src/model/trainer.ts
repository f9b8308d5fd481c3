/**
 * One training run on the active tfjs backend: parameters, AdamW state, data, and the two
 * things a loop needs — `trainStep` (one full-batch update, no GPU read) and `evaluate`
 * (a small tensor of metrics to read back asynchronously). Used unchanged by the Web Worker,
 * the CLI and the tests.
 */
import * as tf from '@tensorflow/tfjs-core';
import { dims, type TrainConfig } from '../config/schema.ts';
import { AdamW, GrokfastEma } from './adamw.ts';
import { orthogonalGrad } from './orthograd.ts';
import { constrainNorm } from './weight-norm.ts';
import { makeDataset, type Dataset } from '../task/pairs.ts';
import { taskSpec } from '../task/registry.ts';
import { forwardFast } from './transformer/fast.ts';
import { disposeFusedBatch, fusedLossAndGradSingle, fusedStepFits } from './webgpu/fused-step.ts';
import { defaultForwardPath, type ForwardPath } from './transformer/forward-path.ts';
import { disposePairBatch, forwardGeneral, makePairBatch, type ForwardOptions, type PairBatch, type Params } from './transformer/forward.ts';
import { accuracy, addAll, crossEntropyMean } from './transformer/ops.ts';
import { lossMean } from './transformer/stablemax.ts';
import { evaluateLogits, toEvalMetrics, type EvalMetrics } from './evaluate.ts';
import { initWeights, paramSpecs, size, type Weights } from './transformer/params.ts';
import { streamSeed } from '../random/rng.ts';
import { Rollback } from './rollback.ts';
import { crossEntropyMeanFused, fusedAvailable } from './webgpu/fused.ts';

export type { ForwardPath } from './transformer/forward-path.ts';
export { toEvalMetrics, type EvalMetrics } from './evaluate.ts';

/** Everything needed to continue a run exactly: weights and Adam moments, flat in paramSpecs order. */
export interface TrainerState {
  /** Updates applied (the optimizer's t): training continues with update `t`. */
  t: number;
  weights: Float32Array;
  m: Float32Array;
  v: Float32Array;
}

export interface TrainerOptions {
  /** Explicit train pair indices (an imported run's split) instead of the seeded split. */
  trainIndices?: ArrayLike<number>;
  /** Starting weights by TransformerLens name instead of the seeded init. */
  weights?: Weights;
  /** Forward implementation; default: fast for 1 block, general otherwise. */
  forward?: ForwardPath;
  /** Fused WebGPU kernels for the update (webgpu/fused.ts); default: on when the backend is webgpu. */
  fused?: boolean;
}

/** The live-changeable hyperparameters. */
export interface LiveHyper {
  lr: number;
  weightDecay: number;
  grokfastLambda: number;
  /** ⊥Grad on (1) or off (0). */
  orthoGrad: number;
}

let nextTrainerId = 0;

export class Trainer {
  readonly config: TrainConfig;
  readonly dataset: Dataset;
  readonly path: ForwardPath;
  /** Whether updates run the fused WebGPU kernels. */
  readonly fused: boolean;
  /** Updates applied so far: the weights are those after `epoch` epochs. */
  get epoch(): number {
    return this.optimizer.t;
  }

  private readonly params = new Map<string, tf.Variable>();
  /** tfjs variable names are global: map ours (unique per trainer) back to TransformerLens names. */
  private readonly nameOfVar = new Map<string, string>();
  private readonly optimizer: AdamW;
  private grokfast: GrokfastEma | null = null;
  private readonly trainBatch: PairBatch;
  private readonly allBatch: PairBatch;
  /** `[P²]` 1 on train pairs, 0 on test pairs. */
  private readonly trainMask: tf.Tensor1D;
  private lastLoss: tf.Scalar | null = null;
  private readonly rollback = new Rollback();

  constructor(config: TrainConfig, opts: TrainerOptions = {}) {
    this.config = { ...config };
    const family = taskSpec(config.task).family;
    if (family !== 'pair-transformer') throw new Error(`the task ${config.task} trains a ${family}, which this trainer does not build`);
    this.dataset = makeDataset(config, opts.trainIndices);
    this.path = opts.forward ?? defaultForwardPath(config);
    this.fused = opts.fused ?? fusedAvailable();
    if (this.fused && !fusedAvailable()) throw new Error('the fused step needs the webgpu backend');
    if (this.path === 'fast' && config.nLayers !== 1) throw new Error('the fast forward needs a 1-block model');
    const id = nextTrainerId++;
    const weights = opts.weights ?? initWeights(config);
    const specs = paramSpecs(config);
    // Check everything before making any tensor, so a bad input leaks nothing.
    for (const spec of specs) {
      const w = weights[spec.name];
      if (!w) throw new Error(`missing weight ${spec.name}`);
      if (w.length !== size(spec.shape)) {
        throw new Error(`weight ${spec.name} has ${w.length} values, expected shape [${spec.shape.join(', ')}]`);
      }
    }
    for (const spec of specs) {
      const w = weights[spec.name];
      const varName = `t${id}/${spec.name}`;
      this.params.set(spec.name, tf.tidy(() => tf.variable(tf.tensor(w, spec.shape, 'float32'), true, varName)));
      this.nameOfVar.set(varName, spec.name);
    }
    this.optimizer = new AdamW(this.params, {
      lr: config.lr,
      weightDecay: config.weightDecay,
      beta1: config.beta1,
      beta2: config.beta2,
      eps: 1e-8,
      warmup: config.warmup,
    });
    if (config.grokfastLambda > 0) this.grokfast = new GrokfastEma(config.grokfastAlpha, config.grokfastLambda);
    const all = new Int32Array(config.p * config.p).map((_, i) => i);
    this.trainBatch = makePairBatch(config, this.dataset.train, this.dataset.labels, true);
    this.allBatch = makePairBatch(config, all, this.dataset.labels, false);
    const mask = new Float32Array(config.p * config.p);
    for (const i of this.dataset.train) mask[i] = 1;
    this.trainMask = tf.tensor1d(mask);
  }

  /** The parameters as tensors by TransformerLens name (owned by the trainer: do not dispose). */
  get paramTensors(): Params {
    return Object.fromEntries(this.params);
  }

  get hyper(): LiveHyper {
    return { lr: this.optimizer.hp.lr, weightDecay: this.optimizer.hp.weightDecay, grokfastLambda: this.grokfast?.lambda ?? 0, orthoGrad: this.config.orthoGrad };
  }

  /** Changes lr / λ / λ_g / ⊥Grad from the next update on; the Adam moments are kept. */
  setHyper(h: Partial<LiveHyper>): void {
    if (h.lr !== undefined) this.optimizer.hp.lr = h.lr;
    if (h.weightDecay !== undefined) this.optimizer.hp.weightDecay = h.weightDecay;
    if (h.grokfastLambda !== undefined) {
      if (h.grokfastLambda > 0 && !this.grokfast) this.grokfast = new GrokfastEma(this.config.grokfastAlpha, h.grokfastLambda);
      else if (this.grokfast) this.grokfast.lambda = h.grokfastLambda;
    }
    this.config.lr = this.optimizer.hp.lr;
    this.config.weightDecay = this.optimizer.hp.weightDecay;
    this.config.grokfastLambda = h.grokfastLambda ?? this.config.grokfastLambda;
    if (h.orthoGrad !== undefined) this.config.orthoGrad = h.orthoGrad;
  }

  /** Logits at the last position, `[N, d_vocab_out]`, of the current weights or of `params`. */
  forward(batch: PairBatch, opts: ForwardOptions = {}, params: Params = this.paramTensors): tf.Tensor2D {
    return this.path === 'fast' ? forwardFast(params, this.config, batch, opts) : forwardGeneral(params, this.config, batch, opts);
  }

  /**
   * One full-batch AdamW update (update number `epoch`). Queues GPU work and returns without
   * reading anything back; the loss of the weights before the update is kept in `lastLoss`.
   */
  trainStep(): void {
    this.update();
    // Omnigrok: back onto the sphere ‖θ‖₂ = R after every update.
    if (this.config.weightNorm > 0) constrainNorm([...this.params.values()], this.config.weightNorm);
  }

  private update(): void {
    const c = this.config;
    const epoch = this.epoch;
    const gf = this.grokfast && this.grokfast.lambda > 0 ? this.grokfast : null;
    if (this.fused && this.path === 'fast' && fusedStepFits(c, this.trainBatch)) {
      // The hand-written step (fused-step.ts): the gradient comes out flat, as AdamW takes it.
      const { loss, g: raw } = fusedLossAndGradSingle(this.paramTensors, this.optimizer.flatWeights(), c, this.trainBatch);
      const g = this.orthogonalized(raw);
      this.optimizer.stepFused(g, gf ? { mu: gf.advanceFused(g), lambda: gf.lambda } : undefined);
      g.dispose();
      this.lastLoss?.dispose();
      this.lastLoss = loss;
      return;
    }
    const { value, grads } = tf.variableGrads(() => {
      const opts: ForwardOptions = {};
      if (c.dropout > 0) opts.dropoutMasks = this.dropoutMasks(epoch);
      const logits = this.forward(this.trainBatch, opts);
      // The fused kernel computes the high-precision gradient; the f32 one (App. D.2) is crossEntropyMean's.
      const softmaxMean = this.fused && c.lossPrecision !== 'f32'
        ? crossEntropyMeanFused
        : (l: tf.Tensor2D, y: tf.Tensor2D) => crossEntropyMean(l, y, c.lossPrecision);
      let loss = lossMean(c.loss, logits, this.trainBatch.labelsOneHot, softmaxMean);
      if (c.l1 > 0) {
        const l1 = addAll([...this.params.values()].map((p) => tf.sum(tf.abs(p))));
        loss = tf.add(loss, tf.mul(l1, c.l1));
      }
      return loss;
    });
    const byName: Record<string, tf.Tensor> = {};
    for (const [varName, g] of Object.entries(grads)) byName[this.nameOfVar.get(varName)!] = g;
    if (this.fused && !gf && !c.orthoGrad) this.optimizer.stepFusedByName(byName);
    else {
      const g = this.orthogonalized(this.optimizer.flatGrads(byName));
      if (this.fused) this.optimizer.stepFused(g, { mu: gf!.advanceFused(g), lambda: gf!.lambda });
      else if (gf) {
        const filtered = gf.filter(g);
        this.optimizer.stepFlat(filtered as tf.Tensor1D);
        filtered.dispose();
      } else this.optimizer.stepFlat(g);
      g.dispose();
    }
    tf.dispose(Object.values(grads));
    this.lastLoss?.dispose();
    this.lastLoss = value;
  }

  /**
   * With ⊥Grad on, the flat gradient made orthogonal to each weight tensor (orthograd.ts), on the
   * weights before the update; `g` is disposed. Without, `g` itself. Grokfast then filters this.
   */
  private orthogonalized(g: tf.Tensor1D): tf.Tensor1D {
    if (!this.config.orthoGrad) return g;
    const out = orthogonalGrad(g, this.optimizer.flatWeights(), this.optimizer.sizes);
    g.dispose();
    return out;
  }

  /** Inverted dropout on MLP neurons, seeded by (seed, epoch) so a run is repeatable. */
  private dropoutMasks(epoch: number): tf.Tensor[] {
    const c = this.config;
    const shape = this.path === 'fast' ? [this.trainBatch.n, c.dMlp] : [this.trainBatch.n, 3, c.dMlp];
    const keep = 1 - c.dropout;
    const seed = (streamSeed(c.seed, 'dropout') + epoch) >>> 0;
    return Array.from({ length: c.nLayers }, (_, l) =>
      tf.tidy(() => tf.div(tf.cast(tf.less(tf.randomUniform(shape, 0, 1, 'float32', seed + l * 7919), keep), 'float32'), keep)),
    );
  }

  /** The training loss of the weights before the latest update (a scalar tensor), or null. */
  get lastTrainLoss(): tf.Scalar | null {
    return this.lastLoss;
  }

  /**
   * Last-position logits of all P² pairs in pair-index order, `[P², d_vocab_out]`, of the current
   * weights or of other `params` of the same model (a snapshot).
   */
  logitsAll(opts: ForwardOptions = {}, params?: Params): tf.Tensor2D {
    return this.forward(this.allBatch, opts, params);
  }

  /** Number of values `flatWeights` returns (the parameter count). */
  get flatWeightsLength(): number {
    let n = 0;
    for (const p of this.params.values()) n += p.size;
    return n;
  }

  /** Every parameter flattened and concatenated in `paramSpecs` order, `[numParams]`: one read. */
  flatWeights(): tf.Tensor1D {
    return tf.tidy(() => tf.concat([...this.params.values()].map((p) => tf.reshape(p, [-1]))) as tf.Tensor1D);
  }

  /**
   * Queues the evaluation of the current weights (or of `params`, e.g. a snapshot; then from its
   * `logits` if given) and returns it as one tensor (evaluate.ts: losses, accuracies, Σθ², softmax
   * collapse) for a single asynchronous read.
   */
  evaluate(logits?: tf.Tensor2D, params: Params = this.paramTensors): tf.Tensor1D {
    return tf.tidy(() =>
      evaluateLogits(logits ?? this.logitsAll({}, params), Object.values(params), {
        loss: this.config.loss,
        labelsOneHot: this.allBatch.labelsOneHot,
        labelIds: this.allBatch.labelIds,
        trainMask: this.trainMask,
        nTrain: this.dataset.train.length,
        nTest: this.dataset.test.length,
      }),
    );
  }

  /** `evaluate` and read it back. */
  async evaluateAsync(): Promise<EvalMetrics> {
    const t = this.evaluate();
    try {
      return toEvalMetrics(await t.data());
    } finally {
      t.dispose();
    }
  }

  /** Train accuracy of the current weights on the train batch (for tests). */
  trainAccuracy(): tf.Scalar {
    return tf.tidy(() => accuracy(this.forward(this.trainBatch), this.trainBatch.labelIds));
  }

  /** Host copies of every parameter by TransformerLens name. */
  async readWeights(): Promise<Weights> {
    const out: Weights = {};
    for (const [name, p] of this.params) out[name] = (await p.data()) as Float32Array;
    return out;
  }

  /** Optimizer state for persistence (Adam moments and update count). */
  readOptimizerState() {
    return this.optimizer.readState();
  }

  loadOptimizerState(state: Parameters<AdamW['loadState']>[0]): void {
    this.optimizer.loadState(state);
  }

  /** Weights and Adam moments in one read, to save the run or move it to another backend. */
  async readState(): Promise<TrainerState> {
    const all = tf.tidy(() => tf.concat([this.flatWeights(), this.optimizer.m, this.optimizer.v]));
    const t = this.optimizer.t;
    const values = (await all.data()) as Float32Array;
    all.dispose();
    const n = this.flatWeightsLength;
    return { t, weights: values.slice(0, n), m: values.slice(n, 2 * n), v: values.slice(2 * n, 3 * n) };
  }

  /** Continues from a saved state (weights, moments and update count). */
  loadState(state: TrainerState): void {
    const n = this.flatWeightsLength;
    if (state.weights.length !== n || state.m.length !== n || state.v.length !== n) {
      throw new Error(`the saved state has ${state.weights.length} values, the model has ${n}`);
    }
    let o = 0;
    tf.tidy(() => {
      for (const p of this.params.values()) {
        p.assign(tf.tensor(state.weights.subarray(o, o + p.size), p.shape));
        o += p.size;
      }
    });
    this.optimizer.loadFlat(state.t, state.m, state.v);
    this.grokfast?.dispose();
    this.grokfast = this.config.grokfastLambda > 0 ? new GrokfastEma(this.config.grokfastAlpha, this.config.grokfastLambda) : null;
  }

  /** Test hook: makes the weights NaN, as a diverged run would. */
  poison(): void {
    tf.tidy(() => {
      for (const p of this.params.values()) p.assign(tf.fill(p.shape, NaN));
    });
  }

  /** Starts counting updates at `t` (continuing from a snapshot without its Adam moments). */
  setEpoch(t: number): void {
    this.optimizer.t = t;
  }

  /**
   * Copies the weights and moments on the device (no read): a candidate to roll back to, confirmed
   * by `confirmGood` once its metrics came back finite (§ fault handling: NaN keeps the last good).
   */
  markCandidate(): void {
    const tensors = [...[...this.params.values()].map((p) => tf.clone(p)), tf.clone(this.optimizer.m), tf.clone(this.optimizer.v)];
    this.rollback.mark({ t: this.optimizer.t, tensors });
  }

  confirmGood(): void {
    this.rollback.confirm();
  }

  /** Rolls back to the last confirmed state; returns its epoch, or null if there is none. */
  restoreGood(): number | null {
    const good = this.rollback.last;
    if (!good) return null;
    const kept = good.tensors;
    tf.tidy(() => [...this.params.values()].forEach((p, i) => p.assign(kept[i])));
    this.optimizer.loadFlat(good.t, kept[kept.length - 2], kept[kept.length - 1]);
    this.grokfast?.dispose();
    this.grokfast = this.config.grokfastLambda > 0 ? new GrokfastEma(this.config.grokfastAlpha, this.config.grokfastLambda) : null;
    this.lastLoss?.dispose();
    this.lastLoss = null;
    return good.t;
  }

  get numTrain(): number {
    return this.dataset.train.length;
  }

  get dims() {
    return dims(this.config);
  }

  dispose(): void {
    for (const p of this.params.values()) p.dispose();
    this.optimizer.dispose();
    this.grokfast?.dispose();
    disposeFusedBatch(this.trainBatch);
    disposePairBatch(this.trainBatch);
    disposePairBatch(this.allBatch);
    this.trainMask.dispose();
    this.lastLoss?.dispose();
    this.lastLoss = null;
    this.rollback.dispose();
  }
}
