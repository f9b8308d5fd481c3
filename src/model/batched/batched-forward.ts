/**
 * The fast forward (fast.ts) of M 1-block models of one shape at once: every parameter carries a
 * leading model axis, `[M, …TransformerLens shape]`, and so does every activation. Step for step
 * the same operations as `forwardFast`, so each model's logits are its single run's.
 */
import * as tf from '@tensorflow/tfjs-core';
import { dims, type TrainConfig } from '../../config/schema.ts';
import { activation, type Params } from '../transformer/forward.ts';
import { concatLast, splitLast, stackLast } from '../transformer/last-axis.ts';
import { bmm, gatherRowsBatched } from './batched-ops.ts';
import { attentionRate } from '../transformer/ops.ts';

/** The pairs each model runs on: one index list per model (training), or one shared list. */
export interface BatchedPairs {
  /** Rows per model (the longest train set; shorter ones are padded, with loss weight 0). */
  n: number;
  a: tf.Tensor1D[] | tf.Tensor1D;
  b: tf.Tensor1D[] | tf.Tensor1D;
  /** Training: the models' one-hots of a and b stacked, `[M, n, V]` (lookups as products). */
  aOneHotStacked?: tf.Tensor3D;
  bOneHotStacked?: tf.Tensor3D;
}

/** Head weights `[M, h, d, dh]` as `[M, d, h·dh]`, heads side by side (forward.ts, per model). */
function headsSideBySideBatched(w: tf.Tensor): tf.Tensor3D {
  const [m, h, d, dh] = w.shape;
  return tf.reshape(tf.transpose(w, [0, 2, 1, 3]), [m, d, h * dh]);
}

/** Last-position logits `[M, n, d_vocab_out]`; `dropoutMasks`: `[M, n, d_mlp]` inverted-dropout masks. */
export function forwardFastBatched(params: Params, c: TrainConfig, models: number, pairs: BatchedPairs, dropoutMask?: tf.Tensor3D): tf.Tensor3D {
  if (c.nLayers !== 1) throw new Error(`batched training handles 1-block models, got ${c.nLayers}`);
  return tf.tidy(() => {
    const { dHead, dVocab } = dims(c);
    const M = models;
    const n = pairs.n;
    const h = c.nHeads;
    const hd = h * dHead;
    const W_E = params['embed.W_E'] as tf.Tensor3D; // [M, V, d]
    const [pos0, pos1, pos2] = tf.split(params['pos_embed.W_pos'], 3, 1) as tf.Tensor3D[]; // [M, 1, d] each
    const eqToken = tf.slice(W_E, [0, c.p, 0], [M, 1, c.dModel]);
    const resid2 = tf.add(eqToken, pos2); // '=' at position 2, [M, 1, d]
    const W_KV = concatLast([headsSideBySideBatched(params['blocks.0.attn.W_K']), headsSideBySideBatched(params['blocks.0.attn.W_V'])]);
    const q = bmm(resid2 as tf.Tensor3D, headsSideBySideBatched(params['blocks.0.attn.W_Q'])); // [M, 1, h·dh]

    // Per-token tables of positions 0 and 1: scores of '=' on the token per head, and its values.
    const table = (pos: tf.Tensor3D): tf.Tensor3D => {
      const resid = tf.add(W_E, pos); // [M, V, d]
      const kv = bmm(resid as tf.Tensor3D, W_KV as tf.Tensor3D); // [M, V, 2·h·dh]
      const [k, v] = splitLast(kv, [hd, hd]);
      const scores = tf.sum(tf.reshape(tf.mul(k, q), [M, dVocab, h, dHead]), 3); // [M, V, h]
      return concatLast([scores, v]) as tf.Tensor3D;
    };
    const rowsA = gatherRowsBatched(table(pos0), pairs.a as tf.Tensor1D, pairs.aOneHotStacked); // [M, n, h + hd]
    const rowsB = gatherRowsBatched(table(pos1), pairs.b as tf.Tensor1D, pairs.bOneHotStacked);
    const kv2 = bmm(resid2 as tf.Tensor3D, W_KV as tf.Tensor3D);
    const [k2, v2] = splitLast(kv2, [hd, hd]);
    const score2 = tf.sum(tf.reshape(tf.mul(k2, q), [M, 1, h, dHead]), 3); // [M, 1, h]

    const [scoreA, valueA] = splitLast(rowsA, [h, hd]);
    const [scoreB, valueB] = splitLast(rowsB, [h, hd]);
    const scores = tf.div(stackLast([scoreA, scoreB, tf.add(tf.zeros([M, n, h]), score2)]), Math.sqrt(dHead)); // [M, n, h, 3]
    // A batch shares its attention rate (SHAPE_KEYS).
    const pattern = attentionRate(tf.softmax(scores), c.attnRate);
    const [pA, pB, pEq] = splitLast(pattern, [1, 1, 1]); // [M, n, h, 1]
    const z = tf.addN([
      tf.mul(tf.reshape(valueA, [M, n, h, dHead]), pA),
      tf.mul(tf.reshape(valueB, [M, n, h, dHead]), pB),
      tf.mul(tf.reshape(v2, [M, 1, h, dHead]), pEq),
    ]); // [M, n, h, dh]
    const attnOut = bmm(tf.reshape(z, [M, n, hd]) as tf.Tensor3D, tf.reshape(params['blocks.0.attn.W_O'], [M, hd, c.dModel]) as tf.Tensor3D);
    const resid = tf.add(attnOut, resid2) as tf.Tensor3D; // [M, n, d]
    const b_in = tf.reshape(params['blocks.0.mlp.b_in'], [M, 1, c.dMlp]);
    let post = activation(c, tf.add(bmm(resid, params['blocks.0.mlp.W_in'] as tf.Tensor3D), b_in)) as tf.Tensor3D;
    if (dropoutMask) post = tf.mul(post, dropoutMask);
    const b_out = tf.reshape(params['blocks.0.mlp.b_out'], [M, 1, c.dModel]);
    const out = tf.add(resid, tf.add(bmm(post, params['blocks.0.mlp.W_out'] as tf.Tensor3D), b_out)) as tf.Tensor3D;
    return bmm(out, params['unembed.W_U'] as tf.Tensor3D);
  });
}
