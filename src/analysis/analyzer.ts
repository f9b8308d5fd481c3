/**
 * The paper's measures (ANALYSIS.md §5) as tensor math on the active backend: every transform is a
 * matrix product with the Fourier basis F, never a JavaScript loop over P³ elements. An Analyzer
 * holds the constants of one run (F, the cos/sin(w_k(a+b)) directions, the split) and turns weights
 * and logits into a few packed tensors that the caller reads back in one go.
 *
 * Notation: L[a, b, c] are the last-position logits over all P² pairs, first P outputs only (the
 * '=' logit of d_vocab_out = P + 1 is dropped, as in the authors' analysis); pairs are indexed
 * a·P + b. u_k, v_k are the unit directions of cos(w_k(a+b)) and sin(w_k(a+b)) in pair space (§5.3).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { TrainConfig } from '../config/schema.ts';
import type { Dataset } from '../task/pairs.ts';
import type { Params } from '../model/transformer/forward.ts';
import { crossEntropyPerExample, mm, oneHotFloat, transposeLast } from '../model/transformer/ops.ts';
import { fourierBasis, numFreqs, perFrequency } from './fourier.ts';
import { gini } from './gini.ts';
import { keyFreqsFromNorms } from './keyfreqs.ts';
import { NEURON_FVE_THRESHOLD } from './neuron-threshold.ts';
export { NEURON_FVE_THRESHOLD };

/** The measures computed at every checkpoint (cheap: a few hundred MFLOP at P = 113). */
export interface CheapAnalysis {
  /** Per-component norms of F·W_E[:P] and of W_L·Fᵀ, `[P]` each (Fig. 3). */
  componentNormsWE: Float32Array;
  componentNormsWL: Float32Array;
  /** Per-frequency norms, index 0 = constant, k = frequency k (length (P−1)/2 + 1). */
  normsWE: Float64Array;
  normsWL: Float64Array;
  /** §5.7 Gini of the per-frequency norms over k = 1 … (P−1)/2. */
  giniWE: number;
  giniWL: number;
  /** The default key-frequency rule applied to this checkpoint's W_L. */
  liveKeyFreqs: number[];
  /** The K the losses below were computed with. */
  keyFreqs: number[];
  /** §5.4 restricted loss and accuracy (test pairs, bias-corrected). */
  restrictedLoss: number;
  restrictedAcc: number;
  /** §5.5 excluded loss (train pairs), in total and per key frequency (same order as keyFreqs). */
  excludedLoss: number;
  excludedLossPerFreq: number[];
  /** §5.10 coefficient of the unit cos(w_k(a+b−c)) for k = 1 … (P−1)/2 (index k − 1). */
  cosCoefficients: Float32Array;
  /** Fraction of the (per-pair centered) logit variance explained by the K cos terms. */
  logitFVE: number;
}

/** The heavy measures, computed on a slower cadence and for the checkpoint being viewed. */
export interface HeavyAnalysis {
  /** §5.9 norm over c of (F⊗F)·L, `[P (f), P (g)]`: component (f, g) = row f of F over a, g over b. */
  logitSpectrum: Float32Array;
  /** §5.11 per neuron: its best frequency and the fraction of its variance that frequency explains. */
  neuronFreq: Int16Array;
  neuronFVE: Float32Array;
  /** Neurons with FVE above NEURON_FVE_THRESHOLD (paper: 433 of 512). */
  neuronsWellExplained: number;
  /** §5.12 attention from '=' to a, per head, `[heads, P (a), P (b)]`. */
  attention: Float32Array;
  /** Activations (post-ReLU, at '=') of `neuronIndices` over (a, b), `[n, P (a), P (b)]`. */
  neuronIndices: Int32Array;
  neuronMaps: Float32Array;
  /** W_L = W_out · W_U[:, :P], `[d_mlp, P]` (Fig. 5: its rows per frequency cluster). */
  neuronLogitMap: Float32Array;
  /** The number tokens' embeddings W_E[:P], `[P, d_model]` (Fig. 1: each token on its frequency's circle, circle.ts). */
  embedding: Float32Array;
}

/** Intermediate activations of the last block at '=' over all pairs (from a forward tap). */
export interface LastPositionActivations {
  /** `[P², heads, 3]` attention pattern of '=' over (a, b, '='), first block. */
  pattern: tf.Tensor3D;
  /** `[P², d_mlp]` post-activation MLP neurons of the last block. */
  mlpPost: tf.Tensor2D;
}

