/**
 * The data of the ℤ_P tasks and its train/test split (ANALYSIS.md §1). Pairs (a, b) are indexed
 * i = a·P + b; token P is '='. Everything here is plain arrays: the trainer uploads what it needs.
 */
import { pythonSplitOrder } from '../random/python-random.ts';
import { Rng, streamSeed } from '../random/rng.ts';
import { taskSpec, type Task } from './registry.ts';
import type { TaskParams } from './spec.ts';

/**
 * How the train pairs are drawn from the seed: `grokscope`, a mulberry32 shuffle; `python`,
 * CPython's random.seed(seed) + random.shuffle, exactly the paper authors' split.
 */
export const SPLITS = ['grokscope', 'python'] as const;
export type Split = (typeof SPLITS)[number];

/** What the split reads of a configuration, besides the task's own parameters. */
export interface SplitParams extends TaskParams {
  task: Task;
  /** Fraction of the P² pairs used for training. */
  frac: number;
  split: Split;
}

/** Labels of all P² pairs, `[P²]`, in pair-index order. */
export function labelTable(task: Task, p: number, seed: number): Int32Array {
  const data = taskSpec(task).data;
  let table: Int32Array | null = null;
  if (data.randomTable) {
    const rng = new Rng(streamSeed(seed, 'rand-table'));
    table = new Int32Array(p * p);
    for (let i = 0; i < table.length; i++) table[i] = rng.int(p);
  }
  const labels = new Int32Array(p * p);
  for (let a = 0; a < p; a++) for (let b = 0; b < p; b++) labels[a * p + b] = data.label(a, b, p, table);
  return labels;
}
/**
 * The seeded split: a Fisher–Yates permutation of [0, P²) drawn from mulberry32 (stream
 * 'split' of the seed), or with `split = 'python'` CPython's random.shuffle as the authors drew
 * it; the first floor(frac·P²) indices train, the rest test. Both lists are
 * returned sorted, so the split is a pair of sets and its order never matters downstream.
 */
export function splitPairs(p: number, frac: number, seed: number, split: Split = 'grokscope'): { train: Int32Array; test: Int32Array } {
  const n = p * p;
  let perm: Int32Array;
  if (split === 'python') perm = pythonSplitOrder(p, seed);
  else {
    perm = new Int32Array(n);
    for (let i = 0; i < n; i++) perm[i] = i;
    new Rng(streamSeed(seed, 'split')).shuffle(perm);
  }
  const nTrain = Math.floor(frac * n);
  return { train: perm.slice(0, nTrain).sort(), test: perm.slice(nTrain).sort() };
}

/** Checks an explicit list of train pair indices (e.g. imported); returns the sorted split. */
export function splitFromIndices(p: number, indices: ArrayLike<number>): { train: Int32Array; test: Int32Array } {
  const n = p * p;
  const isTrain = new Uint8Array(n);
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k];
    if (!Number.isInteger(i) || i < 0 || i >= n) {
      throw new Error(`train index ${i} at position ${k} is outside [0, ${n}) for P = ${p}`);
    }
    if (isTrain[i]) throw new Error(`train index ${i} appears twice`);
    isTrain[i] = 1;
  }
  if (indices.length === 0 || indices.length === n) {
    throw new Error(`train indices must leave both train and test non-empty (got ${indices.length} of ${n})`);
  }
  const train = new Int32Array(indices.length);
  const test = new Int32Array(n - indices.length);
  for (let i = 0, t = 0, s = 0; i < n; i++) (isTrain[i] ? (train[t++] = i) : (test[s++] = i));
  return { train, test };
}

export interface Dataset {
  p: number;
  /** Label of every pair, `[P²]`. */
  labels: Int32Array;
  /** Sorted pair indices. */
  train: Int32Array;
  test: Int32Array;
}

export function makeDataset(config: SplitParams, trainIndices?: ArrayLike<number>): Dataset {
  const split = trainIndices
    ? splitFromIndices(config.p, trainIndices)
    : splitPairs(config.p, config.frac, config.seed, config.split);
  return { p: config.p, labels: labelTable(config.task, config.p, config.seed), ...split };
}
