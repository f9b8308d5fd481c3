/**
 * The training loss of a run's configuration on given weights (for integrity.ts), computed on the
 * active backend. Only the worker and the CLI import this: it brings tfjs along.
 */
import type { TrainConfig } from '../config/schema.ts';
import { unflattenWeights } from '../model/transformer/params.ts';
import { Trainer } from '../model/trainer.ts';
import { lossDisagreement, type RecordedLoss } from './integrity.ts';

export async function recomputeTrainLoss(config: TrainConfig, trainIndices: ArrayLike<number>, weights: Float32Array): Promise<number> {
  const trainer = new Trainer(config, { weights: unflattenWeights(config, weights), trainIndices });
  try {
    return (await trainer.evaluateAsync()).trainLoss;
  } finally {
    trainer.dispose();
  }
}

/** null when the run's configuration reproduces its recorded loss, else what disagrees. */
export async function checkRecordedLoss(config: TrainConfig, trainIndices: ArrayLike<number>, rec: RecordedLoss | null): Promise<{ problem: string | null; recomputed: number | null }> {
  if (!rec) return { problem: null, recomputed: null };
  const recomputed = await recomputeTrainLoss(config, trainIndices, rec.weights);
  return { problem: lossDisagreement(rec, recomputed, config), recomputed };
}
