/**
 * Building blocks with a leading model axis M: products, lookups and the loss of N models of one
 * shape, trained together (many seeds, λ, data fractions at once; Figs. 15–22 draw such runs).
 *
 * Products: on GPUs one batched matMul for all models. On wasm one kernel that runs each model's
 * 2-D product through XNNPACK on views of the batched operands (wasm-products.ts says why: the
 * batched BatchMatMul is a naive loop, and splitting into M tensors cost more than the products);
 * on cpu tfjs's batched product, which loops over the batch with the 2-D product's own loops. The
 * gradients are the single run's (ops.ts `mm`, `gatherRows`): explicit transposes on wasm and cpu,
 * one kernel for all models, so each model's values are its single run's.
 */
import * as tf from '@tensorflow/tfjs-core';
import { crossEntropyGrad, crossEntropyPerExample, transposeLast } from '../transformer/ops.ts';
import type { LossPrecision } from '../../config/schema.ts';
import { perModelMatMul } from './wasm-products.ts';

/** Backends whose transposed matMul is slow, so gradients transpose explicitly (as ops.ts). */
function explicitTranspose(): boolean {
  const b = tf.getBackend();
  return b === 'wasm' || b === 'cpu';
}

/** `[M, n, k]·[M, k, m]`, no gradient: each model's product as its single run computes it. */
function product(a: tf.Tensor, b: tf.Tensor): tf.Tensor3D {
  return (tf.getBackend() === 'wasm' ? perModelMatMul(a as tf.Tensor3D, b as tf.Tensor3D) : tf.matMul(a, b)) as tf.Tensor3D;
}

/** a·bᵀ / aᵀ·b per model, as ops.ts `matMulT`. */
function productT(a: tf.Tensor, b: tf.Tensor, transposeA: boolean, transposeB: boolean): tf.Tensor3D {
  if (!explicitTranspose()) return tf.matMul(a, b, transposeA, transposeB) as tf.Tensor3D;
  return product(transposeA ? transposeLast(a) : a, transposeB ? transposeLast(b) : b);
}

/** xᵀ·dy per model, as ops.ts `weightGrad` (on wasm (dyᵀ·x)ᵀ when dy is the wider). */
function weightGradBatched(x: tf.Tensor, dy: tf.Tensor): tf.Tensor3D {
  if (!explicitTranspose() || dy.shape[2]! <= x.shape[2]!) return productT(x, dy, true, false);
  return transposeLast(product(transposeLast(dy), x)) as tf.Tensor3D;
}

/** `[M, n, k] · [M, k, m] → [M, n, m]`: the single run's product (and gradients) for each model. */
export function bmm(a: tf.Tensor3D, b: tf.Tensor3D): tf.Tensor3D {
  const f = tf.customGrad((x: tf.Tensor | tf.GradSaveFunc, y: tf.Tensor | tf.GradSaveFunc, save: tf.Tensor | tf.GradSaveFunc) => {
    (save as tf.GradSaveFunc)([x as tf.Tensor, y as tf.Tensor]);
    return {
      value: product(x as tf.Tensor, y as tf.Tensor),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [productT(dy, saved[1], false, true), weightGradBatched(saved[0], dy)],
    };
  });
  return f(a, b) as tf.Tensor3D;
}

/**
 * Rows of each model's table `[M, V, k]` at that model's indices → `[M, N, k]`. `oneHots`: the
 * models' one-hots stacked `[M, N, V]` (training: a product, as ops.ts `gatherRows`, whose table
 * gradient on wasm is (dyᵀ·oneHot)ᵀ); without them a gather of the same indices for every model
 * (no gradient; evaluation of all P² pairs).
 */
export function gatherRowsBatched(table: tf.Tensor3D, indices: tf.Tensor1D, oneHots?: tf.Tensor3D): tf.Tensor3D {
  if (!oneHots) return tf.gather(table, indices, 1) as tf.Tensor3D;
  const f = tf.customGrad((t: tf.Tensor | tf.GradSaveFunc) => ({
    value: product(oneHots, t as tf.Tensor),
    gradFunc: (dy: tf.Tensor) => (explicitTranspose() ? transposeLast(product(transposeLast(dy), oneHots)) : tf.matMul(oneHots, dy, true, false)),
  }));
  return f(table) as tf.Tensor3D;
}

/** Per-example cross-entropy of `[M, N, V]` logits against one-hot labels → `[M, N]` (ops.ts). */
export function crossEntropyPerExampleBatched(logits: tf.Tensor3D, labels: tf.Tensor3D): tf.Tensor2D {
  return tf.tidy(() => {
    const [m, n, v] = logits.shape;
    const loss = crossEntropyPerExample(tf.reshape(logits, [m * n, v]) as tf.Tensor2D, tf.reshape(labels, [m * n, v]) as tf.Tensor2D);
    return tf.reshape(loss, [m, n]) as tf.Tensor2D;
  });
}

/**
 * Each model's weighted loss Σ_n w[m, n]·CE[m, n] → `[M]`, where w is 1/N_m on the model's train
 * pairs and 0 on padding: the models' mean losses, each model's own training set. The gradient is
 * `crossEntropyMean`'s (softmax − onehot with the label's component as −Σ others), times w: the
 * same float32 numbers as a single run's (dy/N with dy = 1).
 */
export function weightedCrossEntropy(logits: tf.Tensor3D, labels: tf.Tensor3D, weights: tf.Tensor2D, precision: LossPrecision = 'high'): tf.Tensor1D {
  const f = tf.customGrad((x: tf.Tensor | tf.GradSaveFunc, save: tf.Tensor | tf.GradSaveFunc) => {
    const xl = x as tf.Tensor3D;
    (save as tf.GradSaveFunc)([xl]);
    return {
      value: tf.sum(tf.mul(crossEntropyPerExampleBatched(xl, labels), weights), 1) as tf.Tensor1D,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        tf.tidy(() => {
          const grad = crossEntropyGrad(saved[0], labels, precision, 2);
          const [m, n] = weights.shape;
          return tf.mul(grad, tf.reshape(tf.mul(weights, tf.reshape(dy, [m, 1])), [m, n, 1]));
        }),
    };
  });
  return f(logits) as tf.Tensor1D;
}
