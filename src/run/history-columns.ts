/**
 * What one checkpoint measures, and its scalar and per-frequency fields as the columns of a run's
 * history: the worker emits checkpoints, the store keeps them as columns, run files save them.
 */

/** One evaluation of the run, on the weights after `epoch` updates (epoch 0 = the init). */
export interface Checkpoint {
  epoch: number;
  trainLoss: number;
  testLoss: number;
  trainAcc: number;
  testAcc: number;
  sumSquaredWeights: number;
  /**
   * Softmax collapse (Prieto et al. 2025, SC): the fraction of training pairs whose float32 p_y
   * rounds to 1, where a float32 framework's loss is exactly 0 (model/transformer/stablemax.ts).
   */
  softmaxCollapse: number;
  /** The lr and λ the next update uses. */
  lr: number;
  weightDecay: number;
  /** §5 measures (ANALYSIS.md), with the key frequencies of version `keyFreqsVersion`. */
  restrictedLoss: number;
  restrictedAcc: number;
  excludedLoss: number;
  giniWE: number;
  giniWL: number;
  logitFVE: number;
  keyFreqsVersion: number;
  /** Per-frequency norms of W_E and W_L, index 0 = constant term (Fig. 3). */
  normsWE: number[];
  normsWL: number[];
  /** Coefficients of cos(w_k(a+b−c)) for k = 1 … (P−1)/2 (index k − 1; Fig. 14). */
  cosCoefficients: number[];
  /** Excluded loss with each single key frequency removed, in the order of the K used. */
  excludedLossPerFreq: number[];
  /** Neurons with FVE > 0.85 when the heavy analysis ran at this epoch, else NaN. */
  neuronsWellExplained: number;
  /**
   * Zhong et al. 2023's clock/pizza measures (analysis/pizza.ts), when the heavy analysis ran at
   * this epoch, else NaN.
   */
  distanceIrrelevance: number;
  gradientSymmetricity: number;
}

/** The scalar fields of a checkpoint, as the columns of a run's history. */
export const HISTORY_COLUMNS = [
  'epoch',
  'trainLoss',
  'testLoss',
  'trainAcc',
  'testAcc',
  'sumSquaredWeights',
  'softmaxCollapse',
  'lr',
  'weightDecay',
  'restrictedLoss',
  'restrictedAcc',
  'excludedLoss',
  'giniWE',
  'giniWL',
  'logitFVE',
  'keyFreqsVersion',
  'neuronsWellExplained',
  'distanceIrrelevance',
  'gradientSymmetricity',
] as const satisfies readonly (keyof Checkpoint)[];

export type HistoryColumn = (typeof HISTORY_COLUMNS)[number];

/** Columns added after run files were first written: a file without one reads it as NaN (not measured). */
export const LATER_COLUMNS: ReadonlySet<HistoryColumn> = new Set(['softmaxCollapse', 'distanceIrrelevance', 'gradientSymmetricity']);

/** The per-frequency fields of a checkpoint. */
export const HISTORY_MATRICES = ['normsWE', 'normsWL', 'cosCoefficients'] as const satisfies readonly (keyof Checkpoint)[];
export type HistoryMatrix = (typeof HISTORY_MATRICES)[number];
