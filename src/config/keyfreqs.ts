/**
 * Checks on a set of key frequencies K (§5.1: the w_k = 2πk/P the circuit uses), wherever it comes
 * from: the URL, a click, a saved run. The rule that finds K lives in src/analysis/keyfreqs.ts.
 */

/** The rule keeps at most this many key frequencies; a hand-pinned K may hold twice as many. */
export const KEY_FREQ_MAX = 10;

/** Validates a hand-pinned K for modulus P: distinct integers in [1, (P − 1)/2]. */
export function checkKeyFreqs(ks: readonly number[], p: number): string | null {
  const max = (p - 1) / 2;
  if (ks.length === 0) return 'at least one key frequency is needed';
  if (ks.length > 2 * KEY_FREQ_MAX) return `at most ${2 * KEY_FREQ_MAX} key frequencies can be pinned, got ${ks.length}`;
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
