/**
 * The appendix tasks' transformer (App. D.3): the paper's architecture over n_ctx positions —
 * learned positions, causal attention, an MLP with ReLU or none (attention-only), no LayerNorm,
 * untied embed/unembed — with logits at every position. Parameters by their TransformerLens names,
 * initialized as the mainline's (params.ts): N(0, 1/d_model), W_U ~ N(0, 1/d_vocab), biases 0.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Rng, streamSeed } from '../../random/rng.ts';
import { SEQUENCE_TASKS, type SequenceBatch, type SequenceModelShape, type SequenceTaskName } from '../../task/sequence.ts';
import { causalMask } from '../transformer/forward.ts';
import { mm, oneHotFloat, transposeLast } from '../transformer/ops.ts';

export interface SequenceModelSpec extends SequenceModelShape {
  vocab: number;
  vocabOut: number;
  nCtx: number;
}

/** The model of a task, as the paper's appendix gives it (task/sequence.ts). */
export function sequenceModelOf(task: SequenceTaskName): SequenceModelSpec {
  const spec = SEQUENCE_TASKS[task];
  return { ...spec.model, vocab: spec.vocab, vocabOut: spec.vocabOut, nCtx: spec.nCtx };
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
  /** [M·N, n_ctx, vocabOut]: the M models' logits, model by model. */
  logits: tf.Tensor3D;
  /** Per layer, the attention patterns [M·N, heads, query, key] (only when asked). */
  patterns: tf.Tensor4D[];
}

/**
 * a [M, r, k] · b [M, k, c] → [M, r, c]. One model (M = 1) multiplies as a plain 2-D product, the
 * path (and the wasm operator cache, ops.ts) the single model has always used.
 */
function bmm(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  const [M, r, k] = a.shape;
  const c = b.shape[2]!;
  if (M !== 1) return mm(a, b);
  return tf.reshape(mm(tf.reshape(a, [r!, k!]), tf.reshape(b, [k!, c])), [1, r!, c]);
}

/**
 * The forward of a batch of N examples for each of M models. Parameters are one model's shapes
 * (M = 1) or stacked along a leading model axis [M, ...] (batched.ts: a sweep trained in one
 * update, each model on its own examples); `s` holds the models' examples one model after another.
 * `s.tokensOneHot` embeds (a product, differentiable on wasm: ops.ts's gatherRows).
 */
export function sequenceForward(params: Map<string, tf.Tensor>, m: SequenceModelSpec, s: Pick<SequenceTensors, 'n' | 'nCtx' | 'tokensOneHot'>, keepPatterns = false): SequenceForward {
  const patterns: tf.Tensor4D[] = [];
  const logits = tf.tidy(() => {
    const { n, nCtx: t } = s;
    const stacked = params.get('embed.W_E')!.rank === 3;
    const M = stacked ? params.get('embed.W_E')!.shape[0] : 1;
    // Every parameter with its model axis.
    const p = (name: string) => (stacked ? params.get(name)! : tf.expandDims(params.get(name)!, 0));
    const { dModel: d, nHeads: h, dHead: dh } = m;
    const embedded = bmm(tf.reshape(s.tokensOneHot, [M, n * t, m.vocab]), p('embed.W_E'));
    const pos = tf.expandDims(tf.slice(p('pos_embed.W_pos'), [0, 0, 0], [M, t, d]), 1);
    let x = tf.reshape(tf.add(tf.reshape(embedded, [M, n, t, d]), pos), [M, n * t, d]);
    const mask = causalMask(t);
    for (let l = 0; l < m.nLayers; l++) {
      const w = (name: string) => p(`blocks.${l}.${name}`);
      // [M, h, d, dh] → [M, d, h·dh], heads side by side.
      const side = (wt: tf.Tensor) => tf.reshape(tf.transpose(wt, [0, 2, 1, 3]), [M, d, h * dh]);
      const heads = (wt: tf.Tensor) => tf.reshape(tf.transpose(tf.reshape(bmm(x, side(wt)), [M * n, t, h, dh]), [0, 2, 1, 3]), [M * n * h, t, dh]);
      const q = heads(w('attn.W_Q'));
      const k = heads(w('attn.W_K'));
      const v = heads(w('attn.W_V'));
      const pattern = tf.softmax(tf.add(tf.div(mm(q, transposeLast(k)), Math.sqrt(dh)), mask));
      if (keepPatterns) patterns.push(tf.keep(tf.reshape(pattern, [M * n, h, t, t])) as tf.Tensor4D);
      const z = tf.reshape(tf.transpose(tf.reshape(mm(pattern, v), [M * n, h, t, dh]), [0, 2, 1, 3]), [M, n * t, h * dh]);
      x = tf.add(x, bmm(z, tf.reshape(w('attn.W_O'), [M, h * dh, d])));
      if (m.dMlp > 0) {
        const post = tf.relu(tf.add(bmm(x, w('mlp.W_in')), tf.expandDims(w('mlp.b_in'), 1)));
        x = tf.add(x, tf.add(bmm(post, w('mlp.W_out')), tf.expandDims(w('mlp.b_out'), 1)));
      }
    }
    return tf.reshape(bmm(x, p('unembed.W_U')), [M * n, t, m.vocabOut]) as tf.Tensor3D;
  });
  return { logits, patterns };
}

