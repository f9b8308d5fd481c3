/**
 * Fig. 1's circles (src/analysis/circle.ts) on an embedding that is exactly a Fourier embedding:
 * every token lies on its frequency's circle at angle w_k·a, and composing the rotations of a and b
 * reads out (a + b) mod P.
 */
import { describe, expect, it } from 'vitest';
import { composeRotation, frequencyCircle, readoutAccuracy } from '../../src/analysis/circle.ts';
import { mulberry32 } from '../../src/random/rng.ts';

const p = 17;
const d = 12;
const w = (k: number) => (2 * Math.PI * k) / p;

/** W_E[a] = 2(cos w_3 a·e_2 + sin w_3 a·e_5) + 1.5(cos w_5 a·e_8 + sin w_5 a·e_9) + 0.7·e_0. */
function fourierEmbedding(): Float32Array {
  const E = new Float32Array(p * d);
  for (let a = 0; a < p; a++) {
    E[a * d + 0] = 0.7;
    E[a * d + 2] = 2 * Math.cos(w(3) * a);
    E[a * d + 5] = 2 * Math.sin(w(3) * a);
    E[a * d + 8] = 1.5 * Math.cos(w(5) * a);
    E[a * d + 9] = 1.5 * Math.sin(w(5) * a);
  }
  return E;
}

const angleDiff = (s: number, t: number) => Math.abs(Math.atan2(Math.sin(s - t), Math.cos(s - t)));

describe("Fig. 1: each token on its frequency's circle", () => {
  it('an exact Fourier embedding puts token a at angle w_k·a on a circle of its amplitude', () => {
    const E = fourierEmbedding();
    for (const [k, r] of [[3, 2], [5, 1.5]]) {
      const c = frequencyCircle(E, p, k);
      for (let a = 0; a < p; a++) {
        expect(Math.hypot(c.x[a], c.y[a])).toBeCloseTo(r, 4);
        expect(angleDiff(c.angle[a], w(k) * a)).toBeLessThan(1e-4);
      }
      expect(c.radius).toBeCloseTo(r, 4);
      expect(c.phaseCoherence).toBeCloseTo(1, 5);
      // Each circle's share of the centred embedding: 2² against 1.5² (the constant e_0 is centred away).
      expect(c.planeShare).toBeCloseTo(r ** 2 / (2 ** 2 + 1.5 ** 2), 4);
    }
    // A frequency the embedding does not use: nothing on its circle.
    const none = frequencyCircle(E, p, 4);
    expect(none.planeShare).toBeLessThan(1e-6);
  });

  it('composing the rotations of a and b reads out (a + b) mod P: cos(w_k(a + b − c))', () => {
    const c = frequencyCircle(fourierEmbedding(), p, 3);
    for (const [a, b] of [[5, 9], [16, 16], [0, 4], [11, 6]]) {
      const r = composeRotation(c, a, b);
      expect(r.answer).toBe((a + b) % p);
      expect(r.best).toBe((a + b) % p);
      expect(angleDiff(r.composed, w(3) * (a + b))).toBeLessThan(1e-4);
      for (let t = 0; t < p; t++) expect(r.readout[t]).toBeCloseTo(Math.cos(w(3) * (a + b - t)), 4);
    }
    // Every pair: the circles of an exact Fourier embedding read all of them right.
    const both = [c, frequencyCircle(fourierEmbedding(), p, 5)];
    expect(readoutAccuracy(both)).toEqual({ accuracy: 1, pairs: p * p });
    // A stride of the pairs when there are many.
    expect(readoutAccuracy(both, 100).pairs).toBe(Math.ceil((p * p) / 3));
  });

  it("any embedding's shares over the frequencies add up to 1 (Parseval); a random one spreads them", () => {
    const rng = mulberry32(7);
    const E = Float32Array.from({ length: p * d }, () => rng() - 0.5);
    const shares = Array.from({ length: 8 }, (_, i) => frequencyCircle(E, p, i + 1).planeShare);
    expect(shares.reduce((s, x) => s + x, 0)).toBeCloseTo(1, 5);
    expect(Math.max(...shares)).toBeLessThan(0.5);
    // Its circles read few pairs right (chance is 1/P).
    const circles = [1, 2, 3].map((k) => frequencyCircle(E, p, k));
    expect(readoutAccuracy(circles).accuracy).toBeLessThan(0.5);
    expect(() => frequencyCircle(E, p, 9)).toThrow(/not in 1 … 8/);
    expect(() => frequencyCircle(E.subarray(1), p, 1)).toThrow(/not a multiple of P = 17/);
  });
});
