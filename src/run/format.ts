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

/** Durations: "45 s", "1 min 41 s" (101 s is not "2 min"), "12 min", "3.2 h". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '–';
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 600) {
    const whole = Math.round(seconds);
    return whole % 60 === 0 ? `${whole / 60} min` : `${Math.floor(whole / 60)} min ${whole % 60} s`;
  }
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

/**
 * A run file's name: short and clean, what it is at a glance ("reference-p113-seed0-e16000.grokrun.gz"),
 * led by the first word of the run's name unless that is only the configuration ("P=113, …": "run").
 */
export function runFileName(name: string, config: { p: number; seed: number }, epoch: number): string {
  const word = (name.split(/[:\s,(·]/)[0] ?? '').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 24);
  const lead = word && !/^p-?\d/.test(word) ? word : 'run';
  return `${lead}-p${config.p}-seed${config.seed}-e${Math.max(0, Math.round(epoch))}.grokrun.gz`;
}
