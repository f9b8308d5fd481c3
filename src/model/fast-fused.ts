/**
 * The fast forward (fast.ts) for training on WebGPU with fused kernels: the same function of the
 * same weights, arranged for few GPU dispatches. The per-token tables of the three positions are
 * one fused kernel (webgpu-tables.ts), the attention of '=' is one fused kernel
 * (webgpu-attention.ts), the MLP's bias and ReLU are one kernel (and its
 * backward is written, the residual's gradient riding as a product's bias), and the other biases
 * ride in tfjs's fused matmul (their gradients one column sum each). fast.ts stays
 * the reference (and serves analysis, taps and dropout); test/browser/fused.test.ts checks values
 * and gradients against it.
 */
import * as tf from '@tensorflow/tfjs-core';
import { dims, type TrainConfig } from '../config/schema.ts';
import { activation, type PairBatch, type Params } from './forward.ts';
import { mm } from './ops.ts';
import { attentionMixFused, scatterMatrix } from './webgpu-attention.ts';
import { matMulBiasFused, mlpResidualFused } from './webgpu-fused.ts';
import { addRowFused, embedAllFused, tablesFused } from './webgpu-tables.ts';

/** Whether `forwardFastFused` computes this model's training forward. */
export function fusedForwardFits(c: TrainConfig, batch: PairBatch): boolean {
  return c.nLayers === 1 && c.dropout === 0 && batch.aOneHot !== undefined && batch.bOneHot !== undefined;
}

const scatters = new WeakMap<PairBatch, tf.Tensor3D>();

/** The batch's constant scatter matrix, made once and freed with `disposeFusedBatch`. */
function scatterFor(batch: PairBatch, eqToken: number): tf.Tensor3D {
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

export function forwardFastFused(params: Params, c: TrainConfig, batch: PairBatch): tf.Tensor2D {
  const scatter = scatterFor(batch, c.p);
  return tf.tidy(() => {
    const { dHead, dVocab } = dims(c);
    const h = c.nHeads;
    const hd = h * dHead;
    const W_E = params['embed.W_E'] as tf.Tensor2D;
    const W_pos = params['pos_embed.W_pos'] as tf.Tensor2D;
    // Every token at every position, [3·d_vocab, d]: the tables' input, and '=' at position 2.
    const resid3 = embedAllFused(W_E, W_pos);
    const p = (name: string) => params[`blocks.0.attn.${name}`];
    const tables = tf.reshape(tablesFused(resid3 as tf.Tensor2D, p('W_Q'), p('W_K'), p('W_V'), 2 * dVocab + c.p), [3, dVocab, h + hd]);
    const z = attentionMixFused(tables as tf.Tensor3D, batch.a, batch.b, scatter, h, dHead, c.p); // [N, h·dh]
    // The residual stream at '=': attention output plus '=' at position 2, row 2·d_vocab + p.
    const resid = addRowFused(mm(z, tf.reshape(params['blocks.0.attn.W_O'], [hd, c.dModel])), resid3, 2 * dVocab + c.p); // [N, d]
    const mlp = (name: string) => params[`blocks.0.mlp.${name}`] as tf.Tensor2D;
    const out =
      c.act === 'relu'
        ? mlpResidualFused(resid, mlp('W_in'), mlp('b_in'), mlp('W_out'), mlp('b_out'))
        : tf.add(resid, matMulBiasFused(activation(c, tf.add(mm(resid, mlp('W_in')), mlp('b_in'))) as tf.Tensor2D, mlp('W_out'), mlp('b_out')));
    return mm(out, params['unembed.W_U']) as tf.Tensor2D;
  });
}
