/**
 * The evidence of §4 and the interventions (ANALYSIS.md §7) on constructed networks with known
 * answers, and against float64 loops (test/model/reference.ts) written from the definitions.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { ablatedForward } from '../../src/analysis/ablations.ts';
import { Analyzer } from '../../src/analysis/analyzer.ts';
import { EvidenceAnalyzer } from '../../src/analysis/evidence.ts';
import { fourierBasis, numFreqs } from '../../src/analysis/fourier.ts';
import { parseAblations, type Ablation } from '../../src/config/ablations.ts';
import { dims, type TrainConfig } from '../../src/config/schema.ts';
import { initWeights, type Weights } from '../../src/model/transformer/params.ts';
import { Trainer } from '../../src/model/trainer.ts';
import { EvidencePass } from '../../src/worker/analysis/evidence-pass.ts';
import { referenceLogits } from '../model/reference.ts';
import { maxAbsDiff, numTensors, tinyConfig, useBackend } from '../helpers.ts';
import { cosineSumNetwork, singleFrequencyNeurons } from './constructed.ts';

const w = (k: number, x: number, p: number) => (2 * Math.PI * k * x) / p;

/** Cross-entropy of float64 logits rows against labels (log-sum-exp). */
function crossEntropy(rows: number[][], labels: ArrayLike<number>): number {
  let s = 0;
  rows.forEach((r, i) => {
    const m = Math.max(...r);
    s += m + Math.log(r.reduce((t, v) => t + Math.exp(v - m), 0)) - r[labels[i]];
  });
  return s / rows.length;
}

/** The evidence pass of a model given by weights (no intervention unless asked). */
async function evidenceOf(config: TrainConfig, weights: Weights | undefined, K: number[], opts: { ablations?: Ablation[]; pair?: number | null } = {}) {
  const trainer = new Trainer(config, { weights });
  const analyzer = new Analyzer(config, trainer.dataset);
  const pass = new EvidencePass(trainer, analyzer);
  const before = numTensors();
  const prepared = pass.prepare(0, { epoch: null, ablations: opts.ablations ?? [], pair: opts.pair ?? null }, K);
  const values = (await prepared.tensor.data()) as Float32Array;
  prepared.tensor.dispose();
  expect(numTensors()).toBe(before);
  const result = prepared.finish(values);
  const logits = trainer.logitsAll();
  const L = (await logits.data()) as Float32Array;
  logits.dispose();
  pass.dispose();
  analyzer.dispose();
  trainer.dispose();
  return { result, logits: L, labels: trainer.dataset.labels, dataset: trainer.dataset };
}

