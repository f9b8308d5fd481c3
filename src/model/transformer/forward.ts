/**
 * The forward pass of the paper's transformer (ANALYSIS.md §2, TransformerLens conventions, row
 * vectors): x = W_E[tok] + W_pos; per block x += Attn(x); x += MLP(x); logits = x W_U at the last
 * position. Two implementations with identical results:
 *
 * - `forwardGeneral`: every position through every layer, 1 or 2 blocks. The reference.
 * - `forwardFast` (fast.ts): 1 block only, exploiting that every input is (a, b, '=').
 */
import * as tf from '@tensorflow/tfjs-core';
import { dims, type TrainConfig } from '../../config/schema.ts';
import { attentionRate, gatherRows, gelu, mm, oneHotFloat, transposeLast, type OneHot } from './ops.ts';

/** Device-side parameters by TransformerLens name. */
export type Params = Record<string, tf.Tensor>;

/** A set of pairs to run the model on, as device tensors made once (see `makePairBatch`). */
export interface PairBatch {
  n: number;
  /** Pair indices a·P + b, host copy. */
  pairs: Int32Array;
  /** `[N]` int32 first operand a, and second operand b. */
  a: tf.Tensor1D;
  b: tf.Tensor1D;
  /** `[N·3]` int32 token ids in [N, 3] row-major order: a, b, '='. */
  tokens: tf.Tensor1D;
  /**
   * One-hots of `tokens`, and of a and of b, for the embedding lookups of training (a product
   * each way, see `gatherRows`); absent on batches that are only evaluated.
   */
  tokensOneHot?: OneHot;
  aOneHot?: OneHot;
  bOneHot?: OneHot;
  /** `[N]` int32 labels and `[N, d_vocab_out]` float one-hot labels. */
  labelIds: tf.Tensor1D;
  labelsOneHot: tf.Tensor2D;
}

export function makePairBatch(c: TrainConfig, pairs: Int32Array, allLabels: Int32Array, forTraining = true): PairBatch {
  const { dVocab, dVocabOut } = dims(c);
  const n = pairs.length;
  const a = new Int32Array(n);
  const b = new Int32Array(n);
  const tokens = new Int32Array(n * 3);
  const labels = new Int32Array(n);
  for (let k = 0; k < n; k++) {
    a[k] = Math.floor(pairs[k] / c.p);
    b[k] = pairs[k] % c.p;
    tokens[3 * k] = a[k];
    tokens[3 * k + 1] = b[k];
    tokens[3 * k + 2] = c.p;
    labels[k] = allLabels[pairs[k]];
  }
  const batch = tf.tidy(() => {
    const tok = tf.tensor1d(tokens, 'int32');
    const at = tf.tensor1d(a, 'int32');
    const bt = tf.tensor1d(b, 'int32');
    const lab = tf.tensor1d(labels, 'int32');
    const oneHot = (t: tf.Tensor1D): OneHot => {
      const rows = oneHotFloat(t, dVocab);
      return { rows, t: tf.transpose(rows) as tf.Tensor2D };
    };
    const batch: PairBatch = {
      n,
      pairs,
      a: at,
      b: bt,
      tokens: tok,
      labelIds: lab,
      labelsOneHot: oneHotFloat(lab, dVocabOut),
    };
    if (forTraining) {
      batch.tokensOneHot = oneHot(tok);
      batch.aOneHot = oneHot(at);
      batch.bOneHot = oneHot(bt);
    }
    for (const t of batchTensors(batch)) tf.keep(t);
    return batch as unknown as tf.TensorContainerObject;
  });
  return batch as unknown as PairBatch;
}

function batchTensors(batch: Partial<PairBatch>): tf.Tensor[] {
  const out: tf.Tensor[] = [];
  for (const v of Object.values(batch)) {
    if (v instanceof tf.Tensor) out.push(v);
    else if (v && typeof v === 'object' && 'rows' in v) out.push(v.rows, v.t);
  }
  return out;
}

export function disposePairBatch(batch: PairBatch): void {
  tf.dispose(batchTensors(batch));
}

/** Optional per-forward inputs and taps. */
export interface ForwardOptions {
  /** Inverted-dropout masks on MLP neurons per layer, broadcastable to `[N, 3, d_mlp]`. */
  dropoutMasks?: tf.Tensor[];
  /**
   * Receives intermediate activations at the last position ('='), for the analysis:
   * `pattern` `[N, heads, 3]` attention from '=' and `mlpPost` `[N, d_mlp]`. The callee must
   * `tf.keep` what it stores.
   */
  tap?: (layer: number, acts: { pattern: tf.Tensor3D; mlpPost: tf.Tensor2D }) => void;
}

