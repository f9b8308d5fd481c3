/**
 * Messages between the page and the sweep worker (src/worker/sweep.worker.ts), which trains a
 * sweep's runs batched (issue #13) beside the single run's worker, so the run on show is never
 * disturbed. Handlers switch on `type` with a `never` default, as for protocol.ts.
 */
import type { BackendInfo, BackendName } from '../config/backends.ts';
import type { TrainConfig } from '../config/schema.ts';
import type { Checkpoint } from './history-columns.ts';
import type { LoadableRun } from './protocol.ts';
import type { RunFinalMeasures } from './seed-tables.ts';

/** What the small multiples draw of a checkpoint (the whole row comes with the finished run). */
export type SweepRow = Pick<Checkpoint, 'epoch' | 'trainLoss' | 'testLoss' | 'trainAcc' | 'testAcc'>;

export type SweepCommand =
  /** Train every config (index = the run's index in the sweep) for `epochs`, measuring every `every`. */
  | { type: 'train'; configs: TrainConfig[]; epochs: number; every: number; backend: BackendName | null; batch: number; snapshotBudgetBytes: number }
  /** Stop after the current block; finished checkpoints of the batch are kept as its runs. */
  | { type: 'stop' };

export type SweepEvent =
  /** The backend, and the runs of each batch (trained one batch after another). */
  | { type: 'started'; backend: BackendInfo; batches: number[][] }
  /** A checkpoint of every run of the batch `runs`, at `epoch`. */
  | { type: 'checkpoint'; epoch: number; runs: number[]; rows: SweepRow[] }
  /** One run finished: everything to open it as a run (snapshots, weights and Adam moments), and
   * what the tables over runs take of its final weights (null: `finalProblem` says why). */
  | { type: 'run'; index: number; run: LoadableRun; history: Checkpoint[]; final: RunFinalMeasures | null; finalProblem?: string }
  | { type: 'done'; stopped: boolean; seconds: number }
  | { type: 'error'; message: string };
