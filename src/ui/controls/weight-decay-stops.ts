/**
 * Weight-decay slider stops: 0, then 1-2-3-5 per decade from 1e-4 to 50, then 100 — a log scale
 * on which 0 is reachable and every stop is a round number that reads well in a URL.
 */
export const WEIGHT_DECAY_STOPS: readonly number[] = (() => {
  const stops = [0];
  for (let e = -4; e <= 1; e++) for (const m of [1, 2, 3, 5]) stops.push(Number((m * 10 ** e).toPrecision(1)));
  stops.push(100);
  return stops;
})();

/** Index of the stop nearest to λ on the log scale (0 only for λ = 0). */
export function nearestStop(lambda: number, stops: readonly number[] = WEIGHT_DECAY_STOPS): number {
  if (lambda <= 0) return 0;
  let best = 1;
  for (let i = 1; i < stops.length; i++) {
    if (Math.abs(Math.log(stops[i] / lambda)) < Math.abs(Math.log(stops[best] / lambda))) best = i;
  }
  return best;
}

/**
 * The slider's labels: 0 and one stop per decade from 10⁻³ (0 and 10⁻⁴ are neighbouring stops,
 * too close for two labels a finger can tell apart).
 */
export const WEIGHT_DECAY_LABELS: readonly (readonly [number, string])[] = [
  [0, '0'],
  [1e-3, '10⁻³'],
  [1e-2, '0.01'],
  [1e-1, '0.1'],
  [1, '1'],
  [10, '10'],
  [100, '100'],
];
