/**
 * Interventions on a checkpoint (the syntax is in src/config/ablations.ts) and what a person sees
 * of one input: a forward pass of a 1-layer model at the '=' position over a set of pairs with
 * frequencies, neuron clusters or heads knocked out; the loss, accuracy and correctness map after;
 * and the logits, attention and neuron contributions of a single pair (a, b).
 *
 * The forward is the model's (ANALYSIS.md §2) written out at the last position, as fast.ts does
 * for training: '=' queries keys and values that depend on one token each, so every table is
 * `[P, …]` and a pair's values are gathered from it.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Ablation } from '../config/ablations.ts';
import { dims, type TrainConfig } from '../config/schema.ts';
import { activation, headsSideBySide, type Params } from '../model/transformer/forward.ts';
import { attentionRate, crossEntropyPerExample, mm } from '../model/transformer/ops.ts';

/** Why a model cannot take interventions, or null. */
export function interventionProblem(config: TrainConfig, ablations: readonly Ablation[]): string | null {
  if (ablations.length > 0 && config.nLayers !== 1) return 'interventions need a 1-layer model';
  return null;
}

/** What the intervened forward returns over its pairs. */
export interface AblatedForward {
  /** `[N, d_vocab_out]` last-position logits. */
  logits: tf.Tensor2D;
  /** `[N, d_mlp]` MLP neurons after the intervention. */
  mlpPost: tf.Tensor2D;
  /** `[N, heads, 3]` attention from '=' to a, b, '='. */
  pattern: tf.Tensor3D;
}

/** Unit directions of cos(w_k(a+b)) and sin(w_k(a+b)) over `pairs`, `[N, |ks|]` each. */
function pairDirections(p: number, pairs: Int32Array, ks: readonly number[]): { U: tf.Tensor2D; V: tf.Tensor2D } {
  const n = ks.length;
  const u = new Float32Array(pairs.length * n);
  const v = new Float32Array(pairs.length * n);
  const scale = Math.SQRT2 / p; // Σ_ab cos² = P²/2
  pairs.forEach((i, r) => {
    const s = Math.floor(i / p) + (i % p);
    ks.forEach((k, j) => {
      const w = (2 * Math.PI * k * (s % p)) / p;
      u[r * n + j] = Math.cos(w) * scale;
      v[r * n + j] = Math.sin(w) * scale;
    });
  });
  return { U: tf.tensor2d(u, [pairs.length, n]), V: tf.tensor2d(v, [pairs.length, n]) };
}

/** The projection Σ_k F_kᵀF_k on the cos and sin rows of frequencies ks, `[P, P]`. */
function frequencyProjection(F: tf.Tensor2D, ks: readonly number[]): tf.Tensor2D {
  const rows = tf.gather(F, tf.tensor1d(ks.flatMap((k) => [2 * k - 1, 2 * k]), 'int32')) as tf.Tensor2D;
  return mm(tf.transpose(rows) as tf.Tensor2D, rows);
}

/** Per-item masks: 1 keeps, `mean` selects those replaced by their mean over the pairs. */
function masks(n: number, hit: (i: number) => Ablation | undefined): { keep: tf.Tensor1D; mean: tf.Tensor1D } | null {
  const keep = new Float32Array(n).fill(1);
  const mean = new Float32Array(n);
  let any = false;
  for (let i = 0; i < n; i++) {
    const a = hit(i);
    if (!a) continue;
    any = true;
    keep[i] = 0;
    if (a.mode === 'mean') mean[i] = 1;
  }
  return any ? { keep: tf.tensor1d(keep), mean: tf.tensor1d(mean) } : null;
}

/** x·keep + mean_pairs(x)·mean along the last axis (a zero or mean ablation). */
function applyMasks<T extends tf.Tensor>(x: T, m: { keep: tf.Tensor1D; mean: tf.Tensor1D }, shape: number[]): T {
  return tf.add(tf.mul(x, tf.reshape(m.keep, shape)), tf.mul(tf.mean(x, 0, true), tf.reshape(m.mean, shape))) as T;
}

/**
 * The 1-layer model over all P² pairs (pair i = a·P + b, in order) with the interventions applied:
 * frequencies removed from W_E first, then heads, neuron clusters (by `neuronFreq`, int32 `[d_mlp]`,
 * each neuron's frequency, §5.11), W_L and
 * the logits. Means are over all P² pairs of the intervened model.
 */
