import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, type TrainConfig } from '../../src/config/schema.ts';
import { forwardFast } from '../../src/model/transformer/fast.ts';
import { disposePairBatch, forwardGeneral, makePairBatch, type Params } from '../../src/model/transformer/forward.ts';
import { initWeights, paramSpecs, type Weights } from '../../src/model/transformer/params.ts';
import { labelTable } from '../../src/task/pairs.ts';
import { maxAbsDiff, numTensors, tinyConfig, useBackend } from '../helpers.ts';
import { referenceLogits } from './reference.ts';

function toParams(c: TrainConfig, w: Weights): Params {
  return Object.fromEntries(paramSpecs(c).map((s) => [s.name, tf.tensor(w[s.name], s.shape)]));
}

function allPairs(p: number): Int32Array {
  return new Int32Array(p * p).map((_, i) => i);
}

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`forward on ${backend}`, () => {
    beforeAll(() => useBackend(backend));

    it('has the TransformerLens parameter shapes', () => {
      const specs = Object.fromEntries(paramSpecs(DEFAULT_CONFIG).map((s) => [s.name, s.shape]));
      expect(specs).toEqual({
        'embed.W_E': [114, 128],
        'pos_embed.W_pos': [3, 128],
        'blocks.0.attn.W_Q': [4, 128, 32],
        'blocks.0.attn.W_K': [4, 128, 32],
        'blocks.0.attn.W_V': [4, 128, 32],
        'blocks.0.attn.W_O': [4, 32, 128],
        'blocks.0.mlp.W_in': [128, 512],
        'blocks.0.mlp.b_in': [512],
        'blocks.0.mlp.W_out': [512, 128],
        'blocks.0.mlp.b_out': [128],
        'unembed.W_U': [128, 114],
      });
      expect(paramSpecs({ ...DEFAULT_CONFIG, vocabOut: 'p' }).at(-1)!.shape).toEqual([128, 113]);
      expect(paramSpecs({ ...DEFAULT_CONFIG, nLayers: 2 }).filter((s) => s.name.startsWith('blocks.1.')).length).toBe(8);
    });

    it('initializes as the authors: N(0, 1/d_model), W_U N(0, 1/d_vocab), biases 0', () => {
      const w = initWeights(DEFAULT_CONFIG);
      const std = (x: Float32Array) => Math.sqrt(x.reduce((s, v) => s + v * v, 0) / x.length);
      expect(std(w['blocks.0.mlp.W_in'])).toBeCloseTo(1 / Math.sqrt(128), 2);
      expect(std(w['unembed.W_U'])).toBeCloseTo(1 / Math.sqrt(114), 2);
      expect(w['blocks.0.mlp.b_in'].every((v) => v === 0)).toBe(true);
      expect(Array.from(initWeights(DEFAULT_CONFIG)['embed.W_E'])).toEqual(Array.from(w['embed.W_E']));
    });

    it('gives logits of shape [N, d_vocab_out] on both paths', () => {
      const c = tinyConfig();
      const params = toParams(c, initWeights(c));
      const batch = makePairBatch(c, new Int32Array([0, 5, 48]), labelTable('add', 7, 0));
      expect(forwardGeneral(params, c, batch).shape).toEqual([3, 8]);
      expect(forwardFast(params, c, batch).shape).toEqual([3, 8]);
      const cP = { ...c, vocabOut: 'p' as const };
      const paramsP = toParams(cP, initWeights(cP));
      expect(forwardGeneral(paramsP, cP, batch).shape).toEqual([3, 7]);
      tf.dispose([...Object.values(params), ...Object.values(paramsP)]);
      disposePairBatch(batch);
    });

    it('computes a hand-worked example (P = 3, d_model 2, uniform attention)', () => {
      // W_Q = 0 makes every score 0, so '=' attends 1/3 to each of a, b, '='. With W_E rows
      // 0:[1,0] 1:[0,1] 2:[1,1] '=':[0,0], W_pos = 0, W_V = W_O = I:
      //   resid = (E[a] + E[b]) / 3;  post = relu(resid + [0, -0.5]);  x = resid + post;
      //   logits = x · W_U with W_U = [[1, 0, -1], [0, 1, 1]].
      // (a, b) = (0, 1): resid [1/3, 1/3], post [1/3, 0], x [2/3, 1/3] → [2/3, 1/3, -1/3]
      // (a, b) = (2, 2): resid [2/3, 2/3], post [2/3, 1/6], x [4/3, 5/6] → [4/3, 5/6, -1/2]
      const c: TrainConfig = { ...DEFAULT_CONFIG, p: 3, dModel: 2, nHeads: 1, dMlp: 2, vocabOut: 'p' };
      const w: Weights = {
        'embed.W_E': new Float32Array([1, 0, 0, 1, 1, 1, 0, 0]),
        'pos_embed.W_pos': new Float32Array(6),
        'blocks.0.attn.W_Q': new Float32Array(4),
        'blocks.0.attn.W_K': new Float32Array([1, 2, 3, 4]),
        'blocks.0.attn.W_V': new Float32Array([1, 0, 0, 1]),
        'blocks.0.attn.W_O': new Float32Array([1, 0, 0, 1]),
        'blocks.0.mlp.W_in': new Float32Array([1, 0, 0, 1]),
        'blocks.0.mlp.b_in': new Float32Array([0, -0.5]),
        'blocks.0.mlp.W_out': new Float32Array([1, 0, 0, 1]),
        'blocks.0.mlp.b_out': new Float32Array(2),
        'unembed.W_U': new Float32Array([1, 0, -1, 0, 1, 1]),
      };
      const params = toParams(c, w);
      const batch = makePairBatch(c, new Int32Array([0 * 3 + 1, 2 * 3 + 2]), labelTable('add', 3, 0));
      const expected = [2 / 3, 1 / 3, -1 / 3, 4 / 3, 5 / 6, -1 / 2];
      for (const fwd of [forwardGeneral, forwardFast]) {
        const logits = fwd(params, c, batch);
        expect(maxAbsDiff(logits.dataSync(), expected)).toBeLessThan(1e-6);
        logits.dispose();
      }
      tf.dispose(Object.values(params));
      disposePairBatch(batch);
    });

    const variants: [string, Partial<TrainConfig>][] = [
      ['1 layer ReLU', {}],
      ['1 layer GELU, P outputs', { act: 'gelu', vocabOut: 'p' }],
      ['2 layers ReLU', { nLayers: 2 }],
      ['2 layers GELU', { nLayers: 2, act: 'gelu' }],
    ];
    it.each(variants)('matches a naive float64 reference: %s', (_, changes) => {
      const c = tinyConfig({ seed: 3, ...changes });
      const w = initWeights(c);
      // Larger weights than the init make the attention pattern and ReLUs non-trivial
      // (and the logits large: compare relative to their scale).
      for (const k of Object.keys(w)) w[k] = w[k].map((v) => v * 3);
      const params = toParams(c, w);
      const pairs = allPairs(c.p);
      const batch = makePairBatch(c, pairs, labelTable('add', c.p, 0));
      const logits = forwardGeneral(params, c, batch).dataSync();
      const expected: number[] = [];
      for (const i of pairs) expected.push(...referenceLogits(c, w, Math.floor(i / c.p), i % c.p));
      const scale = Math.max(...expected.map(Math.abs));
      expect(maxAbsDiff(logits, expected) / scale).toBeLessThan(1e-5);
      tf.dispose(Object.values(params));
      disposePairBatch(batch);
    });

    it('leaves no tensors behind', () => {
      const c = tinyConfig({ nLayers: 2 });
      const params = toParams(c, initWeights(c));
      const batch = makePairBatch(c, allPairs(c.p), labelTable('add', c.p, 0));
      const before = numTensors();
      forwardGeneral(params, c, batch).dispose();
      expect(numTensors()).toBe(before);
      tf.dispose(Object.values(params));
      disposePairBatch(batch);
    });
  });
}

