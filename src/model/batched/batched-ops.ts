/**
 * Building blocks with a leading model axis M: products, lookups and the loss of N models of one
 * shape, trained together (many seeds, λ, data fractions at once; Figs. 15–22 draw such runs).
 *
 * Products: on GPUs one batched matMul for all models. tfjs-wasm runs BatchMatMul with batch > 1
 * on a naive loop (measured: [5, 3830, 128]·[5, 128, 512] 1.9 s against 0.23 s as five 2-D
 * products through XNNPACK), so on wasm and cpu the models' products are the single run's own 2-D
 * `mm`, one per model — the same kernels on the same operands, hence the same values as N single
 * runs — and everything else (elementwise work, softmax, the loss, AdamW) is one kernel for all.
 * (Batched products of small models through tfjs-wasm's naive BatchMatMul were measured no faster
 * than per-model XNNPACK products at P = 23, d_model 32 — the naive kernel is ~10× slower per
 * multiply-add — so SMALL_PRODUCT is 0: every product runs per model, bit for bit the single run's.)
 */
import * as tf from '@tensorflow/tfjs-core';
import { crossEntropyPerExample, gatherRows, mm, type OneHot } from '../ops.ts';

/** Whether products run per model (wasm, cpu) or as one batched matMul (GPUs). */
export function productsPerModel(): boolean {
  const b = tf.getBackend();
  return b === 'wasm' || b === 'cpu';
}

/** The M slices of `x` along the model axis, each without it. */
export function perModel(x: tf.Tensor): tf.Tensor[] {
  const m = x.shape[0];
  if (m === 1) return [tf.reshape(x, x.shape.slice(1))];
  return tf.split(x, m, 0).map((s) => tf.reshape(s, x.shape.slice(1)));
}

/** Per-model products up to this many multiply-adds would run as one batched kernel on wasm and cpu. */
export const SMALL_PRODUCT = 0;

/** Whether a product `[n, k]·[k, m]` of each model runs per model (a large one, on wasm and cpu). */
function perModelProduct(n: number, k: number, m: number): boolean {
  return productsPerModel() && n * k * m > SMALL_PRODUCT;
}

/** `[M, n, k] · [M, k, m] → [M, n, m]`: the single run's product for each model. */
export function bmm(a: tf.Tensor3D, b: tf.Tensor3D): tf.Tensor3D {
  if (!perModelProduct(a.shape[1], a.shape[2], b.shape[2])) return tf.matMul(a, b);
  const as = perModel(a);
  const bs = perModel(b);
  return tf.stack(as.map((x, i) => mm(x as tf.Tensor2D, bs[i]))) as tf.Tensor3D;
}

/**
 * Rows of each model's table `[M, V, k]` at that model's indices → `[M, N, k]`. `oneHots` are the
 * models' one-hots `[N, V]` (training: a product, as `gatherRows`); without them a gather (no
 * gradient; evaluation of all P² pairs, the same indices for every model).
 */
export function gatherRowsBatched(table: tf.Tensor3D, indices: tf.Tensor1D[] | tf.Tensor1D, oneHots?: OneHot[], oneHotsStacked?: tf.Tensor3D): tf.Tensor3D {
  if (!oneHots) return tf.gather(table, indices as tf.Tensor1D, 1) as tf.Tensor3D;
  if (oneHotsStacked && !perModelProduct(oneHotsStacked.shape[1], table.shape[1], table.shape[2])) return tf.matMul(oneHotsStacked, table);
  const tables = perModel(table);
  const idx = indices as tf.Tensor1D[];
  return tf.stack(tables.map((t, i) => gatherRows(t as tf.Tensor2D, idx[i], oneHots[i]))) as tf.Tensor3D;
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
export function weightedCrossEntropy(logits: tf.Tensor3D, labels: tf.Tensor3D, weights: tf.Tensor2D): tf.Tensor1D {
  const f = tf.customGrad((x: tf.Tensor | tf.GradSaveFunc, save: tf.Tensor | tf.GradSaveFunc) => {
    const xl = x as tf.Tensor3D;
    (save as tf.GradSaveFunc)([xl]);
    return {
      value: tf.sum(tf.mul(crossEntropyPerExampleBatched(xl, labels), weights), 1) as tf.Tensor1D,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        tf.tidy(() => {
          const others = tf.mul(tf.softmax(saved[0]), tf.sub(1, labels));
          const grad = tf.sub(others, tf.mul(labels, tf.sum(others, 2, true)));
          const [m, n] = weights.shape;
          return tf.mul(grad, tf.reshape(tf.mul(weights, tf.reshape(dy, [m, 1])), [m, n, 1]));
        }),
    };
  });
  return f(logits) as tf.Tensor1D;
}
