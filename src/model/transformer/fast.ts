/**
 * The fast forward for 1-block models. Every input is (a, b, '='), and only the last position's
 * logits matter, so:
 * - the query of '=' is one vector per head, the same for every pair;
 * - keys and values of position 0 (token a) and position 1 (token b) are rows of
 *   (W_E + W_pos[i]) W_K / W_V, computed once per step for the d_vocab tokens and gathered —
 *   and since the query is fixed, so are the attention scores: a table `[d_vocab, heads]` per
 *   position;
 * - only the last position goes through W_O, the MLP and W_U.
 * Mathematically identical to `forwardGeneral` (test/model/fast.test.ts checks values and
 * gradients to 1e-5); about a third of the work, since the MLP dominates and runs on one
 * position instead of three.
 */
import * as tf from '@tensorflow/tfjs-core';
import { dims, type TrainConfig } from '../../config/schema.ts';
import { activation, headsSideBySide, type ForwardOptions, type PairBatch, type Params } from './forward.ts';
import { concatLast, splitLast, stackLast } from './last-axis.ts';
import { attentionRate, gatherRows, mm } from './ops.ts';

export function forwardFast(params: Params, c: TrainConfig, batch: PairBatch, opts: ForwardOptions = {}): tf.Tensor2D {
  if (c.nLayers !== 1) throw new Error(`the fast forward handles 1 block, got ${c.nLayers}`);
  return tf.tidy(() => {
    const { dHead, dVocab } = dims(c);
    const n = batch.n;
    const h = c.nHeads;
    const hd = h * dHead;
    const W_E = params['embed.W_E'] as tf.Tensor2D;
    const W_pos = params['pos_embed.W_pos'] as tf.Tensor2D;
    const [pos0, pos1, pos2] = tf.split(W_pos, 3, 0) as tf.Tensor2D[];
    const eqToken = tf.slice(W_E, [c.p, 0], [1, c.dModel]);
    const resid2 = tf.add(eqToken, pos2); // '=' at position 2, [1, d]
    // Keys and values side by side, [d, 2·h·dh]: one concat a step for the three products.
    const W_KV = concatLast([headsSideBySide(params['blocks.0.attn.W_K']), headsSideBySide(params['blocks.0.attn.W_V'])]);
    const q = mm(resid2, headsSideBySide(params['blocks.0.attn.W_Q'])); // [1, h·dh]

    // Per-token tables for positions 0 and 1: attention score of '=' on that token per head
    // [d_vocab, h], and the token's value vectors [d_vocab, h·dh], side by side.
    const table = (pos: tf.Tensor2D): tf.Tensor2D => {
      const resid = tf.add(W_E, pos); // [d_vocab, d]
      const kv = mm(resid, W_KV); // [d_vocab, 2·h·dh]
      const [k, v] = splitLast(kv, [hd, hd]);
      const scores = tf.sum(tf.reshape(tf.mul(k, q), [dVocab, h, dHead]), 2); // [d_vocab, h]
      return concatLast([scores, v]) as tf.Tensor2D; // [d_vocab, h + h·dh]
    };
    const rowsA = gatherRows(table(pos0), batch.a, batch.aOneHot); // [N, h + hd]
    const rowsB = gatherRows(table(pos1), batch.b, batch.bOneHot);
    const kv2 = mm(resid2, W_KV);
    const [k2, v2] = splitLast(kv2, [hd, hd]);
    const score2 = tf.sum(tf.reshape(tf.mul(k2, q), [1, h, dHead]), 2); // [1, h]

    const [scoreA, valueA] = splitLast(rowsA, [h, hd]);
    const [scoreB, valueB] = splitLast(rowsB, [h, hd]);
    // scores [N, h, 3] over keys (a, b, '='), scaled as in the general forward.
    // '=' scores broadcast by an add (its gradient is one sum; tfjs differentiates broadcastTo
    // as a Tile, one slice and add per row: 7.7k kernels and 100 ms a step at P = 113 on wasm).
    const scores = tf.div(
      stackLast([scoreA, scoreB, tf.add(tf.zeros([n, h]), score2)]),
      Math.sqrt(dHead),
    );
    const pattern = attentionRate(tf.softmax(scores), c.attnRate) as tf.Tensor3D; // [N, h, 3]
    const [pA, pB, pEq] = splitLast(pattern, [1, 1, 1]); // each [N, h, 1]
    const z = tf.addN([
      tf.mul(tf.reshape(valueA, [n, h, dHead]), pA),
      tf.mul(tf.reshape(valueB, [n, h, dHead]), pB),
      tf.mul(tf.reshape(v2, [1, h, dHead]), pEq),
    ]); // [N, h, dh]
    const attnOut = mm(tf.reshape(z, [n, hd]), tf.reshape(params['blocks.0.attn.W_O'], [hd, c.dModel]));
    const resid = tf.add(attnOut, resid2); // [N, d]
    let post = activation(c, tf.add(mm(resid, params['blocks.0.mlp.W_in']), params['blocks.0.mlp.b_in'])) as tf.Tensor2D;
    if (opts.dropoutMasks) post = tf.mul(post, opts.dropoutMasks[0]);
    opts.tap?.(0, { pattern, mlpPost: post });
    const out = tf.add(resid, tf.add(mm(post, params['blocks.0.mlp.W_out']), params['blocks.0.mlp.b_out']));
    return mm(out, params['unembed.W_U']) as tf.Tensor2D;
  });
}
