/**
 * What a task is (the entries of the task registry, registry.ts): what the model reads and
 * answers, how the data is made, where the loss is read, which model family trains it, and which
 * measures and views apply.
 */

/** The parts of a run's configuration that a task reads (a TrainConfig has all of them). */
export interface TaskParams {
  /** The modulus of the ℤ_P tasks. */
  p: number;
  /** Seeds the task's random data (the random table). */
  seed: number;
}

/**
 * Model families, each trained by its own forward and step:
 * - `pair-transformer`: the paper's transformer on "a b =" (ANALYSIS.md §2): 1 or 2 blocks with an
 *   MLP, causal attention over the 3 positions, the logits read at '='; it has the fast forward
 *   and the fused WebGPU step.
 */
export type ModelFamily = 'pair-transformer';

/**
 * Measures of the worker's analysis that a task may have:
 * - `fourier`: §5 in the Fourier basis of ℤ_P — spectra of W_E and W_L, key frequencies,
 *   restricted and excluded loss, Gini, the cos(w_k(a+b−c)) coefficients (ANALYSIS.md §5.1–5.10);
 * - `neurons`: the MLP neurons' frequencies and FVE (§5.11);
 * - `attention`: each head's attention from '=' over all pairs (§5.12);
 * - `evidence`: §4's evidence and the interventions (ANALYSIS.md §7).
 */
export type Measure = 'fourier' | 'neurons' | 'attention' | 'evidence';
export const MEASURES: readonly Measure[] = ['fourier', 'neurons', 'attention', 'evidence'];

/** Sections of the page, by their id (the section nav's anchors). */
export type View = 'training' | 'circle' | 'measures' | 'fourier' | 'attention' | 'neurons' | 'logits' | 'evidence' | 'input' | 'sweep';
export const VIEWS: readonly View[] = ['training', 'circle', 'measures', 'fourier', 'attention', 'neurons', 'logits', 'evidence', 'input', 'sweep'];

/** Data over the fixed set of P² pairs (a, b): one label each, split once into train and test (ANALYSIS.md §1). */
export interface PairTableData {
  kind: 'pair-table';
  /** The label f(a, b), given the task's seeded random table when it has one (`randomTable`). */
  label(a: number, b: number, p: number, table: Int32Array | null): number;
  /** Whether the labels come from a seeded random P² table (a control that can never generalize). */
  randomTable: boolean;
}

export interface TaskSpec {
  /** What the model computes, in the page's words. */
  label: string;
  /** Tokens the model reads, d_vocab. */
  vocab(t: TaskParams): number;
  /** Positions of an input, n_ctx. */
  context(t: TaskParams): number;
  /** Answer classes; a model may keep more logits (the authors' logit for '='). */
  classes(t: TaskParams): number;
  /** How the data is made. */
  data: PairTableData;
  /** Where the loss is read: `last`, the last position's logits (ANALYSIS.md §3). */
  lossAt: 'last';
  family: ModelFamily;
  /** The measures and the page's views that apply to this task. */
  measures: readonly Measure[];
  views: readonly View[];
  /** Names other tools' files give the task (the authors' `fn_name`), read as this one. */
  aliases: readonly string[];
}
