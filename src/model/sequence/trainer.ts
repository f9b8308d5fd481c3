/**
 * Trains an appendix task (App. D.3) with the mainline's optimizer — AdamW (adamw.ts), lr 1e-3,
 * λ = 1, betas (0.9, 0.98) — on a fixed set of `data` examples or on a fresh batch every update
 * (`data = inf`), and measures it on a fixed test set of fresh examples.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Rng, streamSeed } from '../../random/rng.ts';
import { REPEAT_COPIES, REPEAT_LENGTH, SEQUENCE_TASKS, sequenceTestSet, sliceBatch, type SequenceBatch, type SequenceTaskName } from '../../task/sequence.ts';
import type { SequenceCheckpoint, SequenceRunConfig } from './config.ts';

export { defaultSequenceConfig, type SequenceCheckpoint, type SequenceRunConfig } from './config.ts';
import { AdamW } from '../adamw.ts';
import {
  disposeSequenceTensors,
  sequenceModelOf,
  initSequenceParams,
  positionCorrect,
  positionLosses,
  sequenceForward,
  sequenceLoss,
  sequenceTensors,
  type SequenceModelSpec,
  type SequenceTensors,
} from './forward.ts';

export class SequenceTrainer {
  readonly model: SequenceModelSpec;
  readonly params: Map<string, tf.Variable>;
  private readonly optimizer: AdamW;
  private readonly trainRng: Rng;
  private readonly trainSet: SequenceBatch | null;
  private readonly test: SequenceBatch;
  private readonly testTensors: SequenceTensors;
  epoch = 0;
  private lastLoss = NaN;

  constructor(readonly config: SequenceRunConfig) {
    const spec = SEQUENCE_TASKS[config.task];
    this.model = sequenceModelOf(config.task);
    if (!(config.data > 0)) throw new Error(`data must be a positive number of examples or inf (got ${config.data})`);
    this.params = initSequenceParams(this.model, config.seed);
    this.optimizer = new AdamW(this.params, { lr: config.lr, weightDecay: config.weightDecay, beta1: config.beta1, beta2: config.beta2, eps: 1e-8, warmup: 0 });
    this.trainRng = new Rng(streamSeed(config.seed, 'sequence-train'));
    this.trainSet = Number.isFinite(config.data) ? spec.sample(this.trainRng, config.data) : null;
    this.test = sequenceTestSet(config.task, config.seed, config.testSize);
    this.testTensors = sequenceTensors(this.test, this.model);
  }

  private batches(): SequenceBatch[] {
    const spec = SEQUENCE_TASKS[this.config.task];
    if (!this.trainSet) return [spec.sample(this.trainRng, this.config.batch || spec.batch || 128)];
    const size = this.config.batch > 0 ? this.config.batch : this.trainSet.n;
    const out: SequenceBatch[] = [];
    for (let from = 0; from < this.trainSet.n; from += size) out.push(sliceBatch(this.trainSet, from, Math.min(size, this.trainSet.n - from)));
    return out;
  }

  /** One epoch: a pass over the set in its batches, or one fresh batch with `data = inf`. */
  trainEpoch(): void {
    for (const batch of this.batches()) {
      const s = sequenceTensors(batch, this.model);
      const vars = [...this.params.values()];
      const { value, grads } = tf.variableGrads(() => sequenceLoss(sequenceForward(this.params, this.model, s).logits, s), vars);
      const byName: Record<string, tf.Tensor> = {};
      for (const [name, v] of this.params) byName[name] = grads[v.name];
      this.optimizer.step(byName);
      this.lastLoss = value.dataSync()[0];
      tf.dispose([value, ...Object.values(grads)]);
      disposeSequenceTensors(s);
    }
    this.epoch += 1;
  }

  /** The measures of the current weights on the test set. */
  measure(): SequenceCheckpoint {
    const cp: SequenceCheckpoint = { epoch: this.epoch, trainLoss: this.lastLoss, ...sequenceMeasures(this.params, this.model, this.config.task, this.test, this.testTensors) };
    if (this.epoch === 0 || !Number.isFinite(cp.trainLoss)) cp.trainLoss = this.trainLossNow();
    return cp;
  }

  /** The loss on the training set (the first batch of it), before any update. */
  private trainLossNow(): number {
    const s = sequenceTensors(this.batches()[0], this.model);
    const loss = tf.tidy(() => sequenceLoss(sequenceForward(this.params, this.model, s).logits, s));
    const v = loss.dataSync()[0];
    loss.dispose();
    disposeSequenceTensors(s);
    return v;
  }

  dispose(): void {
    disposeSequenceTensors(this.testTensors);
    tf.dispose([...this.params.values(), this.optimizer.m, this.optimizer.v]);
  }
}

/**
 * The measures of a task's model on a test batch (`testTensors` = sequenceTensors(test)): test loss
 * and per-token accuracy over the counted predictions, and the task's own measure. The trainer's
 * checkpoints and `analyze` of the authors' files (cli/analyze-sequence.ts) both use it.
 */
export function sequenceMeasures(params: Map<string, tf.Tensor>, model: SequenceModelSpec, task: SequenceTaskName, test: SequenceBatch, testTensors: SequenceTensors): Omit<SequenceCheckpoint, 'epoch' | 'trainLoss'> {
  return modelsMeasures(params, model, task, [test], testTensors)[0];
}