describe('fast forward = general forward', () => {
  beforeAll(() => useBackend('wasm'));
  afterAll(() => undefined);

  const cases: [string, TrainConfig][] = [
    ['tiny', tinyConfig({ seed: 11 })],
    ['tiny GELU, P outputs', tinyConfig({ seed: 12, act: 'gelu', vocabOut: 'p' })],
    ['mainline shapes, P = 31', { ...DEFAULT_CONFIG, p: 31, seed: 5 }],
  ];

  it.each(cases)('on random weights, values and gradients to 1e-5: %s', (_, c) => {
    const w = initWeights(c);
    for (const k of Object.keys(w)) w[k] = w[k].map((v) => v * 2);
    const params = toParams(c, w);
    const pairs = allPairs(c.p).filter((i) => i % 3 !== 1);
    const batch = makePairBatch(c, pairs, labelTable('add', c.p, 0));
    const names = Object.keys(params);
    const lossOf = (fwd: typeof forwardFast) => (...ts: tf.Tensor[]) => {
      const ps = Object.fromEntries(names.map((n, i) => [n, ts[i]]));
      // A loss that depends on every logit with varied weights.
      const logits = fwd(ps, c, batch);
      return tf.sum(tf.mul(tf.sin(tf.mul(logits, 3)), tf.range(0, logits.size).reshape(logits.shape).mod(7)));
    };
    const general = forwardGeneral(params, c, batch).dataSync();
    const fast = forwardFast(params, c, batch).dataSync();
    const scale = Math.max(...general.map(Math.abs));
    expect(maxAbsDiff(fast, general) / scale).toBeLessThan(1e-5);
    const gGeneral = tf.grads(lossOf(forwardGeneral))(Object.values(params));
    const gFast = tf.grads(lossOf(forwardFast))(Object.values(params));
    names.forEach((name, i) => {
      const a = gGeneral[i].dataSync();
      const b = gFast[i].dataSync();
      const s = Math.max(1e-3, ...Array.from(a, Math.abs));
      expect(maxAbsDiff(a, b) / s, name).toBeLessThan(1e-5);
    });
    tf.dispose([...gGeneral, ...gFast, ...Object.values(params)]);
    disposePairBatch(batch);
  });
});