describe('§7 evidence on constructed networks', () => {
  beforeAll(() => useBackend('wasm'));

  it('a network computing Σ_K cos(w_k(a+b−c)): only-K loss = loss, K removed at chance, skip ablation changes nothing, u_k/v_k FVE 1, OV flat', async () => {
    const p = 13;
    const K = [2, 5];
    const { config, weights } = cosineSumNetwork(p, K, 6);
    const { result, labels } = await evidenceOf(config, weights, K);
    // The loss over all pairs of exactly 6·Σ_K cos(w_k(a+b−c)), in float64.
    const rows: number[][] = [];
    for (let a = 0; a < p; a++) for (let b = 0; b < p; b++) rows.push(Array.from({ length: p }, (_, c) => 6 * K.reduce((s, k) => s + Math.cos(w(k, a + b - c, p)), 0)));
    const loss = crossEntropy(rows, labels);
    expect(result.lossOnlyKeyFreqs).toBeCloseTo(loss, 4);
    // Without the key frequencies only the (0, 0) term is left, the mean over pairs: 0, chance.
    expect(result.lossKeyFreqsRemoved).toBeCloseTo(Math.log(p), 4);
    // W_U reads only what the MLP writes: the skip connection carries nothing to the logits.
    expect(result.lossSkipAblated).toBeCloseTo(loss, 4);
    expect(result.accSkipAblated).toBe(1);
    // Neuron (a0, b0) is one-hot on its pair: ⟨MLP, u_k⟩ ∝ cos(w_k(a+b)) exactly.
    for (const k of K) {
      expect(result.directionFVE[k].cos).toBeCloseTo(1, 4);
      expect(result.directionFVE[k].sin).toBeCloseTo(1, 4);
    }
    // W_V·W_O copies the token one-hot: F·I = F, each row has norm 1, each frequency √2.
    for (const norms of result.ovNorms) {
      expect(norms[0]).toBeCloseTo(1, 4);
      for (let k = 1; k <= numFreqs(p); k++) expect(norms[k]).toBeCloseTo(Math.SQRT2, 4);
    }
    expect(result.before.trainAcc).toBe(1);
    expect(result.before.correct.every((x) => x === 1)).toBe(true);
  });

  it('single-frequency neurons: OV circuit only at their frequencies, replacing neurons changes nothing', async () => {
    const p = 11;
    const freqs = [2, 3];
    const { config, weights } = singleFrequencyNeurons(p, freqs);
    // Give the neurons a readout so the replaced activations matter.
    const rng = mulberry(3);
    weights['unembed.W_U'] = weights['unembed.W_U'].map(() => rng() - 0.5);
    weights['blocks.0.mlp.W_out'] = weights['blocks.0.mlp.W_out'].map(() => rng() - 0.5);
    const { result } = await evidenceOf(config, weights, freqs);
    // W_E carries cos(w_k t) in one dim per k; ‖cos(w_k ·)‖ = √(P/2), all on row 2k−1 of F.
    for (let k = 1; k <= numFreqs(p); k++) {
      const want = freqs.includes(k) ? Math.sqrt(p / 2) : 0;
      expect(result.ovNorms[0][k]).toBeCloseTo(want, 3);
    }
    expect(result.neuronsReplaced).toBe(config.dMlp);
    const trainer = new Trainer(config, { weights });
    const m = await trainer.evaluateAsync();
    trainer.dispose();
    const allLoss = (m.trainLoss * trainer.dataset.train.length + m.testLoss * trainer.dataset.test.length) / (p * p);
    expect(result.lossNeuronsReplaced).toBeCloseTo(allLoss, 4);
    expect(result.testLossNeuronsReplaced).toBeCloseTo(m.testLoss, 4);
  });

  it('attention 0.5 + α(cos w_k a − cos w_k b) exactly: freq k, that α, FVE 1', () => {
    const p = 13;
    const config = tinyConfig({ p, nHeads: 2, dModel: 8 });
    const trainer = new Trainer(config);
    const analyzer = new Analyzer(config, trainer.dataset);
    const ev = new EvidenceAnalyzer(config, trainer.dataset, analyzer);
    const pat = new Float32Array(p * p * 2 * 3);
    for (let a = 0; a < p; a++) {
      for (let b = 0; b < p; b++) {
        const i = a * p + b;
        const h0 = 0.5 + 0.2 * (Math.cos(w(4, a, p)) - Math.cos(w(4, b, p)));
        const h1 = 0.5 + 0.1 * (Math.sin(w(6, a, p)) - Math.sin(w(6, b, p))) - 0.05 * (Math.cos(w(6, a, p)) - Math.cos(w(6, b, p)));
        [h0, h1].forEach((v, h) => {
          pat[(i * 2 + h) * 3] = v;
          pat[(i * 2 + h) * 3 + 1] = 1 - v;
        });
      }
    }
    const before = numTensors();
    const values = tf.tidy(() => {
      const logits = trainer.logitsAll();
      const acts = { pattern: tf.tensor3d(pat, [p * p, 2, 3]), mlpPost: tf.zeros([p * p, config.dMlp]) as tf.Tensor2D };
      return ev.evidence(trainer.paramTensors, logits, acts, [4, 6], analyzer.neuronFrequencyFractions(acts.mlpPost)).dataSync() as Float32Array;
    });
    expect(numTensors()).toBe(before);
    const r = ev.unpack(values, [4, 6]);
    expect(r.attentionHeads[0].freq).toBe(4);
    expect(r.attentionHeads[0].alpha).toBeCloseTo(0.2, 4);
    expect(r.attentionHeads[0].beta).toBeCloseTo(0, 4);
    expect(r.attentionHeads[0].fve).toBeCloseTo(1, 4);
    expect(r.attentionHeads[1]).toMatchObject({ freq: 6 });
    expect(r.attentionHeads[1].alpha).toBeCloseTo(-0.05, 4);
    expect(r.attentionHeads[1].beta).toBeCloseTo(0.1, 4);
    expect(r.attentionHeads[1].fve).toBeCloseTo(1, 4);
    // Other frequencies explain nothing of a pure frequency-4 pattern.
    expect(Math.max(...r.attentionFVEByFreq[0].filter((_, i) => i !== 3))).toBeLessThan(1e-4);
    ev.dispose();
    analyzer.dispose();
    trainer.dispose();
  });

  it('random init: every FVE is low', async () => {
    const config = tinyConfig({ p: 23, dModel: 32, nHeads: 4, dMlp: 64 });
    const { result } = await evidenceOf(config, undefined, [3, 7]);
    for (const h of result.attentionHeads) expect(h.fve).toBeLessThan(0.3);
    for (const k of [3, 7]) {
      expect(result.directionFVE[k].cos).toBeLessThan(0.3);
      expect(result.directionFVE[k].sin).toBeLessThan(0.3);
    }
    expect(result.logitFVE).toBeLessThan(0.3);
  });

  it('a dead MLP: the skip-ablated logits are the mean logits, whatever the pair', async () => {
    const config = tinyConfig({ p: 7 });
    const weights = initWeights(config);
    weights['blocks.0.mlp.W_in'].fill(0);
    weights['blocks.0.mlp.b_in'].fill(-1);
    const { result, logits, labels } = await evidenceOf(config, weights, [1]);
    const v = dims(config).dVocabOut;
    const n = config.p * config.p;
    const mean = Array.from({ length: v }, (_, c) => {
      let s = 0;
      for (let i = 0; i < n; i++) s += logits[i * v + c];
      return s / n;
    });
    expect(result.lossSkipAblated).toBeCloseTo(crossEntropy(Array.from({ length: n }, () => mean), labels), 4);
  });
});

