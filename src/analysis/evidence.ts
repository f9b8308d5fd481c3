/**
 * The evidence of §4 and its ablations (ANALYSIS.md §7; Tables 1, 2, 4, 6; Fig. 6, 10, 11) as
 * tensor math on the active backend, over all P² pairs at the '=' position. Like the Analyzer, an
 * EvidenceAnalyzer holds a run's constants and packs a checkpoint's measures into one tensor that
 * the caller reads back at once; `unpack` turns it into named values.
 */
import * as tf from '@tensorflow/tfjs-core';
import { dims, type TrainConfig } from '../config/schema.ts';
import type { Dataset } from '../task/pairs.ts';
import type { Params } from '../model/transformer/forward.ts';
import { crossEntropyPerExample, mm, oneHotFloat } from '../model/transformer/ops.ts';
import { NEURON_FVE_THRESHOLD, type Analyzer, type LastPositionActivations } from './analyzer.ts';
import { fourierBasis, numFreqs, perFrequency } from './fourier.ts';

/** §7.2 a head's attention fit 0.5 + α(cos w_k a − cos w_k b) + β(sin w_k a − sin w_k b). */
export interface AttentionHeadFit {
  freq: number;
  alpha: number;
  beta: number;
  fve: number;
}

export interface EvidenceMeasures {
  /** §7.2 per head, at its best frequency (Table 2, Fig. 10). */
  attentionHeads: AttentionHeadFit[];
  /** §7.2 per head, the FVE of every frequency k = 1 … (P−1)/2 (index k − 1). */
  attentionFVEByFreq: number[][];
  /** §7.3 per head, per-frequency norms of F·(W_E W_V W_O) (index 0 the constant; Fig. 11). */
  ovNorms: number[][];
  /** §7.4 per key frequency k, the FVE of ⟨MLP, u_k⟩ by cos(w_k(a+b)) and of ⟨MLP, v_k⟩ by sin. */
  directionFVE: Record<string, { cos: number; sin: number }>;
  /** §7.5 loss over all pairs with only the key frequencies' 2-D components, and without them (Table 4). */
  lossOnlyKeyFreqs: number;
  lossKeyFreqsRemoved: number;
  /** §7.6 loss over all pairs and over test pairs with the well-explained neurons replaced (Fig. 6). */
  lossNeuronsReplaced: number;
  testLossNeuronsReplaced: number;
  neuronsReplaced: number;
  /** §7.7 loss and accuracy over all pairs with the skip connection around the MLP mean-ablated (Table 6). */
  lossSkipAblated: number;
  accSkipAblated: number;
}

/** Each neuron's frequency (§5.11: the k of the largest fraction), int32 `[d_mlp]`. */
export function neuronFrequencies(fractions: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => tf.cast(tf.add(tf.argMax(fractions, 0), tf.scalar(1, 'int32')), 'int32') as tf.Tensor1D);
}

/** w_k·x for the trig tables (float64 on the host). */
function angle(k: number, x: number, p: number): number {
  return (2 * Math.PI * k * (x % p)) / p;
}

export class EvidenceAnalyzer {
  readonly p: number;
  readonly nK: number;
  private readonly heads: number;
  private readonly cfg: TrainConfig;
  private readonly F: tf.Tensor2D;
  /** cos(w_k x), sin(w_k x) for x in [0, P), k = 1 … nK: `[P, nK]`. */
  private readonly cosTab: tf.Tensor2D;
  private readonly sinTab: tf.Tensor2D;
  /** Gram entries of the two attention regressors per k, over the P² pairs (float64). */
  private readonly gram: { cc: Float64Array; ss: Float64Array; cs: Float64Array };
  private readonly labelsP: tf.Tensor2D;
  private readonly labelsOut: tf.Tensor2D;
  private readonly labelIds: tf.Tensor1D;
  private readonly testIdx: tf.Tensor1D;

