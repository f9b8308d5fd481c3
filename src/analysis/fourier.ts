/**
 * The Fourier basis of ANALYSIS.md §4 and the per-frequency bookkeeping used by every measure.
 * F is P×P and orthonormal: row 0 is 1/√P; rows 2k−1 and 2k are cos(2πkx/P) and sin(2πkx/P),
 * each scaled to unit norm, for k = 1 … (P−1)/2. Frequency k means w_k = 2πk/P.
 */

/** Number of non-constant frequencies, (P − 1)/2 for odd P (56 for P = 113). */
export function numFreqs(p: number): number {
  return (p - 1) / 2;
}

/** F, `[P, P]` row-major, computed in float64 and stored as float32. */
export function fourierBasis(p: number): Float32Array {
  const f = new Float32Array(p * p);
  const c0 = 1 / Math.sqrt(p);
  for (let x = 0; x < p; x++) f[x] = c0;
  for (let k = 1; k <= numFreqs(p); k++) {
    const cos = new Float64Array(p);
    const sin = new Float64Array(p);
    for (let x = 0; x < p; x++) {
      cos[x] = Math.cos((2 * Math.PI * k * x) / p);
      sin[x] = Math.sin((2 * Math.PI * k * x) / p);
    }
    const nc = Math.hypot(...cos);
    const ns = Math.hypot(...sin);
    for (let x = 0; x < p; x++) {
      f[(2 * k - 1) * p + x] = cos[x] / nc;
      f[2 * k * p + x] = sin[x] / ns;
    }
  }
  return f;
}

/** Names of F's rows: 'const', 'cos 1', 'sin 1', … */
export function fourierComponentNames(p: number): string[] {
  const names = ['const'];
  for (let k = 1; k <= numFreqs(p); k++) names.push(`cos ${k}`, `sin ${k}`);
  return names;
}

/**
 * Per-frequency norms from per-component norms `[P]`: index 0 the constant term, index k the
 * root of the cos and sin components' squares, √(c[2k−1]² + c[2k]²). Length (P − 1)/2 + 1.
 */
export function perFrequency(components: ArrayLike<number>): Float64Array {
  const nk = (components.length - 1) / 2;
  const out = new Float64Array(nk + 1);
  out[0] = Math.abs(components[0]);
  for (let k = 1; k <= nk; k++) out[k] = Math.hypot(components[2 * k - 1], components[2 * k]);
  return out;
}
