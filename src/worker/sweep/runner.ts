/**
 * Trains a batch of runs of one shape together (model/batched) and measures each run at every
 * checkpoint with the single run's own analysis (RunAnalysis on the model's slice), so each run's
 * history has exactly the columns of `train`: metrics, §5 measures on one K per run (past rows
 * re-measured when K settles, §5.6), and heavy measures now and then.
 */
import type { TrainConfig } from '../../config/schema.ts';
import { BatchedTrainer } from '../../model/batched/batched-trainer.ts';
import type { TrainerState } from '../../model/trainer.ts';
import type { Checkpoint } from '../../run/history-columns.ts';
import type { KeyFreqsState } from '../../run/protocol.ts';
import { RunAnalysis } from '../analysis/run-analysis.ts';
import type { Snapshot } from '../analysis/snapshots.ts';

/** A heavy pass (neurons, §5.4) at every this-many-th checkpoint, and at the first and last. */
export const SWEEP_HEAVY_EVERY = 10;

export interface BatchRunResult {
  config: TrainConfig;
  keyFreqs: KeyFreqsState;
  history: Checkpoint[];
  trainIndices: Int32Array;
  snapshots: Snapshot[];
  /** Weights and Adam moments at the end (to resume or branch). */
  state: TrainerState;
}

export interface BatchRunOptions {
  epochs: number;
  every: number;
  snapshotBudgetBytes?: number;
  /** Called after each checkpoint with the epoch reached (progress); awaited, so a worker can
   * yield to its message queue there (a stop request). */
  onCheckpoint?: (epoch: number, rows: Checkpoint[]) => void | Promise<void>;
  /** Checked between blocks: stop early (Ctrl-C) and keep what was trained. */
  stopped?: () => boolean;
}

export async function trainBatch(configs: TrainConfig[], opts: BatchRunOptions): Promise<BatchRunResult[]> {
  const trainer = new BatchedTrainer(configs);
  const views = configs.map((_, i) => trainer.view(i));
  const analyses = views.map((v) => new RunAnalysis(v, { snapshotBudgetBytes: opts.snapshotBudgetBytes }));
  const histories: Checkpoint[][] = configs.map(() => []);
  let count = 0;
  const checkpoint = async (heavy: boolean) => {
    const rows: Checkpoint[] = [];
    for (const [i, analysis] of analyses.entries()) {
      const c = trainer.configs[i];
      const prepared = analysis.prepareCheckpoint({ heavy, hyper: { lr: c.lr, weightDecay: c.weightDecay } });
      const values = (await prepared.tensor.data()) as Float32Array;
      prepared.tensor.dispose();
      const row = prepared.finish(values).checkpoint;
      histories[i].push(row);
      rows.push(row);
    }
    count++;
    await opts.onCheckpoint?.(trainer.epoch, rows);
  };
  try {
    await checkpoint(true);
    while (trainer.epoch < opts.epochs && !opts.stopped?.()) {
      const next = Math.min(opts.epochs, (Math.floor(trainer.epoch / opts.every) + 1) * opts.every);
      while (trainer.epoch < next) trainer.trainStep();
      await checkpoint(count % SWEEP_HEAVY_EVERY === 0 || trainer.epoch >= opts.epochs);
    }
    // Every row of a run on one K: re-measure the snapshots taken before K settled (§5.6).
    for (const [i, analysis] of analyses.entries()) {
      for (let r = analysis.prepareRecompute(); r; r = analysis.prepareRecompute()) {
        const values = (await r.tensor.data()) as Float32Array;
        r.tensor.dispose();
        const { version, row } = r.finish(values);
        const h = histories[i].find((x) => x.epoch === row.epoch);
        if (h) Object.assign(h, row, { keyFreqsVersion: version });
      }
    }
    const states = await trainer.readState();
    return configs.map((_, i) => ({
      config: { ...trainer.configs[i], epochs: opts.epochs },
      keyFreqs: analyses[i].keyFreqs,
      history: histories[i],
      trainIndices: trainer.datasets[i].train,
      snapshots: [...analyses[i].snapshots.all()],
      state: states[i],
    }));
  } finally {
    analyses.forEach((a) => a.dispose());
    views.forEach((v) => v.dispose());
    trainer.dispose();
  }
}