export function ablatedForward(params: Params, config: TrainConfig, F: tf.Tensor2D, ablations: readonly Ablation[], neuronFreq: tf.Tensor1D): AblatedForward {
  const problem = interventionProblem(config, ablations);
  if (problem) throw new Error(problem);
  return tf.tidy(() => {
    const p = config.p;
    const h = config.nHeads;
    const { dHead, dVocabOut } = dims(config);
    const d = config.dModel;
    const ks = (t: Ablation['target']) => ablations.filter((a) => a.target === t).map((a) => a.index);
    const W_E = params['embed.W_E'] as tf.Tensor2D;
    let E = tf.slice(W_E, [0, 0], [p, d]) as tf.Tensor2D;
    if (ks('we').length > 0) E = tf.sub(E, mm(frequencyProjection(F, ks('we')), E)) as tf.Tensor2D;
    const pos = params['pos_embed.W_pos'] as tf.Tensor2D;
    const posRow = (i: number) => tf.slice(pos, [i, 0], [1, d]);
    const x0 = tf.add(E, posRow(0)) as tf.Tensor2D; // token a at position 0, [P, d]
    const x1 = tf.add(E, posRow(1)) as tf.Tensor2D;
    const x2 = tf.add(tf.slice(W_E, [p, 0], [1, d]), posRow(2)) as tf.Tensor2D; // '='
    const W = (name: string) => headsSideBySide(params[`blocks.0.attn.${name}`]);
    const q = tf.reshape(mm(x2, W('W_Q')), [1, h, dHead]);
    const score = (x: tf.Tensor2D) => tf.div(tf.sum(tf.mul(tf.reshape(mm(x, W('W_K')), [x.shape[0], h, dHead]), q), 2), Math.sqrt(dHead)); // [n, h]
    const W_O = params['blocks.0.attn.W_O'] as tf.Tensor3D;
    // Each token's value through W_O, per head: [n, h, d].
    const ov = (x: tf.Tensor2D) => tf.transpose(mm(tf.transpose(tf.reshape(mm(x, W('W_V')), [x.shape[0], h, dHead]), [1, 0, 2]) as tf.Tensor3D, W_O), [1, 0, 2]);
    const aIdx = tf.tensor1d(Int32Array.from({ length: p * p }, (_, i) => Math.floor(i / p)), 'int32');
    const bIdx = tf.tensor1d(Int32Array.from({ length: p * p }, (_, i) => i % p), 'int32');
    const n = p * p;
    const sEq = tf.tile(score(x2), [n, 1]);
    const pattern = attentionRate(tf.softmax(tf.stack([tf.gather(score(x0), aIdx), tf.gather(score(x1), bIdx), sEq], 2)), config.attnRate) as tf.Tensor3D; // [n, h, 3]
    const weight = (i: number) => tf.slice(pattern, [0, 0, i], [n, h, 1]);
    let heads = tf.addN([tf.mul(weight(0), tf.gather(ov(x0), aIdx)), tf.mul(weight(1), tf.gather(ov(x1), bIdx)), tf.mul(weight(2), ov(x2))]) as tf.Tensor3D; // [n, h, d]
    const headMasks = masks(h, (i) => ablations.find((a) => a.target === 'head' && a.index === i));
    if (headMasks) heads = applyMasks(heads, headMasks, [1, h, 1]);
    const resid = tf.add(x2, tf.sum(heads, 1)) as tf.Tensor2D;
    const last = 'blocks.0.mlp.';
    let post = activation(config, tf.add(mm(resid, params[`${last}W_in`]), params[`${last}b_in`])) as tf.Tensor2D;
    const clusters = ablations.filter((a) => a.target === 'neurons');
    if (clusters.length > 0) {
      // Neuron n is in cluster k when its frequency (§5.11) is k.
      const inCluster = (a: Ablation) => tf.cast(tf.equal(neuronFreq, a.index), 'float32');
      const hit = tf.addN(clusters.map(inCluster));
      const mean = clusters.some((a) => a.mode === 'mean') ? tf.addN(clusters.map((a) => (a.mode === 'mean' ? inCluster(a) : tf.zerosLike(hit)))) : tf.zerosLike(hit);
      post = applyMasks(post, { keep: tf.sub(1, hit) as tf.Tensor1D, mean: mean as tf.Tensor1D }, [1, config.dMlp]);
    }
    const W_U = params['unembed.W_U'] as tf.Tensor2D;
    let logits = mm(tf.add(resid, tf.add(mm(post, params[`${last}W_out`]), params[`${last}b_out`])) as tf.Tensor2D, W_U);
    // Changes to the first P logits (the numbers), padded to d_vocab_out.
    const pad = (dl: tf.Tensor2D) => (dVocabOut === p ? dl : tf.pad(dl, [[0, 0], [0, dVocabOut - p]]));
    if (ks('wl').length > 0) {
      const WL = mm(params[`${last}W_out`] as tf.Tensor2D, tf.slice(W_U, [0, 0], [W_U.shape[0], p]));
      logits = tf.sub(logits, pad(mm(mm(post, WL), frequencyProjection(F, ks('wl'))))) as tf.Tensor2D;
    }
    if (ks('logits').length > 0) {
      const all = Int32Array.from({ length: n }, (_, i) => i);
      const { U, V } = pairDirections(p, all, ks('logits'));
      const L = tf.slice(logits, [0, 0], [n, p]) as tf.Tensor2D;
      const proj = tf.add(mm(U, mm(tf.transpose(U) as tf.Tensor2D, L)), mm(V, mm(tf.transpose(V) as tf.Tensor2D, L))) as tf.Tensor2D;
      logits = tf.sub(logits, pad(proj)) as tf.Tensor2D;
    }
    return { logits, mlpPost: post, pattern } as unknown as tf.TensorContainerObject;
  }) as unknown as AblatedForward;
}

