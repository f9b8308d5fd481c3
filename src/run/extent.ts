/**
 * The largest and smallest of many numbers without spreading them into a call: `Math.max(...xs)`
 * passes every value as an argument, and an engine throws "Maximum call stack size exceeded" past
 * ~100k of them (a packed sweep of 4 runs × 40,000 rows). Used wherever an array can grow with a file.
 */

/** The largest value (NaN skipped), or `empty` when there is none. */
export function maxOf(xs: Iterable<number>, empty = -Infinity): number {
  let m = -Infinity;
  let any = false;
  for (const x of xs) {
    if (x > m) m = x;
    if (!Number.isNaN(x)) any = true;
  }
  return any ? m : empty;
}

/** The smallest value (NaN skipped), or `empty` when there is none. */
export function minOf(xs: Iterable<number>, empty = Infinity): number {
  let m = Infinity;
  let any = false;
  for (const x of xs) {
    if (x < m) m = x;
    if (!Number.isNaN(x)) any = true;
  }
  return any ? m : empty;
}
