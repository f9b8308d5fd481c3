/**
 * The Gini coefficient of Hurley & Rickard (2009), the sparsity measure of the paper's Fig. 7
 * (bottom left): for a non-negative vector c of length N sorted ascending,
 *   G = 1 − 2 Σ_{i=1..N} (c_i / ‖c‖₁) · (N − i + ½) / N.
 * 0 for a uniform vector, (N − 1)/N for a one-hot one. The zero vector gets 0.
 */
export function gini(values: ArrayLike<number>): number {
  const n = values.length;
  if (n === 0) return 0;
  const sorted = Float64Array.from(values, Math.abs).sort();
  let l1 = 0;
  for (const v of sorted) l1 += v;
  if (l1 === 0) return 0;
  let s = 0;
  for (let i = 1; i <= n; i++) s += (sorted[i - 1] / l1) * ((n - i + 0.5) / n);
  return 1 - 2 * s;
}