/** Device-side constants of one run's analysis. */
interface Constants {
  /** F `[P, P]`. */
  F: tf.Tensor2D;
  /** Rows 2k−1 (cos) and 2k (sin) of F, `[nK, P]`. */
  cosRows: tf.Tensor2D;
  sinRows: tf.Tensor2D;
  /** u_kᵀ and v_kᵀ as rows over all pairs, `[nK, P²]`. */
  Ut: tf.Tensor2D;
  Vt: tf.Tensor2D;
  /** The same directions as columns, restricted to train / test pairs, `[n, nK]`. */
  Utrain: tf.Tensor2D;
  Vtrain: tf.Tensor2D;
  Utest: tf.Tensor2D;
  Vtest: tf.Tensor2D;
  trainIdx: tf.Tensor1D;
  testIdx: tf.Tensor1D;
  /** One-hot labels over P classes, and test label ids. */
  trainLabels: tf.Tensor2D;
  testLabels: tf.Tensor2D;
  testLabelIds: tf.Tensor1D;
}

/** u_k and v_k over all pairs as rows, `[nK, P²]` each, from F (host, float64 products). */
export function trigSumDirections(f: Float32Array, p: number): { ut: Float32Array; vt: Float32Array } {
  const nK = numFreqs(p);
  const ut = new Float32Array(nK * p * p);
  const vt = new Float32Array(nK * p * p);
  for (let k = 1; k <= nK; k++) {
    const c = (2 * k - 1) * p;
    const s = 2 * k * p;
    const row = (k - 1) * p * p;
    for (let a = 0; a < p; a++) {
      for (let b = 0; b < p; b++) {
        // u_k = (cos⊗cos − sin⊗sin)/√2 ∝ cos(w_k(a+b)); v_k = (sin⊗cos + cos⊗sin)/√2 ∝ sin(w_k(a+b)).
        ut[row + a * p + b] = (f[c + a] * f[c + b] - f[s + a] * f[s + b]) * Math.SQRT1_2;
        vt[row + a * p + b] = (f[s + a] * f[c + b] + f[c + a] * f[s + b]) * Math.SQRT1_2;
      }
    }
  }
  return { ut, vt };
}

function makeConstants(p: number, dataset: Dataset): Constants {
  const nK = numFreqs(p);
  const f = fourierBasis(p);
  const { ut, vt } = trigSumDirections(f, p);
  return tf.tidy(() => {
    const F = tf.tensor2d(f, [p, p]);
    const rows = (start: number) => tf.tensor1d(Int32Array.from({ length: nK }, (_, i) => start + 2 * i), 'int32');
    const Ut = tf.tensor2d(ut, [nK, p * p]);
    const Vt = tf.tensor2d(vt, [nK, p * p]);
    const trainIdx = tf.tensor1d(dataset.train, 'int32');
    const testIdx = tf.tensor1d(dataset.test, 'int32');
    const columns = (t: tf.Tensor2D, idx: tf.Tensor1D) => tf.transpose(tf.gather(t, idx, 1)) as tf.Tensor2D;
    const labels = (idx: Int32Array) => tf.tensor1d(Int32Array.from(idx, (i) => dataset.labels[i]), 'int32');
    const testLabelIds = labels(dataset.test);
    const constants: Constants = {
      F,
      cosRows: tf.gather(F, rows(1)) as tf.Tensor2D,
      sinRows: tf.gather(F, rows(2)) as tf.Tensor2D,
      Ut,
      Vt,
      Utrain: columns(Ut, trainIdx),
      Vtrain: columns(Vt, trainIdx),
      Utest: columns(Ut, testIdx),
      Vtest: columns(Vt, testIdx),
      trainIdx,
      testIdx,
      trainLabels: oneHotFloat(labels(dataset.train), p),
      testLabels: oneHotFloat(testLabelIds, p),
      testLabelIds,
    };
    return constants as unknown as tf.TensorContainerObject;
  }) as unknown as Constants;
}

export class Analyzer {
  readonly p: number;
  readonly nK: number;
  private readonly cfg: TrainConfig;
  private readonly k: Constants;

  constructor(config: TrainConfig, dataset: Dataset) {
    this.p = config.p;
    this.nK = numFreqs(config.p);
    this.cfg = config;
    this.k = makeConstants(config.p, dataset);
  }

  /** W_L = W_out · W_U[:, :P] of the last block, `[d_mlp, P]` (§3, §4.2). */
  neuronLogitMap(params: Params): tf.Tensor2D {
    return tf.tidy(() => {
      const last = this.cfg.nLayers - 1;
      const W_U = params['unembed.W_U'] as tf.Tensor2D;
      const W_Up = tf.slice(W_U, [0, 0], [W_U.shape[0], this.p]);
      return mm(params[`blocks.${last}.mlp.W_out`] as tf.Tensor2D, W_Up);
    });
  }

