/**
 * The appendix tasks' transformer (App. D.3): the paper's architecture over n_ctx positions —
 * learned positions, causal attention, an MLP with ReLU or none (attention-only), no LayerNorm,
 * untied embed/unembed — with logits at every position. Parameters by their TransformerLens names,
 * initialized as the mainline's (params.ts): N(0, 1/d_model), W_U ~ N(0, 1/d_vocab), biases 0.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Rng, streamSeed } from '../../random/rng.ts';
import type { SequenceBatch, SequenceModelShape } from '../../task/sequence.ts';
import { causalMask } from '../transformer/forward.ts';
import { mm, oneHotFloat, transposeLast } from '../transformer/ops.ts';

export interface SequenceModelSpec extends SequenceModelShape {
  vocab: number;
  vocabOut: number;
  nCtx: number;
}

export function sequenceParamShapes(m: SequenceModelSpec): { name: string; shape: number[]; initStd: number }[] {
  const s = 1 / Math.sqrt(m.dModel);
  const out = [
    { name: 'embed.W_E', shape: [m.vocab, m.dModel], initStd: s },
    { name: 'pos_embed.W_pos', shape: [m.nCtx, m.dModel], initStd: s },
  ];
  for (let l = 0; l < m.nLayers; l++) {
    const b = `blocks.${l}`;
    out.push(
      { name: `${b}.attn.W_Q`, shape: [m.nHeads, m.dModel, m.dHead], initStd: s },
      { name: `${b}.attn.W_K`, shape: [m.nHeads, m.dModel, m.dHead], initStd: s },
      { name: `${b}.attn.W_V`, shape: [m.nHeads, m.dModel, m.dHead], initStd: s },
      { name: `${b}.attn.W_O`, shape: [m.nHeads, m.dHead, m.dModel], initStd: s },
    );
    if (m.dMlp > 0) {
      out.push(
        { name: `${b}.mlp.W_in`, shape: [m.dModel, m.dMlp], initStd: s },
        { name: `${b}.mlp.b_in`, shape: [m.dMlp], initStd: 0 },
        { name: `${b}.mlp.W_out`, shape: [m.dMlp, m.dModel], initStd: s },
        { name: `${b}.mlp.b_out`, shape: [m.dModel], initStd: 0 },
      );
    }
  }
  out.push({ name: 'unembed.W_U', shape: [m.dModel, m.vocabOut], initStd: 1 / Math.sqrt(m.vocab) });
  return out;
}

let nextModelId = 0;

/** Seeded initial weights (stream 'init' of the seed), as variables by parameter name (each model's own tfjs names). */
export function initSequenceParams(m: SequenceModelSpec, seed: number): Map<string, tf.Variable> {
  const id = nextModelId++;
  const rng = new Rng(streamSeed(seed, 'init'));
  const params = new Map<string, tf.Variable>();
  for (const { name, shape, initStd } of sequenceParamShapes(m)) {
    const values = new Float32Array(shape.reduce((a, b) => a * b, 1));
    if (initStd > 0) for (let i = 0; i < values.length; i++) values[i] = rng.normal() * initStd;
    params.set(name, tf.tidy(() => tf.variable(tf.tensor(values, shape), true, `seq${id}/${name}`)));
  }
  return params;
}

export interface SequenceForward {
  /** [N, n_ctx, vocabOut] */
  logits: tf.Tensor3D;
  /** Per layer, the attention patterns [N, heads, query, key] (only when asked). */
  patterns: tf.Tensor4D[];
}

