/** Number formatting for people, shared by the page and the CLI (pure; tested). */

/** Trailing zeros of a fraction ("2.50" → "2.5", "1.00e+5" → "1e+5"); never an integer's ("100" stays). */
function trimFraction(s: string): string {
  return s.replace(/\.(\d*?)0+(?=e|$)/, (_, kept: string) => (kept ? `.${kept}` : ''));
}

/** A loss, a λ or a coefficient: 3 significant digits, exponent form when small or large. */
export function formatValue(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return '0';
  const a = Math.abs(x);
  return trimFraction(a >= 1e-3 && a < 1e4 ? x.toPrecision(3) : x.toExponential(2));
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

/** Text from a file, cut for a message: a key or a name may be megabytes long. */
export function cutText(s: string, max = 60): string {
  return s.length <= max ? s : `${s.slice(0, max)}… (${formatInt(s.length)} characters)`;
}
