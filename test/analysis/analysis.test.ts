import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { Analyzer, NEURON_FVE_THRESHOLD, type LastPositionActivations } from '../../src/analysis/analyzer.ts';
import { fourierBasis, numFreqs, perFrequency } from '../../src/analysis/fourier.ts';
import { gini } from '../../src/analysis/gini.ts';
import { energyShares, keyFreqsFromNorms } from '../../src/analysis/keyfreqs.ts';
import { checkKeyFreqs } from '../../src/config/keyfreqs.ts';
import { DEFAULT_CONFIG, type TrainConfig } from '../../src/config/schema.ts';
import type { Weights } from '../../src/model/transformer/params.ts';
import { Trainer } from '../../src/model/trainer.ts';
import { numTensors, useBackend } from '../helpers.ts';
import { cosineSumNetwork, singleFrequencyNeurons } from './constructed.ts';

/** Runs the cheap and heavy analysis of a model given by weights. */
async function analyze(config: TrainConfig, weights: Weights | undefined, keyFreqs: number[] | null, neuronIndices = new Int32Array([0])) {
  const trainer = new Trainer(config, { weights });
  const analyzer = new Analyzer(config, trainer.dataset);
  const spectra = analyzer.weightSpectra(trainer.paramTensors);
  const live = keyFreqsFromNorms(perFrequency((await spectra.data()).slice(config.p)));
  spectra.dispose();
  const K = keyFreqs ?? live;
  const before = numTensors();
  let acts: LastPositionActivations | null = null;
  const logits = trainer.logitsAll({
    tap: (_, a) => {
      acts = { pattern: tf.keep(a.pattern), mlpPost: tf.keep(a.mlpPost) };
    },
  });
  const cheapT = analyzer.cheap(trainer.paramTensors, logits, K);
  const heavyT = analyzer.heavy(trainer.paramTensors, logits, acts!, neuronIndices);
  const cheap = analyzer.unpackCheap((await cheapT.data()) as Float32Array, K);
  const heavy = analyzer.unpackHeavy((await heavyT.data()) as Float32Array, config.dMlp, config.nHeads, neuronIndices);
  const metrics = await trainer.evaluateAsync();
  const logitValues = (await logits.data()) as Float32Array;
  tf.dispose([cheapT, heavyT, logits, acts!.pattern, acts!.mlpPost]);
  expect(numTensors()).toBe(before);
  analyzer.dispose();
  trainer.dispose();
  return { cheap, heavy, metrics, logits: logitValues };
}

