/**
 * The training configuration: one typed object shared by the UI, the worker and the CLI, and a
 * registry of its fields (URL key, bounds, validation) from which the URL codec, the CLI flags
 * and the form are all derived. ANALYSIS.md §1–3 define what each field means; the tasks are
 * src/task's registry.
 */
import { SPLITS, type Split } from '../task/pairs.ts';
import { TASK_NAMES, taskSpec, type Task } from '../task/registry.ts';

export const ACTIVATIONS = ['relu', 'gelu'] as const;
export type Activation = (typeof ACTIVATIONS)[number];

/** The loss trained on: softmax cross-entropy (the paper), or StableMax's (Prieto et al. 2025). */
export const LOSSES = ['softmax', 'stablemax'] as const;
export type LossKind = (typeof LOSSES)[number];

/** Whether the unembedding keeps a logit for '=' (the authors' code, P+1) or not (P). */
export const VOCAB_OUT = ['p1', 'p'] as const;
export type VocabOut = (typeof VOCAB_OUT)[number];

/**
 * How the loss's gradient is computed: `high`, the label's component p_y − 1 as −Σ_{j≠y} p_j (full
 * precision, as the authors' float64 loss); `f32`, plain softmax − onehot in float32, where p_y − 1
 * rounds to 0 once the loss is below ~1e-7 — the lower precision the paper used to induce
 * slingshots in a 1-layer model (App. D.2).
 */
export const LOSS_PRECISIONS = ['high', 'f32'] as const;
export type LossPrecision = (typeof LOSS_PRECISIONS)[number];

export interface TrainConfig {
  /** The modulus, an odd prime (ANALYSIS.md §1). */
  p: number;
  /** Fraction of the P² pairs used for training. */
  frac: number;
  /** Seeds the split, the init, the random-table task and dropout. */
  seed: number;
  /** Which shuffle draws the split from the seed. */
  split: Split;
  task: Task;
  dModel: number;
  nHeads: number;
  dMlp: number;
  nLayers: number;
  act: Activation;
  vocabOut: VocabOut;
  /** Peak learning rate (after the linear warm-up). Live. */
  lr: number;
  /** Decoupled weight decay λ of AdamW. Live. */
  weightDecay: number;
  beta1: number;
  beta2: number;
  /** Linear warm-up length in updates: lr_t = lr·min(t/warmup, 1). */
  warmup: number;
  /** Training stops after this many epochs (full-batch updates). */
  epochs: number;
  /** Dropout probability on MLP neurons (appendix option; 0 = off). */
  dropout: number;
  /** L1 penalty coefficient on all parameters (appendix option; 0 = off). */
  l1: number;
  /** Grokfast-EMA amplification λ_g (Lee et al. 2024; 0 = off). Live. */
  grokfastLambda: number;
  /** Grokfast-EMA decay α. */
  grokfastAlpha: number;
  /** ⊥Grad (Prieto et al. 2025): 1 removes the gradient's component along each weight tensor (model/orthograd.ts). Live. */
  orthoGrad: number;
  /** The loss optimized, and reported as trainLoss / testLoss (model/transformer/stablemax.ts). */
  loss: LossKind;
  /** Omnigrok (Liu et al. 2023): after every update θ is rescaled to ‖θ‖₂ = weightNorm (0 = off). */
  weightNorm: number;
  /** The seeded initial weights times this factor (Omnigrok's α; 1 = the paper's init). */
  initScale: number;
  /**
   * Attention rate α (Zhong et al. 2023, "The Clock and the Pizza"; their code's attn_coeff):
   * attention α·softmax + (1 − α) on every allowed key; 1 = the paper's attention, 0 = constant.
   */
  attnRate: number;
  /** The loss gradient's precision (App. D.2: `f32` induces slingshots). */
  lossPrecision: LossPrecision;
}

export const DEFAULT_CONFIG: Readonly<TrainConfig> = Object.freeze({
  p: 113,
  frac: 0.3,
  seed: 0,
  split: 'grokscope',
  task: 'add',
  dModel: 128,
  nHeads: 4,
  dMlp: 512,
  nLayers: 1,
  act: 'relu',
  vocabOut: 'p1',
  lr: 1e-3,
  weightDecay: 1,
  beta1: 0.9,
  beta2: 0.98,
  warmup: 10,
  epochs: 40000,
  dropout: 0,
  l1: 0,
  grokfastLambda: 0,
  grokfastAlpha: 0.98,
  orthoGrad: 0,
  loss: 'softmax',
  weightNorm: 0,
  initScale: 1,
  attnRate: 1,
  lossPrecision: 'high',
});

export const P_MIN = 3;
/**
 * The largest modulus the form accepts. P = 401 is the paper's larger modulus (Fig. 25); beyond it
 * the memory check (model/memory.ts) refuses what the device cannot hold, naming the limit it breaks.
 * 1021 is the largest prime below 1024 (its P² pairs, a million, still index exactly in float32).
 */
export const P_MAX = 1021;

