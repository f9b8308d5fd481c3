/**
 * The loss and gradient of a 1-block model on WebGPU, written by hand around fused kernels
 * (webgpu-step.ts, webgpu-attention.ts, webgpu-fused.ts) and tfjs's matmul: the fast forward
 * (fast.ts) of the same weights, and its backward without tfjs's autodiff, so the gradient comes
 * out as one flat vector in the optimizer's order (no packing) and the embedding's, the '=' row's
 * and the residual's gradients are summed inside kernels (no adds). 25 dispatches with the
 * update (fused.test.ts counts them). fast.ts stays the reference: test/browser/fused.test.ts
 * compares losses, gradients, weights and moments with the general path.
 *
 * Forward: tables (1), attention (1), resid = z·W_O + R[EQ] (tfjs's fused matmul with a bias),
 * pre = resid·W_in, post = act(pre + b_in) with resid + b_out (1), out = post·W_out + (resid +
 * b_out), logits = out·W_U, the cross-entropy rows and their gradient (1), the mean.
 * Backward: 9 products (2 per weight matrix, 1 scatter) and 4 kernels (webgpu-step.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import { dims, type TrainConfig } from '../config/schema.ts';
import type { PairBatch, Params } from './forward.ts';
import { paramSpecs, size } from './params.ts';
import { attentionMixBackward, attentionMixForward, scatterMatrix } from './webgpu-attention.ts';
import { crossEntropyRowsFused } from './webgpu-fused.ts';
import { stepAct, stepActGrad, stepDq, stepDw, stepTables, type StepLayout } from './webgpu-step.ts';

/** Whether `fusedLossAndGrad` computes this model's training step (1 block, no dropout, no L1). */
export function fusedStepFits(c: TrainConfig, batch: PairBatch): boolean {
  return c.nLayers === 1 && c.dropout === 0 && c.l1 === 0 && batch.aOneHot !== undefined && batch.bOneHot !== undefined;
}

const scatters = new WeakMap<PairBatch, tf.Tensor3D>();

/** The batch's constant scatter matrix, made once and freed with `disposeFusedBatch`. */
export function scatterFor(batch: PairBatch, eqToken: number): tf.Tensor3D {
  let s = scatters.get(batch);
  if (!s) {
    s = tf.keep(scatterMatrix(batch.aOneHot!.t, batch.bOneHot!.t, eqToken));
    scatters.set(batch, s);
  }
  return s;
}

export function disposeFusedBatch(batch: PairBatch): void {
  scatters.get(batch)?.dispose();
  scatters.delete(batch);
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

/** Sizes and offsets in the flat vector (paramSpecs order, as the optimizer's). */
export function stepLayout(c: TrainConfig, n: number): StepLayout {
  const { dHead, dVocab, dVocabOut } = dims(c);
  const off = {} as StepLayout['off'];
  let o = 0;
  for (const spec of paramSpecs(c)) {
    off[SHORT[spec.name]] = o;
    o += size(spec.shape);
  }
  return { v: dVocab, d: c.dModel, h: c.nHeads, dh: dHead, m: c.dMlp, vOut: dVocabOut, eq: c.p, n, size: o, relu: c.act === 'relu', off };
}

/**
 * The mean training loss of the weights and its gradient, flat in paramSpecs order. `w` is the
 * same weights flat (the optimizer's `flatWeights`); `params` gives tfjs's products their matrices.
 */
export function fusedLossAndGrad(params: Params, w: tf.Tensor1D, c: TrainConfig, batch: PairBatch): { loss: tf.Scalar; g: tf.Tensor1D } {
  const scatter = scatterFor(batch, c.p);
  return tf.tidy(() => {
    const x = stepLayout(c, batch.n);
    const hd = x.h * x.dh;
    const W_O = tf.reshape(params['blocks.0.attn.W_O'], [hd, x.d]) as tf.Tensor2D;
    const W_in = params['blocks.0.mlp.W_in'] as tf.Tensor2D;
    const W_out = params['blocks.0.mlp.W_out'] as tf.Tensor2D;
    const W_U = params['unembed.W_U'] as tf.Tensor2D;
    const [t, q, eqRow] = stepTables(w, x);
    const t3 = tf.reshape(t, [3, x.v, x.h + hd]) as tf.Tensor3D;
    const [z, pattern] = attentionMixForward(t3, batch.a, batch.b, x.h, x.dh, c.p);
    const resid = tf.fused.matMul({ a: z, b: W_O, bias: eqRow }) as tf.Tensor2D;
    const pre = tf.matMul(resid, W_in);
    const [post, residB] = stepAct(pre, w, resid, x);
    const out = tf.fused.matMul({ a: post, b: W_out, bias: residB });
    const logits = tf.matMul(out, W_U) as tf.Tensor2D;
    const [rows, dlogits] = crossEntropyRowsFused(logits, batch.labelsOneHot);
    const loss = tf.mean(rows) as tf.Scalar;

    const dout = tf.matMul(dlogits, W_U, false, true);
    const dW_U = tf.matMul(out, dlogits, true, false);
    const dpost = tf.matMul(dout, W_out, false, true);
    const dW_out = tf.matMul(post, dout, true, false);
    const [dpre, g1] = stepActGrad(dpost, x.relu ? post : pre, w, dout, dW_U, dW_out, x);
    // The residual's gradient rides as the bias of dpre·W_inᵀ.
    const dresid = tf.fused.matMul({ a: dpre, b: W_in, transposeB: true, bias: dout });
    const dW_in = tf.matMul(resid, dpre, true, false);
    const dz = tf.matMul(dresid, W_O, false, true) as tf.Tensor2D;
    const dW_O = tf.matMul(z, dresid, true, false);
    const dt = attentionMixBackward(dz, pattern, t3, batch.a, batch.b, scatter, x.h, x.dh, c.p);
    const [dq, g2] = stepDq(dt, w, dW_in, dW_O, g1, x);
    return { loss, g: stepDw(dt, w, q, dq, dresid, g2, x) };
  });
}