describe('Fourier basis, Gini, key-frequency rule', () => {
  it('F is orthonormal, with the cos/sin rows of ANALYSIS.md §4', () => {
    for (const p of [5, 23, 113]) {
      const f = fourierBasis(p);
      for (let i = 0; i < p; i++) {
        for (let j = 0; j < p; j++) {
          let dot = 0;
          for (let x = 0; x < p; x++) dot += f[i * p + x] * f[j * p + x];
          expect(Math.abs(dot - (i === j ? 1 : 0))).toBeLessThan(1e-5);
        }
      }
      expect(f[0]).toBeCloseTo(1 / Math.sqrt(p), 6);
      // Row 2k−1 ∝ cos(2πkx/P), row 2k ∝ sin: check k = 1 at x = 1 against √(2/P)·cos(2π/P).
      expect(f[1 * p + 1]).toBeCloseTo(Math.sqrt(2 / p) * Math.cos((2 * Math.PI) / p), 6);
      expect(f[2 * p + 1]).toBeCloseTo(Math.sqrt(2 / p) * Math.sin((2 * Math.PI) / p), 6);
    }
    expect(numFreqs(113)).toBe(56);
  });

  it('Gini: uniform 0, one-hot (N−1)/N, and a hand-computed vector', () => {
    expect(gini([3, 3, 3, 3, 3])).toBeCloseTo(0, 12);
    expect(gini([0, 0, 7, 0, 0])).toBeCloseTo(4 / 5, 12);
    expect(gini(new Float64Array(56).fill(0).map((_, i) => (i === 13 ? 1 : 0)))).toBeCloseTo(55 / 56, 12);
    // [0, 0, 1, 1]: 1 − 2·(½·1.5/4 + ½·0.5/4) = 0.5
    expect(gini([1, 0, 1, 0])).toBeCloseTo(0.5, 12);
    expect(gini([0, 0, 0])).toBe(0);
  });

  it('per-frequency norms combine cos and sin components', () => {
    expect(Array.from(perFrequency([2, 3, 4, 0, 0]))).toEqual([2, 5, 0]);
  });

  it('key frequencies: shares of at least 5%, at most 10, largest first', () => {
    const norms = new Float64Array(57).fill(0.1);
    norms[0] = 100; // the constant term is ignored
    norms[14] = 3;
    norms[35] = 2;
    norms[41] = 1.9;
    expect(keyFreqsFromNorms(norms)).toEqual([14, 35, 41]);
    const shares = energyShares(norms);
    expect(shares.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    const flat = new Float64Array(57).fill(1);
    expect(keyFreqsFromNorms(flat)).toEqual([]);
    const many = new Float64Array(57).fill(0);
    for (let k = 1; k <= 12; k++) many[k] = 1 + k / 100;
    expect(keyFreqsFromNorms(many)).toEqual([12, 11, 10, 9, 8, 7, 6, 5, 4, 3]);
    expect(checkKeyFreqs([14, 35], 113)).toBeNull();
    expect(checkKeyFreqs([0], 113)).toMatch(/not an integer in \[1, 56\]/);
    expect(checkKeyFreqs([57], 113)).toMatch(/\[1, 56\]/);
    expect(checkKeyFreqs([3, 3], 113)).toMatch(/repeated/);
  });
});

describe('measures on constructed models (closed form)', () => {
  beforeAll(() => useBackend('wasm'));

  it('a network computing Σ_K cos(w_k(a+b−c)): K found, restricted loss = loss, excluded at chance, W_L sparse', async () => {
    const p = 17;
    const K = [3, 7];
    const { config, weights } = cosineSumNetwork(p, K, 12);
    const { cheap, heavy, metrics, logits } = await analyze(config, weights, null);
    // The logits are the cosine sum (checked at one pair by hand: a = 5, b = 9).
    const want = (c: number) => 12 * K.reduce((s, k) => s + Math.cos((2 * Math.PI * k * (14 - c)) / p), 0);
    for (let c = 0; c < p; c++) expect(logits[(5 * p + 9) * p + c]).toBeCloseTo(want(c), 3);
    expect(cheap.liveKeyFreqs.sort()).toEqual([3, 7]);
    expect(cheap.keyFreqs.sort()).toEqual([3, 7]);
    expect(metrics.trainAcc).toBe(1);
    expect(metrics.testAcc).toBe(1);
    // Σ_K Π_k L = L and the bias is 0: restricted logits are the logits themselves.
    expect(Math.abs(cheap.restrictedLoss - metrics.testLoss) / metrics.testLoss).toBeLessThan(1e-3);
    expect(cheap.restrictedAcc).toBe(1);
    // Excluded logits are 0: uniform over P classes.
    expect(cheap.excludedLoss).toBeCloseTo(Math.log(p), 3);
    // Removing one key frequency leaves the other: loss between perfect and chance.
    for (const e of cheap.excludedLossPerFreq) {
      expect(e).toBeGreaterThan(metrics.trainLoss);
      expect(e).toBeLessThan(Math.log(p));
    }
    // Fig. 15 in closed form: with k removed the logits are 12·cos(w_j(a+b−c)) of the other j, the same
    // for every pair up to a shift of c, so the loss is log Σ_t exp(12 cos(2πjt/P)) − 12
    // (the same for j = 3 and 7: t ↦ jt permutes ℤ_P), against ln P with both removed.
    const onlyOther = (j: number) => Math.log(Array.from({ length: p }, (_, t) => Math.exp(12 * Math.cos((2 * Math.PI * j * t) / p))).reduce((x, y) => x + y)) - 12;
    const order = cheap.keyFreqs;
    order.forEach((k, i) => expect(cheap.excludedLossPerFreq[i]).toBeCloseTo(onlyOther(k === 3 ? 7 : 3), 3));
    // The heavy pass carries W_E[:P] for Fig. 1's circles.
    expect(Array.from(heavy.embedding)).toEqual(Array.from(weights['embed.W_E'].subarray(0, p * config.dModel)));
    // W_L has energy only at K: Gini of 8 frequencies with 2 equal non-zeros is 1 − 2·(½·1.5/8 + ½·0.5/8) = 0.75.
    expect(cheap.giniWL).toBeCloseTo(0.75, 3);
    for (let k = 1; k <= numFreqs(p); k++) if (!K.includes(k)) expect(cheap.normsWL[k] / cheap.normsWL[3]).toBeLessThan(1e-4);
    // The cos(w_k(a+b−c)) terms of K explain all of the logit variance; other k have no coefficient.
    expect(cheap.logitFVE).toBeCloseTo(1, 4);
    for (let k = 1; k <= numFreqs(p); k++) {
      if (K.includes(k)) expect(Math.abs(cheap.cosCoefficients[k - 1])).toBeGreaterThan(100);
      else expect(Math.abs(cheap.cosCoefficients[k - 1])).toBeLessThan(1e-2);
    }
    // Closed form of the coefficient: L = 12·Σ_k cos(…) and ‖cos(w_k(a+b−c))‖ = √(P³/2), so the
    // coefficient on the unit direction is 12·√(P³/2).
    expect(cheap.cosCoefficients[2]).toBeCloseTo(12 * Math.sqrt(p ** 3 / 2), 0);
    // The 2-D logit spectrum lives on the blocks {2k−1, 2k}² of K.
    const inK = (f: number) => f > 0 && K.includes(Math.ceil(f / 2));
    let inside = 0;
    let outside = 0;
    for (let f = 0; f < p; f++) for (let g = 0; g < p; g++) (inK(f) && inK(g) ? (inside += heavy.logitSpectrum[f * p + g] ** 2) : (outside += heavy.logitSpectrum[f * p + g] ** 2));
    expect(outside / inside).toBeLessThan(1e-6);
    // W_L comes back whole: row (a0, b0) is 12·Σ_k cos(w_k(a0+b0−c)); check neuron (5, 9).
    expect(heavy.neuronLogitMap.length).toBe(config.dMlp * p);
    for (let c = 0; c < p; c++) expect(heavy.neuronLogitMap[(5 * p + 9) * p + c]).toBeCloseTo(want(c), 3);
    // Head 0 attends from '=' to a, head 1 to b.
    const heads = config.nHeads;
    expect(heavy.attention.length).toBe(heads * p * p);
    expect(Math.min(...heavy.attention.slice(0, p * p))).toBeGreaterThan(0.999);
    expect(Math.max(...heavy.attention.slice(p * p, 2 * p * p))).toBeLessThan(1e-3);
  });

  it('with K pinned by hand, the losses follow the pinned K', async () => {
    const { config, weights } = cosineSumNetwork(17, [3, 7], 12);
    const { cheap } = await analyze(config, weights, [3]);
    expect(cheap.keyFreqs).toEqual([3]);
    expect(cheap.liveKeyFreqs.sort()).toEqual([3, 7]);
    // Only half the signal is kept: the restricted loss is far above the full model's.
    expect(cheap.restrictedLoss).toBeGreaterThan(0.01);
    expect(cheap.logitFVE).toBeCloseTo(0.5, 3);
  });

  it('single-frequency neurons have that frequency with FVE 1', async () => {
    const freqs = [2, 5, 5, 9];
    const { config, weights } = singleFrequencyNeurons(23, freqs);
    const { heavy } = await analyze(config, weights, [1], new Int32Array([0, 1]));
    expect(Array.from(heavy.neuronFreq.slice(0, 4))).toEqual(freqs);
    for (let n = 0; n < 4; n++) expect(heavy.neuronFVE[n]).toBeGreaterThan(0.9999);
    expect(heavy.neuronsWellExplained).toBe(4);
    // The neuron map is cos(w_2 a) + cos(w_2 b) + 2 at (a, b) = (3, 4).
    const p = 23;
    const v = Math.cos((2 * Math.PI * 2 * 3) / p) + Math.cos((2 * Math.PI * 2 * 4) / p) + 2;
    expect(heavy.neuronMaps[3 * p + 4]).toBeCloseTo(v, 4);
    expect(heavy.neuronMaps.length).toBe(2 * p * p);
  });

  it('random init: no key frequency and a low Gini', async () => {
    const config = { ...DEFAULT_CONFIG, p: 53 };
    const { cheap, heavy } = await analyze(config, undefined, null);
    expect(cheap.liveKeyFreqs).toEqual([]);
    expect(cheap.giniWL).toBeLessThan(0.25);
    expect(cheap.giniWE).toBeLessThan(0.25);
    // With K empty the restricted logits are the bias alone, and nothing is excluded.
    expect(cheap.restrictedLoss).toBeGreaterThan(Math.log(53) - 0.2);
    expect(heavy.neuronsWellExplained).toBeLessThan(config.dMlp * 0.05);
    expect(NEURON_FVE_THRESHOLD).toBe(0.85);
  });
});

describe('measures against a naive float64 computation', () => {
  beforeAll(() => useBackend('wasm'));

  it('restricted and excluded loss of a random model match loops over the definition', async () => {
    const config = { ...DEFAULT_CONFIG, p: 11, dModel: 16, nHeads: 2, dMlp: 32, vocabOut: 'p1' as const, seed: 4 };
    const trainer = new Trainer(config);
    const weights = await trainer.readWeights();
    for (const k of Object.keys(weights)) weights[k] = weights[k].map((v) => v * 4);
    const split = trainer.dataset;
    trainer.dispose();
    const K = [2, 4];
    const { cheap, logits } = await analyze(config, weights, K);
    const p = 11;
    const vout = p + 1;
    const f = fourierBasis(p);
    // L[i][c] for c < P; projections by explicit sums over pairs.
    const L = (i: number, c: number) => logits[i * vout + c];
    const u = (k: number, a: number, b: number) =>
      (f[(2 * k - 1) * p + a] * f[(2 * k - 1) * p + b] - f[2 * k * p + a] * f[2 * k * p + b]) / Math.SQRT2;
    const v = (k: number, a: number, b: number) =>
      (f[2 * k * p + a] * f[(2 * k - 1) * p + b] + f[(2 * k - 1) * p + a] * f[2 * k * p + b]) / Math.SQRT2;
    const proj = (i: number, c: number) => {
      const a = Math.floor(i / p);
      const b = i % p;
      let s = 0;
      for (const k of K) {
        let cu = 0;
        let cv = 0;
        for (let j = 0; j < p * p; j++) {
          cu += u(k, Math.floor(j / p), j % p) * L(j, c);
          cv += v(k, Math.floor(j / p), j % p) * L(j, c);
        }
        s += u(k, a, b) * cu + v(k, a, b) * cv;
      }
      return s;
    };
    const projAll = Array.from({ length: p * p }, (_, i) => Array.from({ length: p }, (_, c) => proj(i, c)));
    const bias = Array.from({ length: p }, (_, c) => {
      let s = 0;
      for (let i = 0; i < p * p; i++) s += L(i, c) - projAll[i][c];
      return s / (p * p);
    });
    const ce = (row: number[], y: number) => {
      const m = Math.max(...row);
      return m + Math.log(row.reduce((s, x) => s + Math.exp(x - m), 0)) - row[y];
    };
    let restricted = 0;
    for (const i of split.test) restricted += ce(projAll[i].map((x, c) => x + bias[c]), split.labels[i]);
    restricted /= split.test.length;
    let excluded = 0;
    for (const i of split.train) excluded += ce(projAll[i].map((x, c) => L(i, c) - x), split.labels[i]);
    excluded /= split.train.length;
    expect(Math.abs(cheap.restrictedLoss - restricted) / restricted).toBeLessThan(1e-4);
    expect(Math.abs(cheap.excludedLoss - excluded) / excluded).toBeLessThan(1e-4);
  });
});
