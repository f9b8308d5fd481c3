/**
 * The three phases of grokking (§5.2, Fig. 7) detected on the run's own curves, with simple rules
 * that are shown to the person:
 *
 * - memorization → circuit formation: the minimum of the smoothed excluded loss (it falls while
 *   the model memorizes, and rises once the Fourier circuit carries the training signal), confirmed
 *   once it has risen by EXCLUDED_RISE since.
 * - circuit formation → cleanup: the onset of the test-loss drop — the first epoch after the
 *   memorization phase where the smoothed test loss falls at ONSET_SHARE of its steepest rate,
 *   confirmed once it has dropped by a decade below its plateau.
 * - cleanup → stable: test accuracy ≥ SATURATED_ACC and the Gini of W_L flat (its smoothed slope
 *   below FLAT_SHARE of its steepest rise).
 *
 * Smoothing is a centred moving average over ±SMOOTH_HALF_WINDOW checkpoints, on log scale for
 * losses. The paper's mainline run: 0–1.4k, 1.4k–9.4k, 9.4k–14k, then stable.
 */

export const SMOOTH_HALF_WINDOW = 3;
export const EXCLUDED_RISE = 1.1;
export const ONSET_SHARE = 0.25;
export const SATURATED_ACC = 0.999;
export const FLAT_SHARE = 0.05;

export type PhaseName = 'memorization' | 'circuit formation' | 'cleanup' | 'stable';

export interface Phase {
  name: PhaseName;
  start: number;
  /** Epoch where the phase ended, or null while it lasts. */
  end: number | null;
  /** The rule that ended it (or how it started), for hover text. */
  rule: string;
}

export interface PhaseCurves {
  epoch: ArrayLike<number>;
  testLoss: ArrayLike<number>;
  excludedLoss: ArrayLike<number>;
  testAcc: ArrayLike<number>;
  giniWL: ArrayLike<number>;
}

export const PHASE_RULES: Record<PhaseName, string> = {
  memorization: `ends at the minimum of the smoothed excluded loss (confirmed once it has risen ${Math.round((EXCLUDED_RISE - 1) * 100)}% since)`,
  'circuit formation': `ends where the smoothed test loss starts to fall at ${ONSET_SHARE * 100}% of its steepest rate (confirmed once it is a decade below its plateau)`,
  cleanup: `ends when test accuracy is ≥ ${SATURATED_ACC * 100}% and the Gini of W_L is flat (slope below ${FLAT_SHARE * 100}% of its steepest rise)`,
  stable: 'the circuit is clean and nothing changes much any more',
};

/** Centred moving average over ±h points (NaNs skipped), optionally of log10 values. */
export function smooth(values: ArrayLike<number>, h = SMOOTH_HALF_WINDOW, log = false): Float64Array {
  const n = values.length;
  const v = Float64Array.from(values, (x) => (log ? (x > 0 ? Math.log10(x) : NaN) : x));
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    let c = 0;
    for (let j = Math.max(0, i - h); j <= Math.min(n - 1, i + h); j++) {
      if (Number.isFinite(v[j])) {
        s += v[j];
        c++;
      }
    }
    out[i] = c > 0 ? s / c : NaN;
  }
  return out;
}

/** Slope of y over x at each point (central differences, one-sided at the ends). */
function slope(x: ArrayLike<number>, y: ArrayLike<number>): Float64Array {
  const n = y.length;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const a = Math.max(0, i - 1);
    const b = Math.min(n - 1, i + 1);
    out[i] = b > a ? (y[b] - y[a]) / (x[b] - x[a]) : 0;
  }
  return out;
}

/** The index of the end of memorization, or −1 while it is not confirmed. */
function memorizationEnd(c: PhaseCurves): number {
  const ex = smooth(c.excludedLoss, SMOOTH_HALF_WINDOW, true);
  let best = -1;
  for (let i = 0; i < ex.length; i++) if (Number.isFinite(ex[i]) && (best < 0 || ex[i] < ex[best])) best = i;
  if (best < 0) return -1;
  let maxAfter = -Infinity;
  for (let i = best + 1; i < ex.length; i++) if (Number.isFinite(ex[i])) maxAfter = Math.max(maxAfter, ex[i]);
  if (maxAfter - ex[best] < Math.log10(EXCLUDED_RISE)) return -1;
  // The average of an asymmetric V shifts its minimum: refine on the raw curve near it.
  let refined = best;
  for (let i = Math.max(0, best - SMOOTH_HALF_WINDOW); i <= Math.min(ex.length - 1, best + SMOOTH_HALF_WINDOW); i++) {
    if (c.excludedLoss[i] < c.excludedLoss[refined]) refined = i;
  }
  return refined;
}

