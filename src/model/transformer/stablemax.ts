/**
 * StableMax (Prieto et al. 2025, "Grokking at the edge of numerical stability", eq. 6): softmax
 * with exp replaced by s(x) = x + 1 for x ≥ 0 and 1/(1 − x) below, p_i = s(x_i)/Σ_j s(x_j), loss
 * −log p_y. s grows linearly, so p_y reaches 1 in float32 only for enormous logits: no softmax
 * collapse. And the paper's softmax-collapse measure (SC) for either loss.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { LossKind } from '../../config/schema.ts';
import { crossEntropyMean, crossEntropyPerExample, log1pAccurate } from './ops.ts';

/** s(x) = x + 1 (x ≥ 0), 1/(1 − x) (x < 0). */
export function stablemaxS(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.where(tf.greaterEqual(x, 0), tf.add(x, 1), tf.div(1, tf.sub(1, tf.minimum(x, 0)))));
}

/**
 * Per-example StableMax loss of `logits` [N, V] against one-hot `labels` → [N], as
 * log1p(Σ_{j≠y} s_j / s_y) (exact for tiny losses, as `crossEntropyPerExample`). Its gradient is
 * (p_j − [j = y])·s'(x_j)/s(x_j) with s'/s = 1/(1 + |x|), the label's p_y − 1 taken as −Σ_{j≠y} p_j.
 */
export function stablemaxPerExample(logits: tf.Tensor2D, labels: tf.Tensor2D): tf.Tensor1D {
  const f = tf.customGrad((x: tf.Tensor | tf.GradSaveFunc, save: tf.Tensor | tf.GradSaveFunc) => {
    const xl = x as tf.Tensor2D;
    (save as tf.GradSaveFunc)([xl]);
    const value = tf.tidy(() => {
      const s = stablemaxS(xl);
      const sy = tf.sum(tf.mul(s, labels), 1);
      const others = tf.sum(tf.mul(s, tf.sub(1, labels)), 1);
      return log1pAccurate(tf.div(others, sy));
    });
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        tf.tidy(() => {
          const s = stablemaxS(saved[0]);
          const p = tf.div(s, tf.sum(s, 1, true));
          const others = tf.mul(p, tf.sub(1, labels));
          const grad = tf.sub(others, tf.mul(labels, tf.sum(others, 1, true)));
          const ratio = tf.div(1, tf.add(tf.abs(saved[0]), 1));
          return tf.mul(tf.mul(grad, ratio), tf.reshape(dy, [-1, 1]));
        }),
    };
  });
  return f(logits) as tf.Tensor1D;
}

/** The run's per-example loss: cross-entropy of softmax or of StableMax. */
export function lossPerExample(kind: LossKind, logits: tf.Tensor2D, labels: tf.Tensor2D): tf.Tensor1D {
  return kind === 'stablemax' ? stablemaxPerExample(logits, labels) : crossEntropyPerExample(logits, labels);
}

/** The run's mean loss with its gradient (softmax: `crossEntropyMean`, or `fused` for the WebGPU one). */
export function lossMean(kind: LossKind, logits: tf.Tensor2D, labels: tf.Tensor2D, softmaxMean = crossEntropyMean): tf.Scalar {
  return kind === 'stablemax' ? tf.mean(stablemaxPerExample(logits, labels)) : softmaxMean(logits, labels);
}

/**
 * Softmax collapse (the paper's SC, §3): 1 where p_y, computed in float32 as the usual
 * normalization does (e^(x − max)/Σ e^(x − max), or s(x_y)/Σ s), rounds to exactly 1 — where the
 * float32 loss −log p_y of a framework is exactly 0 and its gradient at the label vanishes. `[N]`.
 * (grokscope's own losses keep precision there; this measures what a float32 framework would see.)
 */
export function collapsedPerExample(kind: LossKind, logits: tf.Tensor2D, labels: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => {
    const e = kind === 'stablemax' ? stablemaxS(logits) : tf.exp(tf.sub(logits, tf.max(logits, 1, true)));
    const py = tf.div(tf.sum(tf.mul(e, labels), 1), tf.sum(e, 1));
    return tf.cast(tf.equal(py, 1), 'float32') as tf.Tensor1D;
  });
}
