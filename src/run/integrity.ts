/**
 * A run file must describe itself truthfully: its configuration, run on its own weights, must give
 * the training loss its history recorded there. An edited file (heads, task, activation changed
 * with the same parameter count) passes every shape check and then trains on from nonsense; this
 * finds it. Pure: the loss itself is recomputed by the worker or the CLI (recompute-loss.ts).
 */
import type { TrainConfig } from '../config/schema.ts';
import type { Checkpoint } from './history-columns.ts';

/** The point a run is checked at: weights whose training loss the history recorded. */
export interface RecordedLoss {
  epoch: number;
  trainLoss: number;
  /** Flat weights at `epoch` (the exact resume weights, or a snapshot, maybe stored in float16). */
  weights: Float32Array;
  /** Float32 weights as trained, rather than a snapshot rounded to float16. */
  exact: boolean;
}

/** The newest weights of a run with a history row at their epoch: resume weights, else a snapshot. */
export function recordedLoss(run: {
  history: readonly Checkpoint[];
  snapshots: readonly { epoch: number; weights: Float32Array }[];
  resume: { t: number; weights: Float32Array } | null;
  snapshotDtype?: 'F32' | 'F16';
}): RecordedLoss | null {
  const rows = new Map(run.history.map((c) => [c.epoch, c.trainLoss]));
  const usable = (epoch: number) => Number.isFinite(rows.get(epoch));
  if (run.resume && usable(run.resume.t)) return { epoch: run.resume.t, trainLoss: rows.get(run.resume.t)!, weights: run.resume.weights, exact: true };
  for (let i = run.snapshots.length - 1; i >= 0; i--) {
    const s = run.snapshots[i];
    if (usable(s.epoch)) return { epoch: s.epoch, trainLoss: rows.get(s.epoch)!, weights: s.weights, exact: run.snapshotDtype !== 'F16' };
  }
  return null;
}

/**
 * Whether a recomputed loss disagrees with the recorded one beyond float tolerance: the same
 * float32 weights on another backend agree to ~1e-4 relative; float16 snapshots move the loss by
 * a few percent, while a wrong configuration moves it by 15% (relu ↔ gelu on a trained model) to
 * orders of magnitude (heads, task).
 */
export function lossDisagreement(rec: RecordedLoss, recomputed: number, config: TrainConfig): string | null {
  const tolerance = rec.exact ? 1e-6 + 0.01 * rec.trainLoss : 1e-4 + 0.1 * rec.trainLoss;
  if (Number.isFinite(recomputed) && Math.abs(recomputed - rec.trainLoss) <= tolerance) return null;
  const fmt = (x: number) => (Math.abs(x) < 1e-3 && x !== 0 ? x.toExponential(2) : x.toPrecision(3));
  return (
    `its configuration does not reproduce its own history: at epoch ${rec.epoch} the file records a training loss of ${fmt(rec.trainLoss)}, ` +
    `but P = ${config.p}, ${config.nHeads} heads, d_mlp = ${config.dMlp}, ${config.act}, task ${config.task} give ${fmt(recomputed)} on its weights ` +
    '(was the configuration edited?)'
  );
}