/**
 * Batch arrays as tensors, for one model or for M models one after another (each its own batch of
 * the same N and n_ctx): one-hot tokens [M·N·n, vocab], one-hot targets [M·N·n, vocabOut], weights [M·N·n].
 */
export interface SequenceTensors {
  n: number;
  nCtx: number;
  tokensOneHot: tf.Tensor2D;
  targets: tf.Tensor2D;
  weights: tf.Tensor1D;
  /** Σ weights (the number of predictions counted), of all models. */
  count: number;
  /** Σ weights of each model. */
  counts: number[];
}

export function sequenceTensors(b: SequenceBatch | SequenceBatch[], m: Pick<SequenceModelSpec, 'vocab' | 'vocabOut'>): SequenceTensors {
  const batches = Array.isArray(b) ? b : [b];
  const { n, nCtx } = batches[0];
  if (batches.some((x) => x.n !== n || x.nCtx !== nCtx)) throw new Error('the models of one batched update need batches of the same size');
  const join = <T extends Int32Array | Float32Array>(make: (k: number) => T, get: (x: SequenceBatch) => T) => {
    if (batches.length === 1) return get(batches[0]);
    const out = make(batches.length * n * nCtx);
    batches.forEach((x, i) => out.set(get(x), i * n * nCtx));
    return out;
  };
  const counts = batches.map((x) => x.weights.reduce((a, w) => a + w, 0));
  const tokens = join((k) => new Int32Array(k), (x) => x.tokens);
  const targets = join((k) => new Int32Array(k), (x) => x.targets);
  const weights = join((k) => new Float32Array(k), (x) => x.weights);
  return tf.tidy(() => ({
    n,
    nCtx,
    tokensOneHot: oneHotFloat(tf.tensor1d(tokens, 'int32'), m.vocab),
    targets: oneHotFloat(tf.tensor1d(targets, 'int32'), m.vocabOut),
    weights: tf.tensor1d(weights),
    count: counts.reduce((a, c) => a + c, 0),
    counts,
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

/** Each model's mean loss over its counted predictions [M]. */
export function modelLosses(logits: tf.Tensor3D, s: SequenceTensors): tf.Tensor1D {
  return tf.tidy(() => tf.div(tf.sum(tf.reshape(positionLosses(logits, s), [s.counts.length, -1]), 1), tf.tensor1d(s.counts)) as tf.Tensor1D);
}

/** The loss trained on: one model's mean loss over its counted predictions, or the sum of M models' (each its own gradient). */
export function sequenceLoss(logits: tf.Tensor3D, s: SequenceTensors): tf.Scalar {
  if (s.counts.length === 1) return tf.tidy(() => tf.div(tf.sum(positionLosses(logits, s)), s.count) as tf.Scalar);
  return tf.tidy(() => tf.sum(modelLosses(logits, s)) as tf.Scalar);
}

/** Whether each position's argmax is its target [N·n] (1/0; 0 where not counted). */
export function positionCorrect(logits: tf.Tensor3D, s: SequenceTensors): tf.Tensor1D {
  return tf.tidy(() => {
    const flat = tf.reshape(logits, [-1, logits.shape[2]]);
    return tf.mul(tf.cast(tf.equal(tf.argMax(flat, 1), tf.argMax(s.targets, 1)), 'float32'), s.weights) as tf.Tensor1D;
  });
}