export function isPrime(n: number): boolean {
  if (!Number.isInteger(n) || n < 2) return false;
  for (let d = 2; d * d <= n; d++) if (n % d === 0) return false;
  return true;
}

type NumberField = {
  kind: 'int' | 'float';
  min: number;
  max: number;
  /** Whether min / max themselves are allowed. */
  minOpen?: boolean;
  maxOpen?: boolean;
  /** An extra rule, returning a reason when the value breaks it. */
  check?: (v: number) => string | null;
};
type EnumField = { kind: 'enum'; values: readonly string[] };

export type FieldSpec = {
  /** Short key in the URL and the CLI flag (`--key`). */
  key: string;
  label: string;
  /** Applies to the running training without a reset. */
  live: boolean;
  help: string;
} & (NumberField | EnumField);

/** Every field of TrainConfig, in form order. The URL keys are what gets shared: keep them stable. */
export const FIELDS: { readonly [K in keyof TrainConfig]: FieldSpec } = {
  p: {
    key: 'p', label: 'P (modulus)', live: false, kind: 'int', min: P_MIN, max: P_MAX,
    check: (v) => (isPrime(v) ? null : `${v} is not prime`),
    help: 'An odd prime. The paper uses 113.',
  },
  frac: {
    key: 'frac', label: 'training fraction', live: false, kind: 'float', min: 0, max: 1,
    minOpen: true, maxOpen: true, help: 'Share of the P² pairs used for training, in (0, 1).',
  },
  seed: {
    key: 'seed', label: 'seed', live: false, kind: 'int', min: 0, max: 2 ** 32 - 1,
    help: 'Seeds the split, the initial weights and dropout.',
  },
  split: {
    key: 'split', label: 'split', live: false, kind: 'enum', values: SPLITS,
    help: "grokscope: our seeded shuffle; python: CPython's random.shuffle, the paper authors' split.",
  },
  task: { key: 'task', label: 'task', live: false, kind: 'enum', values: TASK_NAMES, help: 'The function to learn.' },
  dModel: { key: 'dm', label: 'd_model', live: false, kind: 'int', min: 4, max: 1024, help: 'Residual stream width.' },
  nHeads: { key: 'heads', label: 'heads', live: false, kind: 'int', min: 1, max: 32, help: 'Attention heads; d_head = d_model / heads.' },
  dMlp: { key: 'mlp', label: 'd_mlp', live: false, kind: 'int', min: 4, max: 4096, help: 'MLP neurons.' },
  nLayers: { key: 'layers', label: 'layers', live: false, kind: 'int', min: 1, max: 2, help: 'Transformer blocks (1 or 2).' },
  act: { key: 'act', label: 'activation', live: false, kind: 'enum', values: ACTIVATIONS, help: 'MLP non-linearity.' },
  vocabOut: {
    key: 'vout', label: 'output vocabulary', live: false, kind: 'enum', values: VOCAB_OUT,
    help: "p1: P+1 logits, one for '=' (the authors' code); p: P logits.",
  },
  lr: {
    key: 'lr', label: 'learning rate', live: true, kind: 'float', min: 0, max: 1, minOpen: true,
    help: 'Peak AdamW learning rate; applies at the next update.',
  },
  weightDecay: {
    key: 'wd', label: 'weight decay λ', live: true, kind: 'float', min: 0, max: 100,
    help: 'Decoupled AdamW weight decay; applies at the next update.',
  },
  beta1: { key: 'b1', label: 'β1', live: false, kind: 'float', min: 0, max: 1, maxOpen: true, help: 'Adam first-moment decay.' },
  beta2: { key: 'b2', label: 'β2', live: false, kind: 'float', min: 0, max: 1, maxOpen: true, help: 'Adam second-moment decay.' },
  warmup: { key: 'warm', label: 'warm-up updates', live: false, kind: 'int', min: 0, max: 100000, help: 'Linear learning-rate warm-up.' },
  epochs: { key: 'epochs', label: 'epochs', live: true, kind: 'int', min: 1, max: 1000000, help: 'Training stops here.' },
  dropout: {
    key: 'drop', label: 'MLP dropout', live: false, kind: 'float', min: 0, max: 1, maxOpen: true,
    help: 'Dropout probability on MLP neurons (0 = off).',
  },
  l1: { key: 'l1', label: 'L1 penalty', live: false, kind: 'float', min: 0, max: 10, help: 'L1 penalty on all weights (0 = off).' },
  grokfastLambda: {
    key: 'gf', label: 'Grokfast λ_g', live: true, kind: 'float', min: 0, max: 100,
    help: 'Grokfast-EMA gradient amplification (0 = off; the authors use 2).',
  },
  grokfastAlpha: {
    key: 'gfa', label: 'Grokfast α', live: false, kind: 'float', min: 0, max: 1, maxOpen: true,
    help: 'Grokfast-EMA decay (the authors use 0.98).',
  },
  orthoGrad: {
    key: 'og', label: '⊥Grad', live: true, kind: 'int', min: 0, max: 1,
    help: "1: each tensor's gradient loses its component along the weights, rescaled to its norm (Prieto et al. 2025); groks without weight decay.",
  },
  loss: {
    key: 'loss', label: 'loss', live: false, kind: 'enum', values: LOSSES,
    help: 'softmax: cross-entropy (the paper). stablemax: s(x) = x + 1 or 1/(1 − x) in place of exp (Prieto et al. 2025), which cannot collapse in float32; the loss curves show the loss trained on.',
  },
  weightNorm: {
    key: 'norm', label: 'weight norm ‖θ‖', live: false, kind: 'float', min: 0, max: 10000,
    help: 'After every update, rescale all weights to this L2 norm (Omnigrok, Liu et al. 2023; 0 = off). Usually with λ = 0.',
  },
  initScale: {
    key: 'initscale', label: 'init scale α', live: false, kind: 'float', min: 0, max: 100, minOpen: true,
    help: 'The seeded initial weights times α (Omnigrok: large α memorizes, small α generalizes).',
  },
  attnRate: {
    key: 'attnrate', label: 'attention rate α', live: false, kind: 'float', min: 0, max: 1,
    help: 'Attention α·softmax + (1 − α) (Zhong et al. 2023, fjzzq2002/pizza code/train-main.py): 1 = the paper, 0 = constant attention (their pizza).',
  },
  lossPrecision: {
    key: 'lossprec', label: 'loss precision', live: false, kind: 'enum', values: LOSS_PRECISIONS,
    help: "high: the label's gradient kept exact (as the authors' float64 loss); f32: plain float32 softmax − onehot, which induces slingshots (App. D.2).",
  },
};