/** The forward of a batch; `s.tokensOneHot` embeds (a product, differentiable on wasm: ops.ts's gatherRows). */
export function sequenceForward(params: Map<string, tf.Tensor>, m: SequenceModelSpec, s: Pick<SequenceTensors, 'n' | 'nCtx' | 'tokensOneHot'>, keepPatterns = false): SequenceForward {
  const patterns: tf.Tensor4D[] = [];
  const logits = tf.tidy(() => {
    const { n, nCtx: t } = s;
    const p = (name: string) => params.get(name)!;
    const h = m.nHeads;
    const embedded = tf.reshape(mm(s.tokensOneHot, p('embed.W_E')), [n, t, m.dModel]);
    let x = tf.reshape(tf.add(embedded, tf.slice(p('pos_embed.W_pos'), [0, 0], [t, m.dModel])), [n * t, m.dModel]);
    const mask = causalMask(t);
    for (let l = 0; l < m.nLayers; l++) {
      const w = (name: string) => p(`blocks.${l}.${name}`);
      // [h, d, dh] → [d, h·dh], heads side by side.
      const side = (wt: tf.Tensor) => tf.reshape(tf.transpose(wt, [1, 0, 2]), [m.dModel, h * m.dHead]);
      const heads = (wt: tf.Tensor) => tf.reshape(tf.transpose(tf.reshape(mm(x, side(wt)), [n, t, h, m.dHead]), [0, 2, 1, 3]), [n * h, t, m.dHead]);
      const q = heads(w('attn.W_Q'));
      const k = heads(w('attn.W_K'));
      const v = heads(w('attn.W_V'));
      const pattern = tf.softmax(tf.add(tf.div(mm(q, transposeLast(k)), Math.sqrt(m.dHead)), mask));
      if (keepPatterns) patterns.push(tf.keep(tf.reshape(pattern, [n, h, t, t])) as tf.Tensor4D);
      const z = tf.reshape(tf.transpose(tf.reshape(mm(pattern, v), [n, h, t, m.dHead]), [0, 2, 1, 3]), [n * t, h * m.dHead]);
      x = tf.add(x, mm(z, tf.reshape(w('attn.W_O'), [h * m.dHead, m.dModel])));
      if (m.dMlp > 0) {
        const post = tf.relu(tf.add(mm(x, w('mlp.W_in')), w('mlp.b_in')));
        x = tf.add(x, tf.add(mm(post, w('mlp.W_out')), w('mlp.b_out')));
      }
    }
    return tf.reshape(mm(x, p('unembed.W_U')), [n, t, m.vocabOut]) as tf.Tensor3D;
  });
  return { logits, patterns };
}

/** Batch arrays as tensors: one-hot tokens [N·n, vocab], one-hot targets [N·n, vocabOut], weights [N·n]. */
export interface SequenceTensors {
  n: number;
  nCtx: number;
  tokensOneHot: tf.Tensor2D;
  targets: tf.Tensor2D;
  weights: tf.Tensor1D;
  /** Σ weights (the number of predictions counted). */
  count: number;
}

export function sequenceTensors(b: SequenceBatch, m: Pick<SequenceModelSpec, 'vocab' | 'vocabOut'>): SequenceTensors {
  let count = 0;
  for (let i = 0; i < b.weights.length; i++) count += b.weights[i];
  return tf.tidy(() => ({
    n: b.n,
    nCtx: b.nCtx,
    tokensOneHot: oneHotFloat(tf.tensor1d(b.tokens, 'int32'), m.vocab),
    targets: oneHotFloat(tf.tensor1d(b.targets, 'int32'), m.vocabOut),
    weights: tf.tensor1d(b.weights),
    count,
  }));
}

export function disposeSequenceTensors(s: SequenceTensors): void {
  tf.dispose([s.tokensOneHot, s.targets, s.weights]);
}

/** Cross-entropy at every position [N·n] (−log softmax at the target; 0 where not counted). */
export function positionLosses(logits: tf.Tensor3D, s: SequenceTensors): tf.Tensor1D {
  return tf.tidy(() => {
    const flat = tf.reshape(logits, [-1, logits.shape[2]]);
    const nll = tf.neg(tf.sum(tf.mul(tf.logSoftmax(flat), s.targets), 1));
    return tf.mul(nll, s.weights) as tf.Tensor1D;
  });
}

/** The mean loss over the counted predictions. */
export function sequenceLoss(logits: tf.Tensor3D, s: SequenceTensors): tf.Scalar {
  return tf.tidy(() => tf.div(tf.sum(positionLosses(logits, s)), s.count) as tf.Scalar);
}

/** Whether each position's argmax is its target [N·n] (1/0; 0 where not counted). */
export function positionCorrect(logits: tf.Tensor3D, s: SequenceTensors): tf.Tensor1D {
  return tf.tidy(() => {
    const flat = tf.reshape(logits, [-1, logits.shape[2]]);
    return tf.mul(tf.cast(tf.equal(tf.argMax(flat, 1), tf.argMax(s.targets, 1)), 'float32'), s.weights) as tf.Tensor1D;
  });
}