  constructor(
    config: TrainConfig,
    dataset: Dataset,
    private readonly analyzer: Analyzer,
  ) {
    const p = config.p;
    this.p = p;
    this.nK = numFreqs(p);
    this.heads = config.nHeads;
    this.cfg = config;
    const cos = new Float32Array(p * this.nK);
    const sin = new Float32Array(p * this.nK);
    const cc = new Float64Array(this.nK);
    const ss = new Float64Array(this.nK);
    const cs = new Float64Array(this.nK);
    for (let k = 1; k <= this.nK; k++) {
      for (let x = 0; x < p; x++) {
        cos[x * this.nK + k - 1] = Math.cos(angle(k, x, p));
        sin[x * this.nK + k - 1] = Math.sin(angle(k, x, p));
      }
      for (let a = 0; a < p; a++) {
        for (let b = 0; b < p; b++) {
          const c = Math.cos(angle(k, a, p)) - Math.cos(angle(k, b, p));
          const s = Math.sin(angle(k, a, p)) - Math.sin(angle(k, b, p));
          cc[k - 1] += c * c;
          ss[k - 1] += s * s;
          cs[k - 1] += c * s;
        }
      }
    }
    this.gram = { cc, ss, cs };
    const { dVocabOut } = dims(config);
    const tensors = tf.tidy(() => {
      const ids = tf.tensor1d(dataset.labels, 'int32');
      return {
        F: tf.tensor2d(fourierBasis(p), [p, p]),
        cosTab: tf.tensor2d(cos, [p, this.nK]),
        sinTab: tf.tensor2d(sin, [p, this.nK]),
        labelsP: oneHotFloat(ids, p),
        labelsOut: oneHotFloat(ids, dVocabOut),
        labelIds: ids,
        testIdx: tf.tensor1d(dataset.test, 'int32'),
      };
    });
    this.F = tensors.F;
    this.cosTab = tensors.cosTab;
    this.sinTab = tensors.sinTab;
    this.labelsP = tensors.labelsP;
    this.labelsOut = tensors.labelsOut;
    this.labelIds = tensors.labelIds;
    this.testIdx = tensors.testIdx;
  }

  /** Number of values `evidence` returns for |K| key frequencies. */
  length(numKeyFreqs: number): number {
    return this.heads * (2 * this.nK + 2 + this.p) + 6 * numKeyFreqs + 7;
  }

  /** cos(w_k(a+b)) then sin(w_k(a+b)) over all pairs, `[P², 2|K|]` (a new tensor, in the caller's scope). */
  private trigFor(keyFreqs: readonly number[]): tf.Tensor2D {
    const p = this.p;
    const n = keyFreqs.length;
    const t = new Float32Array(p * p * 2 * n);
    for (let a = 0; a < p; a++) {
      for (let b = 0; b < p; b++) {
        const row = (a * p + b) * 2 * n;
        keyFreqs.forEach((k, i) => {
          t[row + i] = Math.cos(angle(k, a + b, p));
          t[row + n + i] = Math.sin(angle(k, a + b, p));
        });
      }
    }
    return tf.tensor2d(t, [p * p, 2 * n]);
  }

  /** (Π⊗Π)·X for X `[P² (a·P+b), n]` and a symmetric Π `[P, P]`: Π applied over a and over b. */
  private bothAxes(pi: tf.Tensor2D, x: tf.Tensor2D): tf.Tensor2D {
    const p = this.p;
    const n = x.shape[1];
    const overA = mm(pi, tf.reshape(x, [p, p * n]) as tf.Tensor2D);
    const bFirst = tf.reshape(tf.transpose(tf.reshape(overA, [p, p, n]), [1, 0, 2]), [p, p * n]) as tf.Tensor2D;
    const overB = mm(pi, bFirst);
    return tf.reshape(tf.transpose(tf.reshape(overB, [p, p, n]), [1, 0, 2]), [p * p, n]) as tf.Tensor2D;
  }