/** `sequenceMeasures` of M stacked models (batched.ts), each on its own test batch (`testTensors` = sequenceTensors(tests)). */
export function modelsMeasures(params: Map<string, tf.Tensor>, model: SequenceModelSpec, task: SequenceTaskName, tests: SequenceBatch[], testTensors: SequenceTensors): Omit<SequenceCheckpoint, 'epoch' | 'trainLoss'>[] {
  const out = sequenceForward(params, model, testTensors, task !== 'digits5');
  const losses = positionLosses(out.logits, testTensors);
  const correct = positionCorrect(out.logits, testTensors);
  const lossAll = losses.dataSync();
  const correctAll = correct.dataSync();
  const patternsAll = out.patterns.map((p) => p.dataSync() as Float32Array);
  tf.dispose([out.logits, ...out.patterns, losses, correct]);
  // Model i's rows are the i-th block of every array.
  return tests.map((test, i) => {
    const block = <T extends Float32Array | Int32Array | Uint8Array>(a: T) => a.subarray((i * a.length) / tests.length, ((i + 1) * a.length) / tests.length) as T;
    const lossArr = block(lossAll as Float32Array);
    const correctArr = block(correctAll as Float32Array);
    let sumLoss = 0;
    let sumCorrect = 0;
    for (let j = 0; j < lossArr.length; j++) (sumLoss += lossArr[j]), (sumCorrect += correctArr[j]);
    const count = testTensors.counts[i];
    const m: Omit<SequenceCheckpoint, 'epoch' | 'trainLoss'> = { testLoss: sumLoss / count, testAcc: sumCorrect / count };
    if (task === 'digits5') m.perTokenLoss = perTokenLoss(lossArr, test);
    const patterns = patternsAll.map(block);
    if (task === 'repeat') Object.assign(m, repeatScores(patterns, test));
    if (task === 'skip3') m.specialTokenAttention = specialAttention(patterns[0], test);
    return m;
  });
}

/**
 * A model's measures on `size` fresh problems of `seed` — those a run of that seed tests on (stream
 * 'sequence-test'): `analyze` of the authors' files and the page's appendix-tasks room use it.
 */
export function measureOnFreshProblems(task: SequenceTaskName, params: Map<string, tf.Tensor>, size: number, seed: number): { measures: Omit<SequenceCheckpoint, 'epoch' | 'trainLoss'>; predictionsCounted: number } {
  const model = sequenceModelOf(task);
  const test = sequenceTestSet(task, seed, size);
  const tensors = sequenceTensors(test, model);
  try {
    return { measures: sequenceMeasures(params, model, task, test, tensors), predictionsCounted: tensors.count };
  } finally {
    disposeSequenceTensors(tensors);
  }
}

/** digits5: the mean loss of each of the six answer digits (predicted at positions 11…16). */
function perTokenLoss(losses: ArrayLike<number>, b: SequenceBatch): number[] {
  const sums = new Array<number>(6).fill(0);
  for (let r = 0; r < b.n; r++) for (let j = 0; j < 6; j++) sums[j] += losses[r * b.nCtx + 11 + j];
  return sums.map((x) => x / b.n);
}

/** One layer's attention patterns, flat [N, heads, query, key]; `at(r, h, q, k)` reads one weight. */
type Pattern = Float32Array;
const heads = (layer: Pattern, b: SequenceBatch) => Array.from({ length: layer.length / (b.n * b.nCtx * b.nCtx) }, (_, h) => h);
const reader = (layer: Pattern, b: SequenceBatch, nHeads: number) => (r: number, h: number, q: number, k: number) => layer[((r * nHeads + h) * b.nCtx + q) * b.nCtx + k];

/**
 * repeat (Olsson et al. 2022): the previous-token score is the mean attention from each position
 * q ≥ 1 to q − 1; the induction score the mean attention from a token of copy k ≥ 2 at offset j
 * (0 ≤ j < 15) to offset j + 1 of copy k − 1 — the token after its earlier occurrence.
 */
export function repeatScores(patterns: Pattern[], b: SequenceBatch): { prevTokenScore: number[][]; inductionScore: number[][] } {
  const prevTokenScore = patterns.map((layer) => heads(layer, b).map((h, _, all) => {
    const at = reader(layer, b, all.length);
    let s = 0;
    for (let r = 0; r < b.n; r++) for (let q = 1; q < b.nCtx; q++) s += at(r, h, q, q - 1);
    return s / (b.n * (b.nCtx - 1));
  }));
  const inductionScore = patterns.map((layer) => heads(layer, b).map((h, _, all) => {
    const at = reader(layer, b, all.length);
    let s = 0;
    let n = 0;
    for (let r = 0; r < b.n; r++) {
      const starts = b.copyStarts!.subarray(r * REPEAT_COPIES, (r + 1) * REPEAT_COPIES);
      for (let k = 1; k < REPEAT_COPIES; k++) for (let j = 0; j < REPEAT_LENGTH - 1; j++, n++) s += at(r, h, starts[k] + j, starts[k - 1] + j + 1);
    }
    return s / n;
  }));
  return { prevTokenScore, inductionScore };
}

/** skip3: per head, the mean attention from the last position to the one token ≥ 10. */
export function specialAttention(layer: Pattern, b: SequenceBatch): number[] {
  const last = b.nCtx - 1;
  return heads(layer, b).map((h, _, all) => {
    const at = reader(layer, b, all.length);
    let s = 0;
    for (let r = 0; r < b.n; r++) {
      const o = r * b.nCtx;
      for (let k = 0; k < b.nCtx; k++) if (b.tokens[o + k] >= 10) s += at(r, h, last, k);
    }
    return s / b.n;
  });
}