/** Causal mask added to attention scores: 0 where key ≤ query, −1e10 above (as the authors). */
export function causalMask(nCtx: number): tf.Tensor2D {
  const m = new Float32Array(nCtx * nCtx);
  for (let q = 0; q < nCtx; q++) for (let k = q + 1; k < nCtx; k++) m[q * nCtx + k] = -1e10;
  return tf.tensor2d(m, [nCtx, nCtx]);
}

export function activation(c: TrainConfig, x: tf.Tensor): tf.Tensor {
  return c.act === 'relu' ? tf.relu(x) : gelu(x);
}

/**
 * Head weights [h, d_model, d_head] as one matrix [d_model, h·d_head], heads side by side, so
 * that x · W gives every head's q (or k, v) in one product.
 */
export function headsSideBySide(w: tf.Tensor): tf.Tensor2D {
  const [h, d, dh] = w.shape;
  return tf.reshape(tf.transpose(w, [1, 0, 2]), [d, h * dh]);
}

/** General forward: last-position logits `[N, d_vocab_out]`. */
export function forwardGeneral(params: Params, c: TrainConfig, batch: PairBatch, opts: ForwardOptions = {}): tf.Tensor2D {
  return tf.tidy(() => {
    const { dHead, nCtx } = dims(c);
    const n = batch.n;
    const h = c.nHeads;
    const embedded = gatherRows(params['embed.W_E'] as tf.Tensor2D, batch.tokens, batch.tokensOneHot);
    // [N·3, d] with the position added per row.
    let x = tf.reshape(tf.add(tf.reshape(embedded, [n, nCtx, c.dModel]), params['pos_embed.W_pos']), [n * nCtx, c.dModel]);
    const mask = causalMask(nCtx);
    const allowed = c.attnRate === 1 ? undefined : tf.cast(tf.equal(mask, 0), 'float32');
    for (let l = 0; l < c.nLayers; l++) {
      const p = (name: string) => params[`blocks.${l}.${name}`];
      // q, k, v for all heads at once: [N·3, 3·h·d_head] → three [N, h, 3, d_head].
      const wQKV = tf.concat([headsSideBySide(p('attn.W_Q')), headsSideBySide(p('attn.W_K')), headsSideBySide(p('attn.W_V'))], 1);
      const qkv = mm(x, wQKV);
      const split = tf.split(qkv, 3, 1).map((t) => tf.transpose(tf.reshape(t, [n, nCtx, h, dHead]), [0, 2, 1, 3]));
      const [q, k, v] = split.map((t) => tf.reshape(t, [n * h, nCtx, dHead]));
      // scores [N·h, 3 (query), 3 (key)]
      const scores = tf.add(tf.div(mm(q, transposeLast(k)), Math.sqrt(dHead)), mask);
      const pattern = attentionRate(tf.softmax(scores), c.attnRate, allowed);
      const z = mm(pattern, v); // [N·h, 3, d_head]
      // [N, h, 3, dh] → [N, 3, h, dh] → [N·3, h·dh]; W_O [h, dh, d] is already [h·dh, d] row-major.
      const zFlat = tf.reshape(tf.transpose(tf.reshape(z, [n, h, nCtx, dHead]), [0, 2, 1, 3]), [n * nCtx, h * dHead]);
      x = tf.add(x, mm(zFlat, tf.reshape(p('attn.W_O'), [h * dHead, c.dModel])));
      let post = activation(c, tf.add(mm(x, p('mlp.W_in') as tf.Tensor2D), p('mlp.b_in')));
      if (opts.dropoutMasks) {
        post = tf.reshape(tf.mul(tf.reshape(post, [n, nCtx, c.dMlp]), opts.dropoutMasks[l]), [n * nCtx, c.dMlp]);
      }
      if (opts.tap) {
        const lastPattern = tf.reshape(tf.slice(tf.reshape(pattern, [n, h, nCtx, nCtx]), [0, 0, nCtx - 1, 0], [n, h, 1, nCtx]), [n, h, nCtx]);
        const lastPost = tf.reshape(tf.slice(tf.reshape(post, [n, nCtx, c.dMlp]), [0, nCtx - 1, 0], [n, 1, c.dMlp]), [n, c.dMlp]);
        opts.tap(l, { pattern: lastPattern as tf.Tensor3D, mlpPost: lastPost as tf.Tensor2D });
      }
      x = tf.add(x, tf.add(mm(post, p('mlp.W_out') as tf.Tensor2D), p('mlp.b_out')));
    }
    const last = tf.reshape(tf.slice(tf.reshape(x, [n, nCtx, c.dModel]), [0, nCtx - 1, 0], [n, 1, c.dModel]), [n, c.dModel]);
    return mm(last, params['unembed.W_U']) as tf.Tensor2D;
  });
}
