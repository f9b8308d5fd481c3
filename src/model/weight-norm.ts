/**
 * Omnigrok's constrained weight norm (Liu, Michaud & Tegmark 2023, "Omnigrok: grokking beyond
 * algorithmic data", §3): after every update the whole parameter vector is projected back onto
 * the sphere ‖θ‖₂ = R, so training can only rotate the weights — at the norm where the
 * generalizing solution lives, a model groks without weight decay.
 */
import * as tf from '@tensorflow/tfjs-core';
import { addAll } from './transformer/ops.ts';

/** Rescales one model's parameters in place to ‖θ‖₂ = `norm`. */
export function constrainNorm(params: tf.Variable[], norm: number): void {
  tf.tidy(() => {
    const factor = tf.div(norm, tf.sqrt(addAll(params.map((p) => tf.sum(tf.square(p))))));
    for (const p of params) p.assign(tf.mul(p, factor));
  });
}

/**
 * M models at once: parameters `[M, …]`, model m rescaled to ‖θ_m‖₂ = norms[m]; a model with
 * norm 0 is left exactly as it is (× 1).
 */
export function constrainNormBatched(params: tf.Variable[], norms: number[]): void {
  const M = norms.length;
  if (norms.every((r) => r <= 0)) return;
  tf.tidy(() => {
    const sumSq = addAll(params.map((p) => tf.sum(tf.reshape(tf.square(p), [M, -1]), 1)));
    const on = tf.tensor1d(norms.map((r) => (r > 0 ? 1 : 0)));
    const target = tf.tensor1d(norms.map((r) => (r > 0 ? r : 1)));
    const factor = tf.add(tf.mul(tf.div(target, tf.sqrt(sumSq)), on), tf.sub(1, on));
    for (const p of params) p.assign(tf.mul(p, tf.reshape(factor, [M, ...p.shape.slice(1).map(() => 1)])));
  });
}
