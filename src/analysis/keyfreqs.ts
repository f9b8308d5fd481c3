/**
 * Key frequencies K (App. C.2: "DFT on W_L, take the frequencies with nontrivial
 * coefficients"): by default the frequencies whose share of W_L's non-constant Fourier energy
 * is at least 5% — the uniform share is 1/56 ≈ 1.8% for P = 113 — at most 10, largest first.
 */
import { KEY_FREQ_MAX } from '../config/keyfreqs.ts';

export const KEY_FREQ_MIN_SHARE = 0.05;

export const KEY_FREQ_RULE =
  `K = the frequencies whose share of W_L's non-constant Fourier energy is at least ${100 * KEY_FREQ_MIN_SHARE}%, ` +
  `at most ${KEY_FREQ_MAX}, largest first (the paper: "frequencies with nontrivial coefficients", App. C.2)`;

/** Energy share of each frequency k ≥ 1 from per-frequency norms (index 0 = constant, ignored). */
export function energyShares(perFreqNorms: ArrayLike<number>): Float64Array {
  const shares = new Float64Array(perFreqNorms.length);
  let total = 0;
  for (let k = 1; k < perFreqNorms.length; k++) total += perFreqNorms[k] ** 2;
  if (total === 0) return shares;
  for (let k = 1; k < perFreqNorms.length; k++) shares[k] = perFreqNorms[k] ** 2 / total;
  return shares;
}

/** The default rule applied to W_L's per-frequency norms. */
export function keyFreqsFromNorms(perFreqNormsWL: ArrayLike<number>): number[] {
  const shares = energyShares(perFreqNormsWL);
  const ks: number[] = [];
  for (let k = 1; k < shares.length; k++) if (shares[k] >= KEY_FREQ_MIN_SHARE) ks.push(k);
  return ks.sort((a, b) => shares[b] - shares[a] || a - b).slice(0, KEY_FREQ_MAX);
}
