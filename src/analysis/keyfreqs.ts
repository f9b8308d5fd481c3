/**
 * Key frequencies K (App. C.2: "DFT on W_L, take the frequencies with nontrivial
 * coefficients"): by default the frequencies whose share of W_L's non-constant Fourier energy
 * is at least 5% — the uniform share is 1/56 ≈ 1.8% for P = 113 — at most 10, largest first.
 */
export const KEY_FREQ_MIN_SHARE = 0.05;
export const KEY_FREQ_MAX = 10;

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

/** Validates a hand-pinned K for modulus P: distinct integers in [1, (P − 1)/2]. */
export function checkKeyFreqs(ks: readonly number[], p: number): string | null {
  const max = (p - 1) / 2;
  if (ks.length === 0) return 'at least one key frequency is needed';
  if (ks.length > 2 * KEY_FREQ_MAX) return `at most ${2 * KEY_FREQ_MAX} key frequencies`;
  for (const k of ks) if (!Number.isInteger(k) || k < 1 || k > max) return `key frequency ${k} is not an integer in [1, ${max}]`;
  if (new Set(ks).size !== ks.length) return 'a key frequency is repeated';
  return null;
}

/** Two K's are the same set. */
export function sameKeyFreqs(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  const s = new Set(a);
  return b.every((k) => s.has(k));
}