  /** §7.2 sums for the attention fits: Σ y·(cos a − cos b), Σ y·(sin a − sin b) `[h, nK]` each, Σy, Σy². */
  private attentionSums(pattern: tf.Tensor3D): tf.Tensor[] {
    const p = this.p;
    const h = pattern.shape[1];
    const y = tf.sub(tf.reshape(tf.transpose(tf.reshape(tf.slice(pattern, [0, 0, 0], [p * p, h, 1]), [p * p, h])), [h, p, p]), 0.5);
    // Σ_ab y(a,b)(f(a) − f(b)) = Σ_a f(a) Σ_b y(a,b) − Σ_b f(b) Σ_a y(a,b).
    const diff = tf.sub(tf.sum(y, 2), tf.sum(y, 1)) as tf.Tensor2D; // [h, P]
    return [mm(diff, this.cosTab), mm(diff, this.sinTab), tf.sum(y, [1, 2]), tf.sum(tf.square(y), [1, 2])];
  }

  /** §7.3 per head, the norms of the rows of F·(W_E[:P] W_V[h] W_O[h]), `[h, P]`. */
  private ovComponentNorms(params: Params): tf.Tensor2D {
    const p = this.p;
    const h = this.heads;
    const W_E = params['embed.W_E'] as tf.Tensor2D;
    const d = W_E.shape[1];
    const E = tf.slice(W_E, [0, 0], [p, d]);
    const ov = mm(params['blocks.0.attn.W_V'] as tf.Tensor3D, params['blocks.0.attn.W_O']); // [h, d, d]
    const perHead = mm(tf.tile(tf.expandDims(E, 0), [h, 1, 1]) as tf.Tensor3D, ov); // [h, P, d]
    const FX = mm(this.F, tf.reshape(tf.transpose(perHead, [1, 0, 2]), [p, h * d]) as tf.Tensor2D); // [P, (h, d)]
    return tf.transpose(tf.sqrt(tf.sum(tf.square(tf.reshape(FX, [p, h, d])), 2))) as tf.Tensor2D;
  }

  /** §7.4 Σ x̃·t̃, Σ x̃², Σ t̃² (centred over pairs) for x = ⟨MLP, u_k⟩ then ⟨MLP, v_k⟩, t = cos/sin(w_k(a+b)). */
  private directionSums(params: Params, mlpPost: tf.Tensor2D, keyFreqs: readonly number[]): tf.Tensor[] {
    if (keyFreqs.length === 0) return [];
    const rows = (offset: number) => tf.gather(this.F, tf.tensor1d(keyFreqs.map((k) => 2 * k - offset), 'int32'));
    const WL = this.analyzer.neuronLogitMap(params); // [d_mlp, P]
    const dirs = mm(WL, tf.transpose(tf.concat([rows(1), rows(0)], 0))); // [d_mlp, 2|K|]: u_k then v_k
    const x = mm(mlpPost, dirs);
    const xc = tf.sub(x, tf.mean(x, 0, true));
    const t = this.trigFor(keyFreqs);
    const tc = tf.sub(t, tf.mean(t, 0, true));
    return [tf.sum(tf.mul(xc, tc), 0), tf.sum(tf.square(xc), 0), tf.sum(tf.square(tc), 0)];
  }

  private loss(logits: tf.Tensor2D, labels: tf.Tensor2D): tf.Scalar {
    return tf.mean(crossEntropyPerExample(logits, labels));
  }

  /** §7.5: only the key frequencies' components S = F_K × F_K of L (per c), or all but them (and (0, 0)). */
  private frequencyAblation(L: tf.Tensor2D, keyFreqs: readonly number[]): tf.Scalar[] {
    const fk = [0, ...keyFreqs.flatMap((k) => [2 * k - 1, 2 * k])];
    const FK = tf.gather(this.F, tf.tensor1d(fk, 'int32')) as tf.Tensor2D;
    const pi = mm(tf.transpose(FK) as tf.Tensor2D, FK); // projection on span(F_K), [P, P]
    const only = this.bothAxes(pi, L);
    // The (0, 0) component mapped back is the mean over pairs, per c.
    const removed = tf.add(tf.sub(L, only), tf.mean(L, 0, true)) as tf.Tensor2D;
    return [this.loss(only, this.labelsP), this.loss(removed, this.labelsP)];
  }

