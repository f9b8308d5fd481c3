/** Number formatting for the page (pure; tested). */

/** A loss or other positive quantity: 3 significant digits, exponent form when small or large. */
export function formatValue(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return '0';
  const a = Math.abs(x);
  if (a >= 1e-3 && a < 1e4) return x.toPrecision(3).replace(/\.?0+$/, '');
  return x.toExponential(2).replace(/\.?0+e/, 'e');
}

export function formatPercent(x: number): string {
  return Number.isFinite(x) ? `${(100 * x).toFixed(x >= 0.9995 || x === 0 ? 0 : 1)}%` : '–';
}

/** Durations: "45 s", "12 min", "3.2 h". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '–';
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 90 * 60) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

export function formatRate(epochsPerSec: number): string {
  if (!Number.isFinite(epochsPerSec) || epochsPerSec <= 0) return '–';
  return epochsPerSec >= 10 ? Math.round(epochsPerSec).toString() : epochsPerSec.toFixed(1);
}

export function formatInt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

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
