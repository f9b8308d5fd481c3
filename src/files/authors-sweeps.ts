/**
 * The paper authors' two sweep files (saved_runs/ of their repository) as packed sweeps, shown in
 * the sweep views and by `inspect`. Neither holds weights, configurations or accuracies: loss
 * curves only, one entry per epoch, train and test interleaved (run i: lists 2i and 2i + 1 — the
 * odd lists end higher, and in the fraction sweep each pair has one length and its second list
 * ends just under 3e-6, where those runs were stopped).
 * - `mod_addition_frac_train_sweep.pth`: `[fractions, curves]`, 10 training fractions and 20 lists
 *   (Fig. 21: the mainline model at each fraction).
 * - `no_wd_width_scan.pth`: `{'losses': 16 lists, 'd_models': 8 ints}` (App. D: no weight decay,
 *   one run per d_model).
 * The other settings are the mainline's (P = 113, …): the files do not say, and this is stated.
 */
import { presetConfig } from '../config/presets.ts';
import type { TrainConfig } from '../config/schema.ts';
import { decodeSweep, encodeSweep, expandSweep } from '../config/sweep.ts';
import type { PackedSweep, SweepHistoryRow } from './packed-sweep.ts';
import { MAX_HISTORY_ROWS } from './run-file.ts';
import type { PyValue } from './torch/pickle.ts';

/** A curve longer than this is thinned to about this many rows (its last epoch always kept). */
export const MAX_SWEEP_ROWS = 4000;

const isNumbers = (v: PyValue | undefined): v is number[] => Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'number');
const isCurves = (v: PyValue | undefined): v is number[][] => Array.isArray(v) && v.length > 0 && v.length % 2 === 0 && v.every(isNumbers);

function rows(train: number[], test: number[]): SweepHistoryRow[] {
  const n = Math.max(train.length, test.length);
  if (n > MAX_HISTORY_ROWS * 10) throw new Error(`a curve of ${n} epochs is longer than this page reads`);
  const every = Math.max(1, Math.ceil(n / MAX_SWEEP_ROWS));
  const out: SweepHistoryRow[] = [];
  for (let e = 0; e < n; e++) {
    if (e % every !== 0 && e !== n - 1) continue;
    out.push({ epoch: e, trainLoss: train[e] ?? NaN, testLoss: test[e] ?? NaN, trainAcc: NaN, testAcc: NaN, excludedLoss: NaN, giniWL: NaN });
  }
  return out;
}

function packed(field: 'frac' | 'dModel', key: string, values: number[], curves: number[][], base: TrainConfig, note: string): PackedSweep {
  const { spec, issues } = decodeSweep(`${key}:${values.join(',')}`);
  if (!spec) throw new Error(`the file's ${field} values ${values.join(', ')} are not a sweep the page runs: ${issues.map((i) => i.message).join('; ')}`);
  const { points } = expandSweep(base, spec);
  return {
    sweep: encodeSweep(spec),
    base,
    points: points.length,
    runs: values.map((_, i) => ({ index: i, history: rows(curves[2 * i], curves[2 * i + 1]) })),
    duplicates: 0,
    note,
  };
}

/** One of the authors' sweep files as a packed sweep, or null when `root` is neither. */
export function authorsSweep(root: PyValue): PackedSweep | null {
  const mainline = presetConfig('mainline');
  // mod_addition_frac_train_sweep.pth: [fractions, curves].
  if (Array.isArray(root) && root.length === 2 && isNumbers(root[0]) && isCurves(root[1]) && root[1].length === 2 * root[0].length) {
    const fracs = root[0];
    return packed('frac', 'frac', fracs, root[1], mainline, `the authors' training-fraction sweep (Fig. 21): ${fracs.length} fractions, train and test loss per epoch; the other settings are taken as the mainline's (the file does not say)`);
  }
  // no_wd_width_scan.pth: {'losses', 'd_models'}.
  if (root instanceof Map && root.size === 2) {
    const widths = root.get('d_models');
    const losses = root.get('losses');
    if (isNumbers(widths) && isCurves(losses) && losses.length === 2 * widths.length) {
      return packed('dModel', 'dm', widths, losses, { ...mainline, weightDecay: 0 }, `the authors' width scan without weight decay: ${widths.length} widths d_model, train and test loss per epoch; wd = 0, the other settings taken as the mainline's (the file does not say)`);
    }
  }
  return null;
}
