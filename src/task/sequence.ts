/**
 * The appendix's other tasks (App. D.3, Figs. 29–34): sequences read left to right by a causal
 * transformer, each with its own data. "Restricting the amount of data is necessary and sufficient
 * for grokking": every task trains on a fixed small set (`data = N`) or on fresh examples every
 * update (`data = inf`, where train and test loss coincide).
 *
 * A batch is plain arrays: `tokens` [N, n_ctx], and at each position the token the model should
 * predict there (`targets`) and whether that position counts in the loss (`weights`, 0 or 1).
 * The CLI and the page's appendix-tasks room (ui/sequence) train them (model/sequence); the task registry (registry.ts) holds the "a b =" family only.
 */
import { Rng, streamSeed } from '../random/rng.ts';

export type SequenceTaskName = 'digits5' | 'repeat' | 'skip3';
export const SEQUENCE_TASK_NAMES: readonly SequenceTaskName[] = ['digits5', 'repeat', 'skip3'];

export interface SequenceBatch {
  n: number;
  nCtx: number;
  tokens: Int32Array;
  targets: Int32Array;
  weights: Float32Array;
  /** repeat: per example, the start of each of the three copies of the subsequence. */
  copyStarts?: Int32Array;
}

export interface SequenceModelShape {
  nLayers: number;
  dModel: number;
  nHeads: number;
  dHead: number;
  /** MLP width; 0: attention only. */
  dMlp: number;
}

export interface SequenceTaskSpec {
  label: string;
  /** What the paper found (App. D.3), for the guide and the CLI's summary. */
  paper: string;
  vocab: number;
  /** Logits the model keeps (digits5: the 10 digits). */
  vocabOut: number;
  nCtx: number;
  model: SequenceModelShape;
  /** The paper's finite data set size. */
  finiteData: number;
  /** Examples per update on a finite set (0: the whole set), and per fresh batch with `data = inf`. */
  batch: number;
  /** `n` examples drawn from `rng`. */
  sample(rng: Rng, n: number): SequenceBatch;
}

function empty(n: number, nCtx: number): SequenceBatch {
  return { n, nCtx, tokens: new Int32Array(n * nCtx), targets: new Int32Array(n * nCtx), weights: new Float32Array(n * nCtx) };
}

/** Predict the token at every position in [from, to) from the position before it. */
function predictNext(b: SequenceBatch, row: number, from: number, to: number): void {
  const o = row * b.nCtx;
  for (let j = from; j < to; j++) {
    b.targets[o + j - 1] = b.tokens[o + j];
    b.weights[o + j - 1] = 1;
  }
}

/** 5-digit addition: `a₁…a₅ + b₁…b₅ = c₁…c₆`, most significant digit first, tokens 0–9 digits, 10 '+', 11 '='. */
export const DIGITS5_PLUS = 10;
export const DIGITS5_EQUALS = 11;
/** Positions of the six answer digits; each is predicted from the position before it. */
export const DIGITS5_ANSWER_START = 12;

function digits(x: number, width: number, out: Int32Array, at: number): void {
  for (let i = width - 1; i >= 0; i--, x = Math.floor(x / 10)) out[at + i] = x % 10;
}

function sampleDigits5(rng: Rng, n: number): SequenceBatch {
  const b = empty(n, 18);
  for (let r = 0; r < n; r++) {
    const a = rng.int(100000);
    const c = rng.int(100000);
    const o = r * 18;
    digits(a, 5, b.tokens, o);
    b.tokens[o + 5] = DIGITS5_PLUS;
    digits(c, 5, b.tokens, o + 6);
    b.tokens[o + 11] = DIGITS5_EQUALS;
    digits(a + c, 6, b.tokens, o + DIGITS5_ANSWER_START);
    predictNext(b, r, DIGITS5_ANSWER_START, 18);
  }
  return b;
}

/** Repeated subsequences: 85 tokens of 128, in which one random 16-token subsequence appears 3 times. */
export const REPEAT_LENGTH = 16;
export const REPEAT_COPIES = 3;