  /**
   * §5.1: per-component norms of F·W_E[:P] (norm of each row over d_model) and of W_L·Fᵀ (norm of
   * each column over neurons), packed as `[2P]`.
   */
  weightSpectra(params: Params): tf.Tensor1D {
    return tf.tidy(() => {
      const W_E = params['embed.W_E'] as tf.Tensor2D;
      const E = mm(this.k.F, tf.slice(W_E, [0, 0], [this.p, W_E.shape[1]])); // [P (component), d_model]
      const normsE = tf.sqrt(tf.sum(tf.square(E), 1));
      const WLF = mm(this.neuronLogitMap(params), transposeLast(this.k.F) as tf.Tensor2D); // [d_mlp, P (component)]
      const normsL = tf.sqrt(tf.sum(tf.square(WLF), 0));
      return tf.concat([normsE, normsL]) as tf.Tensor1D;
    });
  }

  /** The first P logits, `[P², P]`. */
  private firstP(logits: tf.Tensor2D): tf.Tensor2D {
    return logits.shape[1] === this.p ? logits : (tf.slice(logits, [0, 0], [logits.shape[0], this.p]) as tf.Tensor2D);
  }

  /**
   * The logit measures for key frequencies `keyFreqs`, packed as
   * `[nK coefficients, restrictedLoss, restrictedAcc, excludedLoss, centered variance, |K| excluded-per-freq]`.
   */
  logitMeasures(logitsAll: tf.Tensor2D, keyFreqs: readonly number[]): tf.Tensor1D {
    return tf.tidy(() => {
      const L = this.firstP(logitsAll);
      // α_k[c] = u_kᵀ L[:, c], β_k[c] = v_kᵀ L[:, c]: `[nK, P]`.
      const alpha = mm(this.k.Ut, L);
      const beta = mm(this.k.Vt, L);
      // §5.10 coefficient of the unit 3-D cosine (u_k ⊗ F_cos,k + v_k ⊗ F_sin,k)/√2.
      const coefs = tf.mul(tf.add(tf.sum(tf.mul(alpha, this.k.cosRows), 1), tf.sum(tf.mul(beta, this.k.sinRows), 1)), Math.SQRT1_2);
      const centered = tf.sub(L, tf.mean(L, 1, true));
      const variance = tf.sum(tf.square(centered));
      const meanOverPairs = tf.mean(L, 0, true); // [1, P]
      const Ltrain = tf.gather(L, this.k.trainIdx) as tf.Tensor2D;
      const Ltest = tf.gather(L, this.k.testIdx) as tf.Tensor2D;
      let restrictedTest: tf.Tensor2D;
      let excludedTrain: tf.Tensor2D;
      const perFreq: tf.Tensor[] = [];
      if (keyFreqs.length === 0) {
        // No key frequency: the restricted logits are the bias alone; nothing is excluded.
        restrictedTest = tf.mul(tf.onesLike(Ltest), meanOverPairs) as tf.Tensor2D;
        excludedTrain = Ltrain;
      } else {
        const kIdx = tf.tensor1d(keyFreqs.map((k) => k - 1), 'int32');
        const aK = tf.gather(alpha, kIdx) as tf.Tensor2D; // [|K|, P]
        const bK = tf.gather(beta, kIdx) as tf.Tensor2D;
        const project = (U: tf.Tensor2D, V: tf.Tensor2D) =>
          tf.add(mm(tf.gather(U, kIdx, 1) as tf.Tensor2D, aK), mm(tf.gather(V, kIdx, 1) as tf.Tensor2D, bK)) as tf.Tensor2D;
        // §5.4: Σ_K Π_k L plus the bias correction mean_pairs(L − Σ_K Π_k L); Σ_K Π_k L has mean 0
        // over pairs (u_k, v_k are orthogonal to constants), so the correction is mean_pairs(L).
        restrictedTest = tf.add(project(this.k.Utest, this.k.Vtest), meanOverPairs) as tf.Tensor2D;
        // §5.5: L − Σ_K Π_k L on train pairs, no bias correction; and per single key frequency.
        excludedTrain = tf.sub(Ltrain, project(this.k.Utrain, this.k.Vtrain)) as tf.Tensor2D;
        keyFreqs.forEach((_, i) => {
          const one = (U: tf.Tensor2D, c: tf.Tensor2D) => tf.mul(tf.slice(U, [0, keyFreqs[i] - 1], [U.shape[0], 1]), tf.slice(c, [i, 0], [1, this.p]));
          const piK = tf.add(one(this.k.Utrain, aK), one(this.k.Vtrain, bK));
          perFreq.push(tf.mean(crossEntropyPerExample(tf.sub(Ltrain, piK) as tf.Tensor2D, this.k.trainLabels)));
        });
      }
      const restrictedLoss = tf.mean(crossEntropyPerExample(restrictedTest, this.k.testLabels));
      const restrictedAcc = tf.mean(tf.cast(tf.equal(tf.argMax(restrictedTest, 1), this.k.testLabelIds), 'float32'));
      const excludedLoss = tf.mean(crossEntropyPerExample(excludedTrain, this.k.trainLabels));
      return tf.concat([coefs, tf.stack([restrictedLoss, restrictedAcc, excludedLoss, variance, ...perFreq])]) as tf.Tensor1D;
    });
  }