/**
 * Loss and accuracy on train and test pairs, and the correctness map (argmax = label) over all
 * P² pairs, packed `[trainLoss, trainAcc, testLoss, testAcc, allLoss, allAcc, correct (P²)]`.
 */
export function outcome(logits: tf.Tensor2D, labelsOneHot: tf.Tensor2D, labelIds: tf.Tensor1D, trainIdx: tf.Tensor1D, testIdx: tf.Tensor1D): tf.Tensor1D {
  return tf.tidy(() => {
    const ce = crossEntropyPerExample(logits, labelsOneHot);
    const correct = tf.cast(tf.equal(tf.argMax(logits, 1), labelIds), 'float32');
    const on = (idx: tf.Tensor1D, x: tf.Tensor1D) => (idx.shape[0] > 0 ? tf.mean(tf.gather(x, idx)) : tf.scalar(NaN));
    const stats = [on(trainIdx, ce as tf.Tensor1D), on(trainIdx, correct as tf.Tensor1D), on(testIdx, ce as tf.Tensor1D), on(testIdx, correct as tf.Tensor1D), tf.mean(ce), tf.mean(correct)];
    return tf.concat([tf.stack(stats), correct]) as tf.Tensor1D;
  });
}

const OUTCOME_STATS = 6;

export interface Outcome {
  trainLoss: number;
  trainAcc: number;
  testLoss: number;
  testAcc: number;
  /** Over all P² pairs. */
  allLoss: number;
  allAcc: number;
  /** 1 where argmax = label, per pair a·P + b. */
  correct: Uint8Array;
}

export function unpackOutcome(values: Float32Array, p: number, offset = 0): Outcome {
  const correct = Uint8Array.from(values.subarray(offset + OUTCOME_STATS, offset + OUTCOME_STATS + p * p), (x) => (x > 0.5 ? 1 : 0));
  const v = (i: number) => values[offset + i];
  return { trainLoss: v(0), trainAcc: v(1), testLoss: v(2), testAcc: v(3), allLoss: v(4), allAcc: v(5), correct };
}

/** Values `outcome` returns for modulus p. */
export function outcomeLength(p: number): number {
  return OUTCOME_STATS + p * p;
}

/**
 * One pair's view, packed `[logits (d_vocab_out), attention (heads·3), contributions (d_mlp)]`:
 * the contribution of neuron n is its activation times its centred weight to the right answer,
 * post[n]·(W_L[n, c*] − mean_c W_L[n, c]) (softmax ignores a shift common to all c).
 */
export function probe(params: Params, config: TrainConfig, fwd: { logits: tf.Tensor2D; mlpPost: tf.Tensor2D; pattern: tf.Tensor3D }, pair: number, label: number): tf.Tensor1D {
  return tf.tidy(() => {
    const p = config.p;
    const row = <T extends tf.Tensor>(t: T) => tf.gather(t, tf.tensor1d([pair], 'int32'));
    const last = config.nLayers - 1;
    const W_U = params['unembed.W_U'] as tf.Tensor2D;
    const WL = mm(params[`blocks.${last}.mlp.W_out`] as tf.Tensor2D, tf.slice(W_U, [0, 0], [W_U.shape[0], p])); // [d_mlp, P]
    const toAnswer = tf.sub(tf.reshape(tf.slice(WL, [0, label], [WL.shape[0], 1]), [-1]), tf.mean(WL, 1));
    const contributions = tf.mul(tf.reshape(row(fwd.mlpPost), [-1]), toAnswer);
    return tf.concat([tf.reshape(row(fwd.logits), [-1]), tf.reshape(row(fwd.pattern), [-1]), contributions]) as tf.Tensor1D;
  });
}

export interface ProbeResult {
  pair: number;
  a: number;
  b: number;
  label: number;
  logits: Float32Array;
  /** `[heads, 3]` attention from '=' to a, b, '='. */
  attention: Float32Array;
  contributions: Float32Array;
}

export function probeLength(config: TrainConfig): number {
  return dims(config).dVocabOut + config.nHeads * 3 + config.dMlp;
}

export function unpackProbe(values: Float32Array, config: TrainConfig, pair: number, label: number, offset = 0): ProbeResult {
  const v = dims(config).dVocabOut;
  const h3 = config.nHeads * 3;
  return {
    pair,
    a: Math.floor(pair / config.p),
    b: pair % config.p,
    label,
    logits: values.slice(offset, offset + v),
    attention: values.slice(offset + v, offset + v + h3),
    contributions: values.slice(offset + v + h3, offset + v + h3 + config.dMlp),
  };
}
