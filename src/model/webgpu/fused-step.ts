/**
 * The loss and gradient of 1-block models on WebGPU, written by hand around fused kernels
 * (step.ts, attention.ts, fused.ts) and tfjs's matmul: the fast forward
 * (fast.ts) of the same weights, and its backward without tfjs's autodiff, so the gradient comes
 * out as one flat vector in the optimizer's order (no packing) and the embedding's, the '=' row's
 * and the residual's gradients are summed inside kernels (no adds). 25 dispatches with the
 * update (fused.test.ts counts them). fast.ts stays the reference: test/browser/fused.test.ts
 * compares losses, gradients, weights and moments with the general path.
 *
 * It trains NM models of one shape at once (batched training, issue #13: every tensor has the
 * model axis first, tfjs's products are batched, each kernel covers every model), in the same
 * dispatches as one: a single run is NM = 1.
 *
 * Forward: tables (1), attention (1), resid = z·W_O + R[EQ] (tfjs's fused matmul with a bias),
 * pre = resid·W_in, post = act(pre + b_in) with resid + b_out (1), out = post·W_out + (resid +
 * b_out), logits = out·W_U, the cross-entropy rows and their gradient (1), the models' losses.
 * Backward: 9 products (2 per weight matrix, 1 scatter) and 4 kernels (step.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import { dims, type TrainConfig } from '../../config/schema.ts';
import type { PairBatch, Params } from '../transformer/forward.ts';
import { paramSpecs, size } from '../transformer/params.ts';
import { attentionMixBackward, attentionMixForward, scatterMatrix } from './attention.ts';
import { crossEntropyRowsFused } from './fused.ts';
import { stepAct, stepActGrad, stepDq, stepDw, stepTables, type StepLayout } from './step.ts';

/** The training pairs of NM models as the fused step reads them (kept by their trainer). */
export interface FusedPairs {
  /** Pairs per model: the longest train set; shorter ones are padded with weight 0. */
  n: number;
  /** `[NM, N]` int32 operands a and b. */
  a: tf.Tensor2D;
  b: tf.Tensor2D;
  /** `[NM·N, d_vocab_out]` one-hot labels. */
  labels: tf.Tensor2D;
  /** `[NM·N]` each row's loss weight: 1/N_m on model m's pairs, 0 on padding. */
  weights: tf.Tensor1D;
  /** `[NM·3, d_vocab, N]` the scatter matrices of the attention's backward (`scatterMatrix`). */
  scatter: tf.Tensor3D;
}

/** Whether `fusedLossAndGrad` computes this model's training step (1 block, no dropout, no L1, softmax loss at high precision, softmax attention). */
export function fusedStepFits(c: TrainConfig, batch?: PairBatch): boolean {
  return c.nLayers === 1 && c.dropout === 0 && c.l1 === 0 && c.loss !== 'stablemax' && c.lossPrecision !== 'f32' && c.attnRate === 1 && (!batch || (batch.aOneHot !== undefined && batch.bOneHot !== undefined));
}

const singles = new WeakMap<PairBatch, FusedPairs>();

/** A single run's batch as fused pairs (NM = 1), made once and freed with `disposeFusedBatch`. */
export function fusedPairsFor(batch: PairBatch, eqToken: number): FusedPairs {
  let p = singles.get(batch);
  if (!p) {
    const n = batch.n;
    p = tf.tidy(() => ({
      n,
      a: tf.keep(tf.reshape(batch.a, [1, n]) as tf.Tensor2D),
      b: tf.keep(tf.reshape(batch.b, [1, n]) as tf.Tensor2D),
      labels: tf.keep(tf.clone(batch.labelsOneHot)),
      weights: tf.keep(tf.fill([n], 1 / n)) as tf.Tensor1D,
      scatter: tf.keep(scatterMatrix(batch.aOneHot!.t, batch.bOneHot!.t, eqToken)),
    }));
    singles.set(batch, p);
  }
  return p;
}

export function disposeFusedPairs(p: FusedPairs): void {
  tf.dispose([p.a, p.b, p.labels, p.weights, p.scatter]);
}

export function disposeFusedBatch(batch: PairBatch): void {
  const p = singles.get(batch);
  if (p) disposeFusedPairs(p);
  singles.delete(batch);
}

const SHORT: Record<string, keyof StepLayout['off']> = {
  'embed.W_E': 'E',
  'pos_embed.W_pos': 'P',
  'blocks.0.attn.W_Q': 'Q',
  'blocks.0.attn.W_K': 'K',
  'blocks.0.attn.W_V': 'V',
  'blocks.0.attn.W_O': 'O',
  'blocks.0.mlp.W_in': 'In',
  'blocks.0.mlp.b_in': 'Bin',
  'blocks.0.mlp.W_out': 'Out',
  'blocks.0.mlp.b_out': 'Bout',
  'unembed.W_U': 'U',
};

