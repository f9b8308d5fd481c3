/**
 * Slingshots (paper App. D.2; Thilak et al. 2022): after the training set is memorized, the train
 * loss spikes by orders of magnitude and falls back. The rule, on the checkpoints' train loss:
 *
 * - the run has memorized at the first checkpoint with train accuracy ≥ 99%;
 * - from there, a slingshot starts at a checkpoint whose train loss is more than SLINGSHOT_FACTOR
 *   (10) times the lowest train loss of the checkpoints before it since memorization, and above
 *   SLINGSHOT_FLOOR (1e-4: float32's noise on a loss near 1e-7 is not a spike);
 * - it lasts while the loss stays above that threshold (the running minimum frozen at its start),
 *   and ends at the first checkpoint back below it (or is still under way).
 */

export const SLINGSHOT_FACTOR = 10;
export const SLINGSHOT_FLOOR = 1e-4;
export const MEMORIZED_ACC = 0.99;

export const SLINGSHOT_RULE =
  `train loss more than ${SLINGSHOT_FACTOR}× its running minimum since memorization (train accuracy ≥ ${MEMORIZED_ACC * 100}%) and above ${SLINGSHOT_FLOOR}; ` +
  'it ends at the first checkpoint back under that threshold';

export interface Slingshot {
  /** Epochs of the first checkpoint above the threshold, of the highest loss, and of the first back below (null: still up). */
  start: number;
  peak: number;
  end: number | null;
  /** The highest train loss, and the running minimum it is measured against. */
  peakLoss: number;
  before: number;
  /** peakLoss / before. */
  ratio: number;
}

export function detectSlingshots(epoch: ArrayLike<number>, trainLoss: ArrayLike<number>, trainAcc: ArrayLike<number>): Slingshot[] {
  const out: Slingshot[] = [];
  let i = 0;
  while (i < epoch.length && !(trainAcc[i] >= MEMORIZED_ACC)) i++;
  let min = Infinity;
  let open: Slingshot | null = null;
  for (; i < epoch.length; i++) {
    const loss = trainLoss[i];
    if (!Number.isFinite(loss)) continue;
    if (open) {
      if (loss > SLINGSHOT_FACTOR * open.before) {
        if (loss > open.peakLoss) Object.assign(open, { peak: epoch[i], peakLoss: loss, ratio: loss / open.before });
        continue;
      }
      open.end = epoch[i];
      open = null;
    } else if (loss > SLINGSHOT_FACTOR * min && loss > SLINGSHOT_FLOOR) {
      open = { start: epoch[i], peak: epoch[i], end: null, peakLoss: loss, before: min, ratio: loss / min };
      out.push(open);
      continue;
    }
    min = Math.min(min, loss);
  }
  return out;
}