describe('interventions against the float64 reference forward', () => {
  beforeAll(() => useBackend('wasm'));
  const config = tinyConfig({ p: 11, dModel: 12, nHeads: 3, dMlp: 20 });

  /** The intervened logits of every pair, and the model's neuron frequencies. */
  async function ablated(weights: Weights, spec: string) {
    const parsed = parseAblations(spec, config.p, config.nHeads);
    if ('error' in parsed) throw new Error(parsed.error);
    const trainer = new Trainer(config, { weights });
    const before = numTensors();
    const F = tf.tensor2d(fourierBasis(config.p), [config.p, config.p]);
    const freq = tf.tensor1d(new Int32Array(config.dMlp).fill(2), 'int32');
    const out = ablatedForward(trainer.paramTensors, config, F, parsed.ablations, freq);
    const logits = (await out.logits.data()) as Float32Array;
    tf.dispose([out.logits, out.mlpPost, out.pattern, F, freq]);
    expect(numTensors()).toBe(before);
    trainer.dispose();
    return logits;
  }

  const pairsToCheck = [0, 5, 17, 60, 120];
  function expectMatches(logits: Float32Array, reference: Weights) {
    const v = dims(config).dVocabOut;
    for (const i of pairsToCheck) {
      const want = referenceLogits(config, reference, Math.floor(i / config.p), i % config.p);
      expect(maxAbsDiff(logits.subarray(i * v, (i + 1) * v), want)).toBeLessThan(1e-4);
    }
  }

  it('no intervention: the model itself', async () => {
    const weights = initWeights(config);
    expectMatches(await ablated(weights, ''), weights);
  });

  it('head:1 (zero) is the model with W_O of head 1 set to 0', async () => {
    const weights = initWeights(config);
    const ref = { ...weights, 'blocks.0.attn.W_O': weights['blocks.0.attn.W_O'].slice() };
    const per = (config.dModel / config.nHeads) * config.dModel;
    ref['blocks.0.attn.W_O'].fill(0, per, 2 * per);
    expectMatches(await ablated(weights, 'head:1'), ref);
  });

  it('we:3 is the model with frequency 3 projected out of W_E[:P] (float64)', async () => {
    const weights = initWeights(config);
    const p = config.p;
    const d = config.dModel;
    const E = weights['embed.W_E'].slice();
    for (const trig of [Math.cos, Math.sin]) {
      const basis = Array.from({ length: p }, (_, t) => trig(w(3, t, p)));
      const norm2 = basis.reduce((s, x) => s + x * x, 0);
      for (let i = 0; i < d; i++) {
        let dot = 0;
        for (let t = 0; t < p; t++) dot += basis[t] * weights['embed.W_E'][t * d + i];
        for (let t = 0; t < p; t++) E[t * d + i] -= (dot / norm2) * basis[t];
      }
    }
    expectMatches(await ablated(weights, 'we:3'), { ...weights, 'embed.W_E': E });
  });

  it('neurons:2 (zero) is the model with those neurons cut from W_out', async () => {
    const weights = initWeights(config);
    // Every neuron is given frequency 2 above, so the cluster is all of them.
    expectMatches(await ablated(weights, 'neurons:2'), { ...weights, 'blocks.0.mlp.W_out': new Float32Array(weights['blocks.0.mlp.W_out'].length), 'blocks.0.mlp.b_out': weights['blocks.0.mlp.b_out'] });
  });

  it('logits:k over the train pairs is the excluded loss of k (§5.5); wl:k changes the logits only at frequency k over c', async () => {
    const weights = initWeights(config);
    const p = config.p;
    const v = dims(config).dVocabOut;
    const base = await ablated(weights, '');
    const wl = await ablated(weights, 'wl:4');
    for (const i of pairsToCheck) {
      const diff = Array.from({ length: p }, (_, c) => wl[i * v + c] - base[i * v + c]);
      // The change is frequency 4 over c and nothing else (the skip path keeps its own).
      expect(Math.max(...diff.map(Math.abs))).toBeGreaterThan(1e-4);
      for (const trig of [Math.cos, Math.sin]) {
        for (const k of [1, 2, 3, 5]) expect(Math.abs(diff.reduce((s, x, c) => s + x * trig(w(k, c, p)), 0))).toBeLessThan(1e-4);
      }
    }
    const trainer = new Trainer(config, { weights });
    const analyzer = new Analyzer(config, trainer.dataset);
    const t = analyzer.logitMeasures(trainer.logitsAll(), [4]);
    const excluded = analyzer.unpackLogitMeasures((await t.data()) as Float32Array, [4]).excludedLossPerFreq[0];
    t.dispose();
    const lg = await ablated(weights, 'logits:4');
    const rows = Array.from(trainer.dataset.train, (i) => Array.from(lg.subarray(i * v, i * v + p)));
    expect(crossEntropy(rows, Array.from(trainer.dataset.train, (i) => trainer.dataset.labels[i]))).toBeCloseTo(excluded, 4);
    analyzer.dispose();
    trainer.dispose();
  });

  it('the evidence pass reports the intervention before → after with its correctness map', async () => {
    const weights = initWeights(config);
    const { result } = await evidenceOf(config, weights, [2], { ablations: [{ target: 'head', index: 0, mode: 'mean' }], pair: 13 });
    expect(result.after).not.toBeNull();
    expect(result.after!.trainLoss).not.toBeCloseTo(result.before.trainLoss, 6);
    expect(result.after!.correct.length).toBe(config.p * config.p);
    expect(result.probe!.a).toBe(1);
    expect(result.probe!.b).toBe(2);
    expect(result.probe!.logits.length).toBe(dims(config).dVocabOut);
    // The probe's logits are the model's at (1, 2).
    expect(maxAbsDiff(result.probe!.logits, referenceLogits(config, weights, 1, 2))).toBeLessThan(1e-4);
    const s = result.probe!.attention;
    for (let h = 0; h < config.nHeads; h++) expect(s[3 * h] + s[3 * h + 1] + s[3 * h + 2]).toBeCloseTo(1, 5);
  });

  it('a 2-layer model refuses interventions with a message, and still gets its evidence', async () => {
    const c2 = tinyConfig({ nLayers: 2 });
    const { result } = await evidenceOf(c2, undefined, [1], { ablations: [{ target: 'head', index: 0, mode: 'zero' }] });
    expect(result.after).toBeNull();
    expect(result.interventionError).toMatch(/1-layer/);
    expect(result.attentionHeads.length).toBe(c2.nHeads);
  });
});

describe('ablation syntax', () => {
  it('parses, normalizes and refuses bad items with a message', () => {
    expect(parseAblations('we:14,head:0:mean, neurons:3', 113, 4)).toEqual({
      ablations: [
        { target: 'we', index: 14, mode: 'zero' },
        { target: 'head', index: 0, mode: 'mean' },
        { target: 'neurons', index: 3, mode: 'zero' },
      ],
    });
    expect(parseAblations('', 113, 4)).toEqual({ ablations: [] });
    for (const bad of ['head:4', 'we:57', 'we:0', 'foo:1', 'we:1:half', 'we']) expect(parseAblations(bad, 113, 4)).toHaveProperty('error');
  });
});

function mulberry(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