/** Sizes and offsets in one model's flat vector (paramSpecs order, as the optimizer's). */
export function stepLayout(c: TrainConfig, n: number, models = 1): StepLayout {
  const { dHead, dVocab, dVocabOut } = dims(c);
  const off = {} as StepLayout['off'];
  let o = 0;
  for (const spec of paramSpecs(c)) {
    off[SHORT[spec.name]] = o;
    o += size(spec.shape);
  }
  return { v: dVocab, d: c.dModel, h: c.nHeads, dh: dHead, m: c.dMlp, vOut: dVocabOut, eq: c.p, n, size: o, models, relu: c.act === 'relu', off };
}

/**
 * The training loss of each model `[NM]` and its gradient `[NM, S]`, each model's flat in
 * paramSpecs order. `w` `[NM, S]` is the same weights flat (the optimizer's); `params` (model axis
 * first) gives tfjs's products their matrices.
 */
export function fusedLossAndGrad(params: Params, w: tf.Tensor2D, c: TrainConfig, pairs: FusedPairs): { loss: tf.Tensor1D; g: tf.Tensor2D } {
  return tf.tidy(() => {
    const models = w.shape[0];
    const x = stepLayout(c, pairs.n, models);
    const hd = x.h * x.dh;
    const W_O = tf.reshape(params['blocks.0.attn.W_O'], [models, hd, x.d]) as tf.Tensor3D;
    const W_in = params['blocks.0.mlp.W_in'] as tf.Tensor3D;
    const W_out = params['blocks.0.mlp.W_out'] as tf.Tensor3D;
    const W_U = params['unembed.W_U'] as tf.Tensor3D;
    const [t, q, eqRow] = stepTables(w, x);
    const t4 = tf.reshape(t, [models, 3, x.v, x.h + hd]) as tf.Tensor4D;
    const [z, pattern] = attentionMixForward(t4, pairs.a, pairs.b, x.h, x.dh, c.p);
    const resid = tf.fused.matMul({ a: z, b: W_O, bias: eqRow }) as tf.Tensor3D;
    const pre = tf.matMul(resid, W_in);
    const [post, residB] = stepAct(pre, w, resid, x);
    const out = tf.fused.matMul({ a: post, b: W_out, bias: residB });
    const logits = tf.matMul(out, W_U);
    const [rows, dlogitsFlat] = crossEntropyRowsFused(tf.reshape(logits, [models * x.n, x.vOut]) as tf.Tensor2D, pairs.labels, pairs.weights);
    // The kernel weighted each row by 1/N of its model: a model's loss is the sum of its rows.
    const loss = tf.sum(tf.reshape(rows, [models, x.n]), 1) as tf.Tensor1D;
    const dlogits = tf.reshape(dlogitsFlat, [models, x.n, x.vOut]);

    const dout = tf.matMul(dlogits, W_U, false, true);
    const dW_U = tf.matMul(out, dlogits, true, false);
    const dpost = tf.matMul(dout, W_out, false, true);
    const dW_out = tf.matMul(post, dout, true, false);
    const [dpre, g1] = stepActGrad(dpost, x.relu ? post : pre, w, dout, dW_U, dW_out, x);
    // The residual's gradient rides as the bias of dpre·W_inᵀ.
    const dresid = tf.fused.matMul({ a: dpre, b: W_in, transposeB: true, bias: dout });
    const dW_in = tf.matMul(resid, dpre, true, false);
    const dz = tf.matMul(dresid, W_O, false, true) as tf.Tensor3D;
    const dW_O = tf.matMul(z, dresid, true, false);
    const dt = attentionMixBackward(dz, pattern, t4, pairs.a, pairs.b, pairs.scatter, x.h, x.dh, c.p);
    const [dq, g2] = stepDq(dt, w, dW_in, dW_O, g1, x);
    return { loss, g: stepDw(dt, w, q, dq, dresid, g2, x) };
  });
}

/** `fusedLossAndGrad` of a single run (NM = 1): its mean loss and flat gradient `[S]`. */
export function fusedLossAndGradSingle(params: Params, w: tf.Tensor1D, c: TrainConfig, batch: PairBatch): { loss: tf.Scalar; g: tf.Tensor1D } {
  const pairs = fusedPairsFor(batch, c.p);
  return tf.tidy(() => {
    // A model axis of 1: reshapes, which copy nothing on webgpu.
    const withAxis = Object.fromEntries(Object.entries(params).map(([name, p]) => [name, tf.reshape(p, [1, ...p.shape])]));
    const r = fusedLossAndGrad(withAxis, tf.reshape(w, [1, w.size]) as tf.Tensor2D, c, pairs);
    return { loss: tf.reshape(r.loss, []) as tf.Scalar, g: tf.reshape(r.g, [w.size]) as tf.Tensor1D };
  });
}