  /**
   * §7.6: each neuron with FVE > 0.85 replaced by its projection on its frequency's block
   * {0, 2k−1, 2k}² (the (0, 0) term is its mean), as Gᵀ(G X Gᵀ)G with G the block's 3 rows of F;
   * the logits change by (post' − post)·W_out·W_U. Returns [loss, test loss, count].
   */
  private neuronsReplaced(logits: tf.Tensor2D, mlpPost: tf.Tensor2D, WoutU: tf.Tensor2D, fractions: tf.Tensor2D): tf.Scalar[] {
    const p = this.p;
    const d = mlpPost.shape[1];
    const k = neuronFrequencies(fractions);
    const well = tf.cast(tf.greater(tf.max(fractions, 0), NEURON_FVE_THRESHOLD), 'float32');
    const two = tf.mul(k, tf.scalar(2, 'int32'));
    const idx = tf.stack([tf.zerosLike(k), tf.sub(two, tf.scalar(1, 'int32')), two], 1);
    const G = tf.reshape(tf.gather(this.F, tf.reshape(idx, [-1])), [d, 3, p]) as tf.Tensor3D;
    const Gt = tf.transpose(G, [0, 2, 1]) as tf.Tensor3D;
    const X = tf.reshape(tf.transpose(mlpPost), [d, p, p]) as tf.Tensor3D;
    const block = mm(mm(G, X), Gt); // [d, 3, 3]
    const Y = mm(mm(Gt, block), G); // [d, P, P]
    const delta = tf.mul(tf.sub(Y, X), tf.reshape(well, [d, 1, 1]));
    const after = tf.add(logits, mm(tf.transpose(tf.reshape(delta, [d, p * p])) as tf.Tensor2D, WoutU)) as tf.Tensor2D;
    const perPair = crossEntropyPerExample(after, this.labelsOut);
    return [tf.mean(perPair), tf.mean(tf.gather(perPair, this.testIdx)), tf.sum(well)];
  }

  /**
   * §7.7: the residual stream around the last MLP replaced by its mean over pairs. The logits are
   * linear in the final stream, so they become mean_pairs(L) + (MLP(x) − mean_pairs MLP(x))·W_U.
   */
  private skipAblated(logits: tf.Tensor2D, mlpPost: tf.Tensor2D, WoutU: tf.Tensor2D): tf.Scalar[] {
    const after = tf.add(tf.mean(logits, 0, true), mm(tf.sub(mlpPost, tf.mean(mlpPost, 0, true)) as tf.Tensor2D, WoutU)) as tf.Tensor2D;
    const acc = tf.mean(tf.cast(tf.equal(tf.argMax(after, 1), this.labelIds), 'float32'));
    return [this.loss(after, this.labelsOut), acc as tf.Scalar];
  }

