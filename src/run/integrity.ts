/**
 * A run file must describe itself truthfully: its configuration, run on its own weights, must give
 * the training loss its history recorded there. An edited file (heads, task, activation changed
 * with the same parameter count) passes every shape check and then trains on from nonsense; this
 * finds it. Pure: the loss itself is recomputed by the worker or the CLI (recompute-loss.ts).
 */
import type { TrainConfig } from '../config/schema.ts';
import type { Checkpoint } from './history-columns.ts';
import { formatValue } from './format.ts';

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
  const fmt = formatValue;
  return (
    `its configuration does not reproduce its own history: at epoch ${rec.epoch} the file records a training loss of ${fmt(rec.trainLoss)}, ` +
    `but P = ${config.p}, ${config.nHeads} heads, d_mlp = ${config.dMlp}, ${config.act}, task ${config.task} give ${fmt(recomputed)} on its weights ` +
    '(was the configuration edited?)'
  );
}

/** The page's checkpoints are at most this many epochs apart; a pause falls between two of them. */
export const MAX_CHECKPOINT_GAP = 1000;

/**
 * What a run file must show before it is opened: weights whose recorded training loss its
 * configuration can be checked against, and a resume state whose update count (optimizer_t, the
 * bias correction a resume uses) fits its history. Returns the weights to check, or what disagrees.
 * (Whether the loss is reproduced is the caller's: recompute-loss.ts, in the worker or the CLI.)
 */
export function integrityCheck(run: Parameters<typeof recordedLoss>[0]): { rec: RecordedLoss; problem: null } | { rec: null; problem: string } {
  const epochs = run.history.map((c) => c.epoch);
  const last = epochs.at(-1);
  if (run.resume && last !== undefined && run.resume.t > last) {
    let gap = MAX_CHECKPOINT_GAP;
    for (let i = 1; i < epochs.length; i++) gap = Math.max(gap, epochs[i] - epochs[i - 1]);
    if (run.resume.t - last > gap) {
      return {
        rec: null,
        problem: `its resume state says ${run.resume.t.toLocaleString('en-US')} updates were made (optimizer_t), but its history ends at epoch ${last.toLocaleString('en-US')}: a resume would use the wrong bias correction (was the file edited?)`,
      };
    }
  }
  const rec = recordedLoss(run);
  if (rec) return { rec, problem: null };
  const at = [...(run.resume ? [`resume state at epoch ${run.resume.t.toLocaleString('en-US')}`] : []), ...(run.snapshots.length ? [`snapshots at epochs ${run.snapshots.slice(0, 6).map((s) => s.epoch.toLocaleString('en-US')).join(', ')}${run.snapshots.length > 6 ? ', …' : ''}`] : [])];
  const rows = new Map(run.history.map((c) => [c.epoch, c.trainLoss]));
  const weightEpochs = [...(run.resume ? [run.resume.t] : []), ...run.snapshots.map((s) => s.epoch)];
  const nan = weightEpochs.some((e) => rows.has(e));
  return {
    rec: null,
    problem:
      `it cannot show that its configuration fits its weights: ${nan ? 'the training loss it records at the epochs of its weights is NaN' : 'its history records no training loss at the epoch of any of its weights'} ` +
      `(${at.join('; ') || 'no weights'}${last !== undefined ? `; history epochs ${epochs[0].toLocaleString('en-US')} … ${last.toLocaleString('en-US')}` : ''}) (was the file edited?)`,
  };
}