/** The index where the test loss starts its drop (after `from`), or −1 while not confirmed. */
function cleanupStart(c: PhaseCurves, from: number): number {
  const lt = smooth(c.testLoss, SMOOTH_HALF_WINDOW, true);
  let plateau = -Infinity;
  let confirmed = -1;
  for (let i = from; i < lt.length; i++) {
    if (!Number.isFinite(lt[i])) continue;
    plateau = Math.max(plateau, lt[i]);
    if (lt[i] <= plateau - 1) {
      confirmed = i;
      break;
    }
  }
  if (confirmed < 0) return -1;
  const rate = slope(c.epoch, lt).map((s) => -s);
  let steepest = 0;
  for (let i = from; i < lt.length; i++) if (rate[i] > steepest) steepest = rate[i];
  // Search forward from the plateau's peak, so an early, slow decline does not count.
  let peak = from;
  for (let i = from; i <= confirmed; i++) if (lt[i] >= lt[peak]) peak = i;
  for (let i = peak; i <= confirmed; i++) if (rate[i] >= ONSET_SHARE * steepest) return i;
  return confirmed;
}

/** The index where cleanup ends (after `from`), or −1 while it lasts. */
function cleanupEnd(c: PhaseCurves, from: number): number {
  const g = smooth(c.giniWL);
  const rise = slope(c.epoch, g);
  let steepest = 0;
  for (let i = from; i < g.length; i++) if (rise[i] > steepest) steepest = rise[i];
  if (steepest <= 0) return -1;
  // Past the steepest rise, and not at the very end (the smoothed slope there is one-sided).
  let peakRise = from;
  for (let i = from; i < g.length; i++) if (rise[i] >= rise[peakRise]) peakRise = i;
  for (let i = peakRise; i < g.length - SMOOTH_HALF_WINDOW; i++) {
    if (c.testAcc[i] >= SATURATED_ACC && rise[i] <= FLAT_SHARE * steepest) return i;
  }
  return -1;
}

/** The phases detected so far, in order; the last one has `end: null`. */
export function detectPhases(c: PhaseCurves): Phase[] {
  const n = c.epoch.length;
  if (n === 0) return [];
  const phases: Phase[] = [];
  const mem = memorizationEnd(c);
  if (mem < 0) return [{ name: 'memorization', start: c.epoch[0], end: null, rule: PHASE_RULES.memorization }];
  phases.push({ name: 'memorization', start: c.epoch[0], end: c.epoch[mem], rule: PHASE_RULES.memorization });
  const clean = cleanupStart(c, mem);
  if (clean < 0) {
    phases.push({ name: 'circuit formation', start: c.epoch[mem], end: null, rule: PHASE_RULES['circuit formation'] });
    return phases;
  }
  phases.push({ name: 'circuit formation', start: c.epoch[mem], end: c.epoch[clean], rule: PHASE_RULES['circuit formation'] });
  const stable = cleanupEnd(c, clean);
  if (stable < 0) {
    phases.push({ name: 'cleanup', start: c.epoch[clean], end: null, rule: PHASE_RULES.cleanup });
    return phases;
  }
  phases.push({ name: 'cleanup', start: c.epoch[clean], end: c.epoch[stable], rule: PHASE_RULES.cleanup });
  phases.push({ name: 'stable', start: c.epoch[stable], end: null, rule: PHASE_RULES.stable });
  return phases;
}

/** Test accuracy that counts as grokked: the and Grokfast's "epochs to 99%". */
export const GROKKED_ACC = 0.99;

/** The first epoch whose test accuracy reaches `threshold`, or null (the run has not grokked). */
export function grokEpoch(epoch: ArrayLike<number>, testAcc: ArrayLike<number>, threshold = GROKKED_ACC): number | null {
  for (let i = 0; i < testAcc.length; i++) if (testAcc[i] >= threshold) return epoch[i];
  return null;
}