  /**
   * Every §7 measure of one checkpoint, given the neurons' frequency fractions
   * (`Analyzer.neuronFrequencyFractions`, `[nK, d_mlp]`), packed: attention sums `[h·nK ×2, h ×2]`, OV component
   * norms `[h·P]`, direction sums `[2|K| ×3]`, then 7 scalars.
   */
  evidence(params: Params, logitsAll: tf.Tensor2D, acts: LastPositionActivations, keyFreqs: readonly number[], fractions: tf.Tensor2D): tf.Tensor1D {
    return tf.tidy(() => {
      const last = this.cfg.nLayers - 1;
      const WoutU = mm(params[`blocks.${last}.mlp.W_out`] as tf.Tensor2D, params['unembed.W_U']);
      const L = logitsAll.shape[1] === this.p ? logitsAll : (tf.slice(logitsAll, [0, 0], [logitsAll.shape[0], this.p]) as tf.Tensor2D);
      const parts = [
        ...this.attentionSums(acts.pattern),
        this.ovComponentNorms(params),
        ...this.directionSums(params, acts.mlpPost, keyFreqs),
      ].map((t) => tf.reshape(t, [-1]));
      const scalars = [...this.frequencyAblation(L, keyFreqs), ...this.neuronsReplaced(logitsAll, acts.mlpPost, WoutU, fractions), ...this.skipAblated(logitsAll, acts.mlpPost, WoutU)];
      return tf.concat([...parts, tf.stack(scalars)]) as tf.Tensor1D;
    });
  }

  /** Decodes `evidence`'s values (at `offset`). */
  unpack(values: Float32Array, keyFreqs: readonly number[], offset = 0): EvidenceMeasures {
    const { nK, p, heads } = this;
    let o = offset;
    const take = (n: number) => values.subarray(o, (o += n));
    const syc = take(heads * nK);
    const sys = take(heads * nK);
    const sumY = take(heads);
    const sumY2 = take(heads);
    const ov = take(heads * p);
    const nk2 = 2 * keyFreqs.length;
    const sxt = take(nk2);
    const sxx = take(nk2);
    const stt = take(nk2);
    const s = take(7);
    const attentionHeads: AttentionHeadFit[] = [];
    const attentionFVEByFreq: number[][] = [];
    for (let h = 0; h < heads; h++) {
      const ssTot = sumY2[h] - (sumY[h] * sumY[h]) / (p * p);
      let best: AttentionHeadFit = { freq: 0, alpha: 0, beta: 0, fve: -Infinity };
      const fves: number[] = [];
      for (let k = 1; k <= nK; k++) {
        const yc = syc[h * nK + k - 1];
        const ys = sys[h * nK + k - 1];
        const { cc, ss, cs } = this.gram;
        const det = cc[k - 1] * ss[k - 1] - cs[k - 1] * cs[k - 1];
        const alpha = (ss[k - 1] * yc - cs[k - 1] * ys) / det;
        const beta = (cc[k - 1] * ys - cs[k - 1] * yc) / det;
        // Least squares: SS_res = yᵀy − θᵀXᵀy.
        const ssRes = Math.max(sumY2[h] - (alpha * yc + beta * ys), 0);
        const fve = ssTot > 1e-12 ? 1 - ssRes / ssTot : 0;
        fves.push(fve);
        if (fve > best.fve) best = { freq: k, alpha, beta, fve };
      }
      attentionHeads.push(best);
      attentionFVEByFreq.push(fves);
    }
    const ovNorms = Array.from({ length: heads }, (_, h) => Array.from(perFrequency(ov.subarray(h * p, (h + 1) * p))));
    const directionFVE: Record<string, { cos: number; sin: number }> = {};
    const r2 = (i: number) => (sxx[i] > 0 && stt[i] > 0 ? (sxt[i] * sxt[i]) / (sxx[i] * stt[i]) : 0);
    keyFreqs.forEach((k, i) => {
      directionFVE[k] = { cos: r2(i), sin: r2(keyFreqs.length + i) };
    });
    return {
      attentionHeads,
      attentionFVEByFreq,
      ovNorms,
      directionFVE,
      lossOnlyKeyFreqs: s[0],
      lossKeyFreqsRemoved: s[1],
      lossNeuronsReplaced: s[2],
      testLossNeuronsReplaced: s[3],
      neuronsReplaced: Math.round(s[4]),
      lossSkipAblated: s[5],
      accSkipAblated: s[6],
    };
  }

  dispose(): void {
    tf.dispose([this.F, this.cosTab, this.sinTab, this.labelsP, this.labelsOut, this.labelIds, this.testIdx]);
  }
}
