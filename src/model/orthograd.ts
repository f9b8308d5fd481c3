/**
 * ⊥Grad (Prieto et al. 2025, "Grokking at the edge of numerical stability", §5): per parameter
 * tensor, the gradient's component along the weights is removed and the rest rescaled to the
 * gradient's norm, before the optimizer sees it:
 *   g⊥ = g − (w·g)/(w·w + 1e-30)·w,   g ← g⊥ · ‖g‖/(‖g⊥‖ + 1e-30)
 * so updates cannot simply scale the logits up (the naive loss minimization that ends in softmax
 * collapse at λ = 0). The constants are their OrthoGrad's.
 */
import * as tf from '@tensorflow/tfjs-core';
import { concatLast, splitLast } from './transformer/last-axis.ts';

/**
 * `g` and `w` flat along the last axis, parameters side by side of `sizes` values each: `[S]` for
 * one model, `[M, S]` for M models (each row its own). Returns the new gradient (caller disposes).
 */
export function orthogonalGrad<T extends tf.Tensor>(g: T, w: tf.Tensor, sizes: number[]): T {
  return tf.tidy(() => {
    const gs = splitLast(g, sizes);
    const ws = splitLast(w, sizes);
    const parts = gs.map((gi, i) => {
      const wi = ws[i];
      const proj = tf.div(tf.sum(tf.mul(wi, gi), -1, true), tf.add(tf.sum(tf.square(wi), -1, true), 1e-30));
      const gPerp = tf.sub(gi, tf.mul(proj, wi));
      const norm = (x: tf.Tensor) => tf.sqrt(tf.sum(tf.square(x), -1, true));
      return tf.mul(gPerp, tf.div(norm(gi), tf.add(norm(gPerp), 1e-30)));
    });
    return concatLast(parts) as T;
  });
}
