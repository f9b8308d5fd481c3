/**
 * One evaluation of a model's logits on all P² pairs, as one tensor for a single read: the
 * run's loss (softmax or StableMax cross-entropy, as it trains) and accuracy on the train and
 * the test pairs, Σ θ² (§5.8), and the softmax-collapse fraction of the training pairs (SC,
 * Prieto et al. 2025). `Trainer.evaluate` and the batched model view share it.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { LossKind } from '../config/schema.ts';
import { addAll } from './transformer/ops.ts';
import { collapsedPerExample, lossPerExample } from './transformer/stablemax.ts';

/** Values `evaluate` returns, in this order. */
export const EVAL_FIELDS = ['trainLoss', 'trainAcc', 'testLoss', 'testAcc', 'sumSquaredWeights', 'softmaxCollapse'] as const;
export const EVAL_LENGTH = EVAL_FIELDS.length;

/** What one evaluation reads back, all on the current weights. */
export type EvalMetrics = Record<(typeof EVAL_FIELDS)[number], number>;

export function toEvalMetrics(v: ArrayLike<number>): EvalMetrics {
  return Object.fromEntries(EVAL_FIELDS.map((k, i) => [k, v[i]])) as EvalMetrics;
}

export interface EvalInputs {
  loss: LossKind;
  /** `[P², d_vocab_out]` one-hot labels and `[P²]` label ids, pair-index order. */
  labelsOneHot: tf.Tensor2D;
  labelIds: tf.Tensor1D;
  /** `[P²]` 1 on train pairs. */
  trainMask: tf.Tensor1D;
  nTrain: number;
  nTest: number;
}

/** `[EVAL_LENGTH]` of `logits` `[P², d_vocab_out]` and the parameters they came from. */
export function evaluateLogits(all: tf.Tensor2D, params: tf.Tensor[], e: EvalInputs): tf.Tensor1D {
  return tf.tidy(() => {
    const loss = lossPerExample(e.loss, all, e.labelsOneHot);
    const correct = tf.cast(tf.equal(tf.argMax(all, 1), e.labelIds), 'float32');
    const testMask = tf.sub(1, e.trainMask);
    const sumSq = addAll(params.map((p) => tf.sum(tf.square(p))));
    const collapsed = collapsedPerExample(e.loss, all, e.labelsOneHot);
    return tf.stack([
      tf.div(tf.sum(tf.mul(loss, e.trainMask)), e.nTrain),
      tf.div(tf.sum(tf.mul(correct, e.trainMask)), e.nTrain),
      tf.div(tf.sum(tf.mul(loss, testMask)), e.nTest),
      tf.div(tf.sum(tf.mul(correct, testMask)), e.nTest),
      sumSq,
      tf.div(tf.sum(tf.mul(collapsed, e.trainMask)), e.nTrain),
    ]) as tf.Tensor1D;
  });
}