  /** Weight spectra and logit measures in one tensor, for a single read. */
  cheap(params: Params, logitsAll: tf.Tensor2D, keyFreqs: readonly number[]): tf.Tensor1D {
    return tf.tidy(() => tf.concat([this.weightSpectra(params), this.logitMeasures(logitsAll, keyFreqs)]) as tf.Tensor1D);
  }

  /** Number of values `cheap` returns for |K| key frequencies. */
  cheapLength(numKeyFreqs: number): number {
    return 2 * this.p + this.nK + 4 + numKeyFreqs;
  }

  /** Number of values `logitMeasures` returns for |K| key frequencies. */
  logitMeasuresLength(numKeyFreqs: number): number {
    return this.nK + 4 + numKeyFreqs;
  }

  /** Unpacks `logitMeasures`' values (at `offset`). */
  unpackLogitMeasures(values: Float32Array, keyFreqs: readonly number[], offset = 0) {
    const cosCoefficients = values.slice(offset, offset + this.nK);
    const at = (i: number) => values[offset + this.nK + i];
    const variance = at(3);
    let explained = 0;
    for (const k of keyFreqs) explained += cosCoefficients[k - 1] ** 2;
    return {
      cosCoefficients,
      restrictedLoss: at(0),
      restrictedAcc: at(1),
      excludedLoss: at(2),
      excludedLossPerFreq: keyFreqs.map((_, i) => at(4 + i)),
      logitFVE: variance > 0 ? explained / variance : 0,
    };
  }

  /** Unpacks `cheap`'s values (at `offset` in `values`) into the named measures. */
  unpackCheap(values: Float32Array, keyFreqs: readonly number[], offset = 0): CheapAnalysis {
    const p = this.p;
    const componentNormsWE = values.slice(offset, offset + p);
    const componentNormsWL = values.slice(offset + p, offset + 2 * p);
    const normsWE = perFrequency(componentNormsWE);
    const normsWL = perFrequency(componentNormsWL);
    return {
      componentNormsWE,
      componentNormsWL,
      normsWE,
      normsWL,
      giniWE: gini(normsWE.subarray(1)),
      giniWL: gini(normsWL.subarray(1)),
      liveKeyFreqs: keyFreqsFromNorms(normsWL),
      keyFreqs: [...keyFreqs],
      ...this.unpackLogitMeasures(values, keyFreqs, offset + 2 * p),
    };
  }

  /** Number of values `heavy` returns. */
  heavyLength(dMlp: number, heads: number, numNeurons: number): number {
    return this.p * this.p * (1 + heads + numNeurons) + this.nK * dMlp + dMlp * this.p + this.p * this.cfg.dModel;
  }

