/**
 * Fig. 1 of the paper, from the run's own weights: at a key frequency w_k = 2πk/P the embedding
 * puts token a on a circle at angle w_k·a, so adding a and b is composing two rotations, and the
 * readout at c is cos(w_k(a + b − c)), largest at c = (a + b) mod P.
 *
 * The plane of frequency k is spanned by the (cos w_k a, sin w_k a) directions of W_E: the
 * d_model-vectors Σ_a cos(w_k a)·W_E[a] and Σ_a sin(w_k a)·W_E[a] (rows 2k−1 and 2k of F·W_E,
 * ANALYSIS.md §5.1, up to scale). Each token's centred embedding is projected on an orthonormal
 * basis of that plane (the cos direction first). Plain arrays: no tensors, no React.
 */

export interface FrequencyCircle {
  k: number;
  /** Coordinates of token a = 0 … P−1 in the plane of frequency k. */
  x: Float64Array;
  y: Float64Array;
  /** Angle of each token, atan2(y, x), in (−π, π]. */
  angle: Float64Array;
  /** Mean distance from the centre. */
  radius: number;
  /** Share of the centred embedding's squared norm at frequency k (F rows 2k−1, 2k; 1: W_E is this circle alone). */
  planeShare: number;
  /** |mean_a exp(i(angle_a − w_k a))|: 1 when every token sits at angle w_k·a, ~0 for a random embedding. */
  phaseCoherence: number;
}

/** Token a's point on frequency k's circle from `embedding`, W_E[:P] as `[P, d_model]` row-major. */
export function frequencyCircle(embedding: ArrayLike<number>, p: number, k: number): FrequencyCircle {
  const d = embedding.length / p;
  if (!Number.isInteger(d) || d < 1) throw new Error(`the embedding has ${embedding.length} values, not a multiple of P = ${p}`);
  if (!Number.isInteger(k) || k < 1 || k > (p - 1) / 2) throw new Error(`frequency ${k} is not in 1 … ${(p - 1) / 2}`);
  const w = (2 * Math.PI * k) / p;
  // Centre over tokens: the constant direction is no part of any circle.
  const mean = new Float64Array(d);
  for (let a = 0; a < p; a++) for (let j = 0; j < d; j++) mean[j] += embedding[a * d + j] / p;
  const E = (a: number, j: number) => embedding[a * d + j] - mean[j];
  const cosDir = new Float64Array(d);
  const sinDir = new Float64Array(d);
  let total = 0;
  for (let a = 0; a < p; a++) {
    const c = Math.cos(w * a);
    const s = Math.sin(w * a);
    for (let j = 0; j < d; j++) {
      const v = E(a, j);
      cosDir[j] += c * v;
      sinDir[j] += s * v;
      total += v * v;
    }
  }
  const e1 = unit(cosDir);
  // Gram–Schmidt: the sin direction less its part along the cos direction.
  const along = dot(sinDir, e1);
  const e2 = unit(sinDir.map((v, j) => v - along * e1[j]));
  const x = new Float64Array(p);
  const y = new Float64Array(p);
  const angle = new Float64Array(p);
  let radius = 0;
  let re = 0;
  let im = 0;
  for (let a = 0; a < p; a++) {
    let xa = 0;
    let ya = 0;
    for (let j = 0; j < d; j++) {
      xa += E(a, j) * e1[j];
      ya += E(a, j) * e2[j];
    }
    x[a] = xa;
    y[a] = ya;
    angle[a] = Math.atan2(ya, xa);
    const r = Math.hypot(xa, ya);
    radius += r / p;
    if (r > 0) {
      re += Math.cos(angle[a] - w * a) / p;
      im += Math.sin(angle[a] - w * a) / p;
    }
  }
  // The plane's Fourier energy: F's unit rows are √(2/P)·cos and √(2/P)·sin, so it is (2/P)(|Σcos·E|² + |Σsin·E|²).
  // Over k = 1 … (P−1)/2 the shares add up to 1 (Parseval), whatever the embedding.
  const fourierEnergy = (2 / p) * (dot(cosDir, cosDir) + dot(sinDir, sinDir));
  return { k, x, y, angle, radius, planeShare: total > 0 ? fourierEnergy / total : 0, phaseCoherence: Math.hypot(re, im) };
}

export interface ComposedRotation {
  a: number;
  b: number;
  /** The right answer, (a + b) mod P. */
  answer: number;
  /** angle_a + angle_b, wrapped to (−π, π]: the rotation by a composed with the rotation by b. */
  composed: number;
  /** The readout cos(composed − angle_c) for every c = 0 … P−1 (cos(w_k(a + b − c)) on a perfect circle). */
  readout: Float64Array;
  /** The c where the readout is largest. */
  best: number;
}

/** For the pair (a, b): the composed rotation on one frequency's circle and the readout at every c. */
export function composeRotation(circle: FrequencyCircle, a: number, b: number): ComposedRotation {
  const p = circle.angle.length;
  const composed = wrap(circle.angle[a] + circle.angle[b]);
  const readout = circle.angle.map((t) => Math.cos(composed - t));
  let best = 0;
  for (let c = 1; c < p; c++) if (readout[c] > readout[best]) best = c;
  return { a, b, answer: (a + b) % p, composed, readout, best };
}

/**
 * How often the circles alone get the answer: the share of pairs (a, b) whose summed readout
 * Σ_k cos(angle_a + angle_b − angle_c) is largest at c = (a + b) mod P. Over all P² pairs, or
 * over an even stride of them when there are more than `maxPairs` (P = 401 has 160,801).
 */
export function readoutAccuracy(circles: readonly FrequencyCircle[], maxPairs = 4096): { accuracy: number; pairs: number } {
  if (circles.length === 0) return { accuracy: NaN, pairs: 0 };
  const p = circles[0].angle.length;
  const cos = circles.map((c) => c.angle.map(Math.cos));
  const sin = circles.map((c) => c.angle.map(Math.sin));
  const stride = Math.max(1, Math.ceil((p * p) / maxPairs));
  let right = 0;
  let pairs = 0;
  for (let i = 0; i < p * p; i += stride) {
    const a = Math.floor(i / p);
    const b = i % p;
    let best = -1;
    let bestValue = -Infinity;
    for (let c = 0; c < p; c++) {
      let v = 0;
      circles.forEach((circle, j) => {
        const t = circle.angle[a] + circle.angle[b];
        v += Math.cos(t) * cos[j][c] + Math.sin(t) * sin[j][c];
      });
      if (v > bestValue) {
        bestValue = v;
        best = c;
      }
    }
    pairs++;
    if (best === (a + b) % p) right++;
  }
  return { accuracy: right / pairs, pairs };
}

function wrap(t: number): number {
  const r = t - 2 * Math.PI * Math.round(t / (2 * Math.PI));
  return r <= -Math.PI ? r + 2 * Math.PI : r;
}

function dot(u: ArrayLike<number>, v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < u.length; i++) s += u[i] * v[i];
  return s;
}

function unit(v: Float64Array): Float64Array {
  const n = Math.sqrt(dot(v, v));
  return n > 0 ? v.map((x) => x / n) : v;
}
