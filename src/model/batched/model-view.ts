/**
 * One model of a batch seen as a single model: its configuration, split, epoch, and its slice of
 * the batched weights, with the single run's forward and evaluation. The worker's RunAnalysis
 * measures it exactly as it measures a `Trainer` (the paper's §5 measures of every run of a sweep).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { TrainConfig } from '../../config/schema.ts';
import type { Dataset } from '../../task/pairs.ts';
import { forwardFast } from '../transformer/fast.ts';
import { disposePairBatch, makePairBatch, type ForwardOptions, type PairBatch, type Params } from '../transformer/forward.ts';
import { evaluateLogits } from '../evaluate.ts';
import { numParams } from '../transformer/params.ts';

export class BatchedModelView {
  private allBatch: PairBatch | null = null;
  private trainMask: tf.Tensor1D | null = null;

  constructor(
    readonly config: TrainConfig,
    readonly dataset: Dataset,
    private readonly epochOf: () => number,
    /** The model's parameters as new tensors (call inside tf.tidy). */
    private readonly slice: () => Params,
  ) {}

  get epoch(): number {
    return this.epochOf();
  }

  /** The model's current parameters: new tensors each time, so only inside tf.tidy. */
  get paramTensors(): Params {
    return this.slice();
  }

  get flatWeightsLength(): number {
    return numParams(this.config);
  }

  private batch(): { all: PairBatch; mask: tf.Tensor1D } {
    if (!this.allBatch || !this.trainMask) {
      const c = this.config;
      const all = new Int32Array(c.p * c.p).map((_, i) => i);
      this.allBatch = makePairBatch(c, all, this.dataset.labels, false);
      const mask = new Float32Array(c.p * c.p);
      for (const i of this.dataset.train) mask[i] = 1;
      this.trainMask = tf.keep(tf.tensor1d(mask));
    }
    return { all: this.allBatch, mask: this.trainMask };
  }

  logitsAll(opts: ForwardOptions = {}, params?: Params): tf.Tensor2D {
    return tf.tidy(() => forwardFast(params ?? this.paramTensors, this.config, this.batch().all, opts));
  }

  flatWeights(): tf.Tensor1D {
    return tf.tidy(() => tf.concat(Object.values(this.paramTensors).map((p) => tf.reshape(p, [-1]))) as tf.Tensor1D);
  }

  /** As `Trainer.evaluate` (evaluate.ts). */
  evaluate(logits?: tf.Tensor2D, params?: Params): tf.Tensor1D {
    return tf.tidy(() => {
      const { all: batch, mask } = this.batch();
      const ps = params ?? this.paramTensors;
      return evaluateLogits(logits ?? this.logitsAll({}, ps), Object.values(ps), {
        loss: this.config.loss,
        labelsOneHot: batch.labelsOneHot,
        labelIds: batch.labelIds,
        trainMask: mask,
        nTrain: this.dataset.train.length,
        nTest: this.dataset.test.length,
      });
    });
  }

  dispose(): void {
    if (this.allBatch) disposePairBatch(this.allBatch);
    this.trainMask?.dispose();
    this.allBatch = null;
    this.trainMask = null;
  }
}