  /**
   * §5.9: the norm over c of the 2-D Fourier transform of the logits, `[P (f), P (g)]`, computed as
   * two products with F (over a, then over b).
   */
  logitSpectrum(logitsAll: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      const hat = this.transform2d(this.firstP(logitsAll), this.p); // [f, g, c]
      return tf.sqrt(tf.sum(tf.square(hat), 2)) as tf.Tensor2D;
    });
  }

  /** (F⊗F)·X for X `[P² (a·P+b), n]` → `[P (f), P (g), n]`. */
  private transform2d(x: tf.Tensor2D, n: number): tf.Tensor3D {
    const p = this.p;
    const overA = mm(this.k.F, tf.reshape(x, [p, p * n]) as tf.Tensor2D); // [f, (b, n)]
    const bFirst = tf.reshape(tf.transpose(tf.reshape(overA, [p, p, n]), [1, 0, 2]), [p, p * n]); // [b, (f, n)]
    const overB = mm(this.k.F, bFirst as tf.Tensor2D); // [g, (f, n)]
    return tf.transpose(tf.reshape(overB, [p, p, n]), [1, 0, 2]) as tf.Tensor3D; // [f, g, n]
  }

  /**
   * §5.11: per neuron, the fraction of its (pair-centered) variance in the 3×3 block {0, 2k−1, 2k}²
   * of the 2-D Fourier basis, for every k; returns `[nK, d_mlp]`.
   */
  neuronFrequencyFractions(mlpPost: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      const p = this.p;
      const d = mlpPost.shape[1];
      const centered = tf.sub(mlpPost, tf.mean(mlpPost, 0, true)) as tf.Tensor2D;
      const energy = tf.square(this.transform2d(centered, d)); // [f, g, n]
      const total = tf.sum(energy, [0, 1]); // [n]
      // S[k, j] = 1 for j ∈ {0, 2k−1, 2k}: block_k[n] = Σ_f Σ_g S[k,f] S[k,g] energy[f,g,n].
      const s = new Float32Array(this.nK * p);
      for (let k = 1; k <= this.nK; k++) {
        s[(k - 1) * p] = 1;
        s[(k - 1) * p + 2 * k - 1] = 1;
        s[(k - 1) * p + 2 * k] = 1;
      }
      const S = tf.tensor2d(s, [this.nK, p]);
      const overF = mm(S, tf.reshape(energy, [p, p * d]) as tf.Tensor2D); // [k, (g, n)]
      const block = tf.sum(tf.mul(tf.reshape(overF, [this.nK, p, d]), tf.reshape(S, [this.nK, p, 1])), 1); // [k, n]
      return tf.div(block, tf.maximum(total, 1e-30)) as tf.Tensor2D;
    });
  }

  /**
   * The heavy measures, packed for one read: logit spectrum `[P²]`, neuron fractions `[nK·d_mlp]`,
   * attention from '=' to a `[heads·P²]`, the maps of `neuronIndices` `[n·P²]`, W_L `[d_mlp·P]` and
   * W_E[:P] `[P·d_model]`.
   */
  heavy(params: Params, logitsAll: tf.Tensor2D, acts: LastPositionActivations, neuronIndices: Int32Array): tf.Tensor1D {
    return tf.tidy(() => {
      const p = this.p;
      const heads = acts.pattern.shape[1];
      const attentionToA = tf.transpose(tf.reshape(tf.slice(acts.pattern, [0, 0, 0], [p * p, heads, 1]), [p * p, heads])); // [h, P²]
      const maps =
        neuronIndices.length > 0
          ? tf.transpose(tf.gather(acts.mlpPost, tf.tensor1d(neuronIndices, 'int32'), 1)) // [n, P²]
          : tf.zeros([0]);
      return tf.concat([
        tf.reshape(this.logitSpectrum(logitsAll), [-1]),
        tf.reshape(this.neuronFrequencyFractions(acts.mlpPost), [-1]),
        tf.reshape(attentionToA, [-1]),
        tf.reshape(maps, [-1]),
        tf.reshape(this.neuronLogitMap(params), [-1]),
        tf.reshape(tf.slice(params['embed.W_E'], [0, 0], [p, this.cfg.dModel]), [-1]),
      ]) as tf.Tensor1D;
    });
  }

  unpackHeavy(values: Float32Array, dMlp: number, heads: number, neuronIndices: Int32Array): HeavyAnalysis {
    const p2 = this.p * this.p;
    let o = 0;
    const take = (n: number) => values.slice(o, (o += n));
    const logitSpectrum = take(p2);
    const fractions = take(this.nK * dMlp);
    const attention = take(heads * p2);
    const neuronMaps = take(neuronIndices.length * p2);
    const neuronLogitMap = take(dMlp * this.p);
    const embedding = take(this.p * this.cfg.dModel);
    const neuronFreq = new Int16Array(dMlp);
    const neuronFVE = new Float32Array(dMlp);
    let well = 0;
    for (let n = 0; n < dMlp; n++) {
      let best = 0;
      for (let k = 1; k < this.nK; k++) if (fractions[k * dMlp + n] > fractions[best * dMlp + n]) best = k;
      neuronFreq[n] = best + 1;
      neuronFVE[n] = fractions[best * dMlp + n];
      if (neuronFVE[n] > NEURON_FVE_THRESHOLD) well++;
    }
    return { logitSpectrum, neuronFreq, neuronFVE, neuronsWellExplained: well, attention, neuronIndices, neuronMaps, neuronLogitMap, embedding };
  }

  dispose(): void {
    tf.dispose(Object.values(this.k));
  }
}
