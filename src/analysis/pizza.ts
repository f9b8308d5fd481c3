/**
 * The two measures that tell the clock from the pizza (Zhong et al. 2023, "The Clock and the
 * Pizza", §4), as their evaluation notebook defines them (fjzzq2002/pizza, code/eval-main.ipynb,
 * cells "Distance Irrelevance" and "Gradient Symmetricity"):
 *
 * - distance irrelevance q: lay the correct logits out as a table over ((a+b) mod P, (a−b) mod P);
 *   q = mean over distances d of the std (over the P pairs at distance d) / std of the whole table
 *   (population stds). The clock's correct logit does not depend on a−b (q ≈ 1); the pizza's does
 *   (q ≈ 0).
 * - gradient symmetricity s: over 100 triplets (a, b, c) of all P³ in CPython's
 *   random.Random(42).shuffle order, the mean cosine between ∂logit_c/∂x_a and ∂logit_c/∂x_b, the
 *   gradients at the token embeddings of a and b. The pizza's logits are near symmetric in a and b
 *   (s ≈ 1); the clock's product of embeddings is not (s ≈ 0.33).
 *
 * Their reference models' values are in run/clock-pizza.ts (pizza q = 0.172, s = 0.994; clock q = 0.848,
 * s = 0.334).
 */
import * as tf from '@tensorflow/tfjs-core';
// The symmetricity differentiates the forward: tfjs-core alone registers no gradients.
import '#tfjs-gradients';
import type { TrainConfig } from '../config/schema.ts';
import { PythonRandom } from '../random/python-random.ts';
import { disposePairBatch, forwardGeneral, makePairBatch, type Params } from '../model/transformer/forward.ts';

/** Triplets their notebook samples. */
export const SYMMETRICITY_TRIPLETS = 100;

/**
 * Distance irrelevance of `correct` `[P²]`, the correct logit of pair a·P + b. For fixed
 * d = (a − b) mod P the P pairs have P distinct a + b, so the std over a table column is the std
 * over the pairs at distance d.
 */
export function distanceIrrelevance(correct: tf.Tensor1D, p: number): tf.Scalar {
  return tf.tidy(() => {
    // Row d lists the pairs (a, a − d): [P (d), P (a)].
    const order = new Int32Array(p * p);
    for (let d = 0; d < p; d++) for (let a = 0; a < p; a++) order[d * p + a] = a * p + ((a - d + p) % p);
    const table = tf.reshape(tf.gather(correct, tf.tensor1d(order, 'int32')), [p, p]);
    const perDistance = tf.sqrt(tf.moments(table, 1).variance);
    const all = tf.sqrt(tf.moments(table).variance);
    return tf.div(tf.mean(perDistance), all) as tf.Scalar;
  });
}

/** The correct logit of every pair from the logits over all P² pairs and their labels. */
export function correctLogits(logitsAll: tf.Tensor2D, labels: Int32Array): tf.Tensor1D {
  return tf.tidy(() => tf.sum(tf.mul(logitsAll, tf.oneHot(tf.tensor1d(labels, 'int32'), logitsAll.shape[1])), 1) as tf.Tensor1D);
}

/** Their triplets: (a, b, c) a-major over P³, shuffled by random.Random(42), the first `n`. */
export function symmetricityTriplets(p: number, n = SYMMETRICITY_TRIPLETS): Array<[number, number, number]> {
  const key = `${p},${n}`;
  const known = tripletCache.get(key);
  if (known) return known;
  const all = new Int32Array(p * p * p);
  for (let i = 0; i < all.length; i++) all[i] = i;
  new PythonRandom(42).shuffle(all);
  const triplets = Array.from(all.subarray(0, Math.min(n, all.length)), (i): [number, number, number] => [Math.floor(i / (p * p)), Math.floor(i / p) % p, i % p]);
  tripletCache.set(key, triplets);
  return triplets;
}

/** Shuffling P³ triplets takes ~0.1 s at P = 113: once per P, not at every checkpoint. */
const tripletCache = new Map<string, Array<[number, number, number]>>();

/**
 * Gradient symmetricity of the model `params` over `triplets`. x = W_E[tok] + W_pos, so the
 * gradient at the embedding of a is the gradient at position 0's W_pos row; giving each triplet its
 * own copy of W_pos `[n, 3, d]` makes one backward pass give every triplet's gradients apart.
 */
export function gradientSymmetricity(params: Params, config: TrainConfig, triplets: ReadonlyArray<readonly [number, number, number]>): tf.Scalar {
  const p = config.p;
  const pairs = Int32Array.from(triplets, ([a, b]) => a * p + b);
  const batch = makePairBatch(config, pairs, new Int32Array(p * p), false);
  try {
    return tf.tidy(() => {
      const W_pos = params['pos_embed.W_pos'];
      const n = triplets.length;
      const perTriplet = tf.tile(tf.expandDims(W_pos, 0), [n, 1, 1]);
      const cIds = tf.tensor1d(Int32Array.from(triplets, (t) => t[2]), 'int32');
      const grad = tf.grad((pos: tf.Tensor) => {
        const logits = forwardGeneral({ ...params, 'pos_embed.W_pos': pos }, config, batch);
        return tf.sum(tf.mul(logits, tf.oneHot(cIds, logits.shape[1])));
      })(perTriplet);
      const d = W_pos.shape[1]!;
      const ga = tf.reshape(tf.slice(grad, [0, 0, 0], [n, 1, d]), [n, d]);
      const gb = tf.reshape(tf.slice(grad, [0, 1, 0], [n, 1, d]), [n, d]);
      const norm = (g: tf.Tensor) => tf.sqrt(tf.sum(tf.square(g), 1));
      return tf.mean(tf.div(tf.sum(tf.mul(ga, gb), 1), tf.maximum(tf.mul(norm(ga), norm(gb)), 1e-30))) as tf.Scalar;
    });
  } finally {
    disposePairBatch(batch);
  }
}

/** Both measures of a checkpoint, `[distance irrelevance, gradient symmetricity]`, for one read. */
export function clockPizzaMeasures(params: Params, config: TrainConfig, logitsAll: tf.Tensor2D, labels: Int32Array): tf.Tensor1D {
  return tf.tidy(() =>
    tf.stack([distanceIrrelevance(correctLogits(logitsAll, labels), config.p), gradientSymmetricity(params, config, symmetricityTriplets(config.p))]) as tf.Tensor1D,
  );
}