function sampleRepeat(rng: Rng, n: number): SequenceBatch {
  const nCtx = 85;
  const filler = nCtx - REPEAT_LENGTH * REPEAT_COPIES;
  const b: SequenceBatch = { ...empty(n, nCtx), copyStarts: new Int32Array(n * REPEAT_COPIES) };
  const sub = new Int32Array(REPEAT_LENGTH);
  for (let r = 0; r < n; r++) {
    for (let i = 0; i < REPEAT_LENGTH; i++) sub[i] = rng.int(128);
    // The filler tokens split into 4 gaps (before, between and after the copies) at 3 uniform cuts.
    const cuts = [rng.int(filler + 1), rng.int(filler + 1), rng.int(filler + 1)].sort((x, y) => x - y);
    const o = r * nCtx;
    let at = 0;
    let used = 0;
    for (let k = 0; k < REPEAT_COPIES; k++) {
      for (; used < cuts[k]; used++) b.tokens[o + at++] = rng.int(128);
      b.copyStarts![r * REPEAT_COPIES + k] = at;
      for (let i = 0; i < REPEAT_LENGTH; i++) b.tokens[o + at++] = sub[i];
    }
    for (; used < filler; used++) b.tokens[o + at++] = rng.int(128);
    // The loss is on the repeated tokens that context can predict: all but the first of copies 2 and 3.
    for (let k = 1; k < REPEAT_COPIES; k++) {
      const s = b.copyStarts![r * REPEAT_COPIES + k];
      predictNext(b, r, s + 1, s + REPEAT_LENGTH);
    }
  }
  return b;
}

/** Skip trigrams: 8 tokens of 0–19, exactly one of them ≥ 10; the answer, at the last position, is that token. */
export const SKIP3_LENGTH = 8;

function sampleSkip3(rng: Rng, n: number): SequenceBatch {
  const b = empty(n, SKIP3_LENGTH);
  for (let r = 0; r < n; r++) {
    const o = r * SKIP3_LENGTH;
    for (let i = 0; i < SKIP3_LENGTH; i++) b.tokens[o + i] = rng.int(10);
    const special = 10 + rng.int(10);
    b.tokens[o + rng.int(SKIP3_LENGTH)] = special;
    b.targets[o + SKIP3_LENGTH - 1] = special;
    b.weights[o + SKIP3_LENGTH - 1] = 1;
  }
  return b;
}

export const SEQUENCE_TASKS: Record<SequenceTaskName, SequenceTaskSpec> = {
  digits5: {
    label: '5-digit addition',
    paper: 'Fig. 30: on 700 problems it memorizes, then generalizes; on fresh problems (Fig. 29) train and test loss coincide, and each answer digit has its own phase change.',
    vocab: 12,
    vocabOut: 10,
    nCtx: 18,
    model: { nLayers: 1, dModel: 128, nHeads: 4, dHead: 32, dMlp: 512 },
    finiteData: 700,
    batch: 0,
    sample: sampleDigits5,
  },
  repeat: {
    label: 'repeated subsequences (induction heads)',
    paper: 'Figs. 31–32: on 512 sequences the model groks as induction heads form; on fresh sequences the induction heads form at a phase change without grokking.',
    vocab: 128,
    vocabOut: 128,
    nCtx: 85,
    model: { nLayers: 2, dModel: 48, nHeads: 4, dHead: 12, dMlp: 0 },
    finiteData: 512,
    batch: 128,
    sample: sampleRepeat,
  },
  skip3: {
    label: 'skip trigrams',
    paper: 'Figs. 33–34: on 512 sequences it memorizes, then generalizes; on fresh sequences train and test loss fall together.',
    vocab: 20,
    vocabOut: 20,
    nCtx: SKIP3_LENGTH,
    model: { nLayers: 1, dModel: 48, nHeads: 4, dHead: 12, dMlp: 0 },
    finiteData: 512,
    batch: 0,
    sample: sampleSkip3,
  },
};

/**
 * The test set of a run of `seed`: `size` fresh examples from its stream 'sequence-test'. A run,
 * each run of a sweep, and `analyze` of a saved model (which says so) all test on these.
 */
export function sequenceTestSet(task: SequenceTaskName, seed: number, size: number): SequenceBatch {
  return SEQUENCE_TASKS[task].sample(new Rng(streamSeed(seed, 'sequence-test')), size);
}

export function isSequenceTask(name: string): name is SequenceTaskName {
  return (SEQUENCE_TASK_NAMES as readonly string[]).includes(name);
}

/** Rows [from, from + n) of a batch, as their own batch (views of the same arrays). */
export function sliceBatch(b: SequenceBatch, from: number, n: number): SequenceBatch {
  const lo = from * b.nCtx;
  const hi = (from + n) * b.nCtx;
  return {
    n,
    nCtx: b.nCtx,
    tokens: b.tokens.subarray(lo, hi),
    targets: b.targets.subarray(lo, hi),
    weights: b.weights.subarray(lo, hi),
    copyStarts: b.copyStarts?.subarray(from * REPEAT_COPIES, (from + n) * REPEAT_COPIES),
  };
}
