/**
 * The mechanism's views as plot specs: Fig. 1's circles of a run whose W_E is exactly a Fourier
 * embedding, Fig. 15's curves per key frequency, and the slingshot marks on the loss chart.
 */
import { describe, expect, it } from 'vitest';
import type { HeavyResult } from '../../src/run/protocol.ts';
import { createAppStore } from '../../src/store/store.ts';
import { circleSpec, excludedPerFreqSpec, readoutSpec } from '../../src/ui/charts/MechanismCharts.tsx';
import { lossSpec } from '../../src/ui/charts/ProgressCharts.tsx';
import { checkpointFixture } from '../helpers.ts';

const p = 17;
const d = 8;

function heavyWithFourierEmbedding(epoch: number): HeavyResult {
  const embedding = new Float32Array(p * d);
  for (let a = 0; a < p; a++) {
    embedding[a * d + 1] = Math.cos((2 * Math.PI * 3 * a) / p);
    embedding[a * d + 4] = Math.sin((2 * Math.PI * 3 * a) / p);
  }
  const none = new Float32Array(0);
  return {
    epoch, p, dMlp: 4, heads: 1, embedding,
    logitSpectrum: none, neuronFreq: new Int16Array(4), neuronFVE: new Float32Array(4), neuronsWellExplained: 0,
    attention: none, neuronIndices: new Int32Array(0), neuronMaps: none, neuronLogitMap: none,
  };
}

describe("Fig. 1's circles in the page", () => {
  it('draw each token at angle w_k·a and read the pair out at (a + b) mod P', () => {
    const store = createAppStore();
    store.setState({ heavy: new Map([[500, heavyWithFourierEmbedding(500)]]), latestHeavyEpoch: 500, keyFreqs: { version: 1, active: [3], live: [3], pinned: false } });
    const spec = circleSpec(store.getState(), { a: 5, b: 9 }, 3)!;
    const points = spec.data[0] as { x: number[]; y: number[] };
    for (let a = 0; a < p; a++) {
      const t = Math.atan2(points.y[a], points.x[a]);
      const want = (2 * Math.PI * 3 * a) / p;
      expect(Math.abs(Math.atan2(Math.sin(t - want), Math.cos(t - want)))).toBeLessThan(1e-4);
    }
    expect(JSON.stringify(spec.layout.annotations)).toMatch(/k = 3 · 100% of W_E · on angle w_k·a: 1\.00 · reads 14 ✓/);
    expect(String((readoutSpec(store.getState(), { a: 5, b: 9 })!.layout.title as { text: string }).text)).toMatch(/peaks at c = 14 = \(a \+ b\) mod P/);
    // A pair out of range is clamped to the tokens there are.
    expect(String((readoutSpec(store.getState(), { a: 40, b: 0 })!.layout.title as { text: string }).text)).toMatch(/a = 16, b = 0: the sum peaks at c = 16/);
    // Without K, the strongest frequencies of W_E are drawn, and said to be.
    store.setState({ keyFreqs: null });
    expect(String((circleSpec(store.getState(), { a: 1, b: 2 }, 3)!.layout.title as { text: string }).text)).toMatch(/no K yet/);
  });
});

describe('Fig. 15 and slingshots on the curves', () => {
  it('one curve per key frequency, only where measured with the current K, beside all of K', () => {
    const store = createAppStore();
    const h = store.getState().history;
    h.push(checkpointFixture(0, { keyFreqsVersion: 2, excludedLossPerFreq: [0.5, 0.7] }));
    h.push(checkpointFixture(100, { keyFreqsVersion: 1, excludedLossPerFreq: [9] }));
    h.push(checkpointFixture(200, { keyFreqsVersion: 2, excludedLossPerFreq: [0.9, 1.3] }));
    store.setState({ keyFreqs: { version: 2, active: [14, 35], live: [14, 35], pinned: false }, historyVersion: 3 });
    const spec = excludedPerFreqSpec(store.getState());
    const byName = Object.fromEntries(spec.data.map((t) => [t.name, t as { x: number[]; y: number[] }]));
    expect(byName['excluded: k = 14 removed alone']).toMatchObject({ x: [0, 200], y: [0.5, 0.9] });
    expect(byName['excluded: k = 35 removed alone']).toMatchObject({ x: [0, 200], y: [0.7, 1.3] });
    expect(byName['excluded: all of K removed'].x).toEqual([0, 200]);
  });

  it('marks a slingshot at its peak with the rule on hover', () => {
    const store = createAppStore();
    const h = store.getState().history;
    const loss = [3, 1, 1e-6, 1e-6, 0.5, 1e-6];
    loss.forEach((l, i) => h.push(checkpointFixture(i * 100, { trainLoss: l, trainAcc: i >= 2 ? 1 : 0.5 })));
    store.setState({ historyVersion: 99 });
    const spec = lossSpec(store.getState());
    const shot = spec.data.find((t) => String(t.name).startsWith('slingshot')) as { x: number[]; y: number[]; text: string[] };
    expect(shot.x).toEqual([400]);
    expect(shot.y).toEqual([0.5]);
    expect(shot.text[0]).toMatch(/5\.0e\+5× its running minimum \(400–500\)\. Rule: train loss more than 10×/);
    expect(String((spec.layout.title as { text: string }).text)).toMatch(/1 slingshot/);
  });
});