export const CONFIG_KEYS = Object.keys(FIELDS) as (keyof TrainConfig)[];

/** One problem found in a configuration, shown to the person with the field it concerns. */
export interface ConfigIssue {
  /** The URL key (or CLI flag) that was wrong. */
  key: string;
  /** What is wrong with it. */
  message: string;
  /** What the page uses instead, e.g. "113" (the CLI refuses instead). */
  fallback?: string;
}

/** "message; using fallback", as the page shows an issue. */
export function describeIssue(issue: ConfigIssue): string {
  return issue.fallback === undefined ? issue.message : `${issue.message}; using ${issue.fallback}`;
}

/** Checks one value against its field; returns the reason it is bad, or null. */
export function checkField(name: keyof TrainConfig, value: unknown): string | null {
  const spec = FIELDS[name];
  if (spec.kind === 'enum') {
    return spec.values.includes(value as string)
      ? null
      : `must be one of ${spec.values.join(', ')}, got "${String(value)}"`;
  }
  if (typeof value !== 'number' || !Number.isFinite(value)) return `must be a number, got "${String(value)}"`;
  if (spec.kind === 'int' && !Number.isInteger(value)) return `must be a whole number, got ${value}`;
  const belowMin = spec.minOpen ? value <= spec.min : value < spec.min;
  const aboveMax = spec.maxOpen ? value >= spec.max : value > spec.max;
  if (belowMin || aboveMax) {
    const lo = spec.minOpen ? '(' : '[';
    const hi = spec.maxOpen ? ')' : ']';
    return `must be in ${lo}${spec.min}, ${spec.max}${hi}, got ${value}`;
  }
  return spec.check ? spec.check(value) : null;
}

/**
 * Rules that involve several fields. Each names the fields involved, most to blame first, so
 * callers can reset them to their defaults one by one until the rule holds, and say so.
 */
export interface ConsistencyProblem {
  rule: 'heads-divide-d_model' | 'split-non-empty';
  fields: (keyof TrainConfig)[];
  message: string;
}

export function checkConsistency(c: TrainConfig): ConsistencyProblem[] {
  const problems: ConsistencyProblem[] = [];
  if (c.dModel % c.nHeads !== 0) {
    problems.push({
      rule: 'heads-divide-d_model',
      fields: ['nHeads', 'dModel'],
      message: `d_model (${c.dModel}) must be divisible by heads (${c.nHeads})`,
    });
  }
  const nTrain = Math.floor(c.frac * c.p * c.p);
  if (nTrain < 1 || nTrain >= c.p * c.p) {
    problems.push({
      rule: 'split-non-empty',
      fields: ['frac', 'p'],
      message: `training fraction ${c.frac} of ${c.p * c.p} pairs leaves ${nTrain} for training and ${c.p * c.p - nTrain} for test; both need at least one`,
    });
  }
  return problems;
}

/** Derived sizes, in the TransformerLens vocabulary. */
export function dims(c: TrainConfig) {
  const task = taskSpec(c.task);
  const dVocab = task.vocab(c);
  return {
    dVocab,
    dVocabOut: c.vocabOut === 'p1' ? dVocab : task.classes(c),
    dHead: c.dModel / c.nHeads,
    nCtx: task.context(c),
    nPairs: c.p * c.p,
    nTrain: Math.floor(c.frac * c.p * c.p),
  };
}

export function configsEqual(a: TrainConfig, b: TrainConfig): boolean {
  return CONFIG_KEYS.every((k) => a[k] === b[k]);
}
