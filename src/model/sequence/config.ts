/**
 * An appendix-task run's configuration and its checkpoints (App. D.3), without tensors: the page's
 * room (store, client) reads them, the trainer (trainer.ts) makes them.
 */
import { SEQUENCE_TASKS, type SequenceTaskName } from '../../task/sequence.ts';

export interface SequenceRunConfig {
  task: SequenceTaskName;
  /** Training examples; `Infinity`: a fresh batch every update. */
  data: number;
  /** Examples per update (0: the whole set). */
  batch: number;
  seed: number;
  lr: number;
  weightDecay: number;
  beta1: number;
  beta2: number;
  /** Fresh examples in the test set. */
  testSize: number;
}

export function defaultSequenceConfig(task: SequenceTaskName): SequenceRunConfig {
  const spec = SEQUENCE_TASKS[task];
  // repeat's test set is smaller: its attention patterns are 85×85 per head and layer.
  return { task, data: spec.finiteData, batch: spec.batch, seed: 0, lr: 1e-3, weightDecay: 1, beta1: 0.9, beta2: 0.98, testSize: task === 'repeat' ? 256 : 1000 };
}

export interface SequenceCheckpoint {
  epoch: number;
  /** The loss of the last update's batch (the whole set when full batch). */
  trainLoss: number;
  testLoss: number;
  /** Per-token accuracy over the counted predictions. */
  testAcc: number;
  /** digits5: the test loss of each answer digit, most significant first (Fig. 29 bottom). */
  perTokenLoss?: number[];
  /** repeat: per layer and head, the mean attention to the previous token and the induction score. */
  prevTokenScore?: number[][];
  inductionScore?: number[][];
  /** skip3: per head, the last position's mean attention to the token ≥ 10. */
  specialTokenAttention?: number[];
}

