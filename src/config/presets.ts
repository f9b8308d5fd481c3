/**
 * Named configurations of the paper's experiments, by the name that goes into the URL
 * (?preset=no-wd). Each is a difference from the mainline configuration (DEFAULT_CONFIG).
 */
import { CONFIG_KEYS, DEFAULT_CONFIG, type TrainConfig } from './schema.ts';

export interface Preset {
  label: string;
  /** What the paper reports for it, to compare a run against (ANALYSIS.md §6). */
  expect: string;
  changes: Partial<TrainConfig>;
  /** When its test accuracy first reached 99% (seed 0), and who measured it, for "time to grok". */
  groks?: { epoch: number; source: string };
}

export const PRESETS = {
  mainline: {
    label: 'Mainline: P = 113, 30% data, λ = 1',
    expect: 'Memorizes by ~1.4k epochs, groks near ~10k, cleanup until ~14k (paper, Fig. 2 and 7).',
    changes: {},
    groks: { epoch: 10_000, source: "the paper's run groks near 10k epochs" },
  },
  quick: {
    label: 'Quick: P = 59, 40% data, lr 3e-3',
    expect:
      "The whole story in under 2k epochs: the paper's model with a smaller modulus (59), 40% of pairs and lr 3e-3. " +
      'Seed 0 fits the training pairs by epoch 100 while test accuracy sits near 20%, then groks: 50% at epoch 650, 99% at 1,350.',
    // A 3k-epoch limit: the run ends once the story has been told (99% at 1,350), and
    // "time left" reads minutes, not the mainline's 40k epochs.
    changes: { p: 59, frac: 0.4, lr: 3e-3, epochs: 3_000 },
    groks: { epoch: 1_350, source: 'the quick preset reached 99% test accuracy at epoch 1,350 (seed 0, measured here)' },
  },
  'no-wd': {
    label: 'No weight decay (λ = 0)',
    expect: 'Memorizes but never groks (paper §5.3).',
    changes: { weightDecay: 0 },
  },
  p53: {
    label: 'P = 53 with λ = 5',
    expect: 'Groks only with the stronger decay λ ≈ 5 (paper, App. D).',
    changes: { p: 53, weightDecay: 5 },
  },
  frac60: {
    label: '60% of pairs for training',
    expect: 'Generalizes at once, with no memorization plateau (paper, App. D).',
    changes: { frac: 0.6 },
  },
  frac10: {
    label: '10% of pairs for training',
    expect: 'Too little data: does not grok within 40k epochs (paper, App. D).',
    changes: { frac: 0.1 },
  },
  p401: {
    label: 'P = 401 (Fig. 25)',
    expect:
      'With the larger modulus 30% of pairs is 48k training examples: no grokking, it generalizes at once — test loss ' +
      'falls with train loss, for several λ (paper, App. D.1, Fig. 25). The all-pairs evaluation needs ~330 MB per tensor.',
    changes: { p: 401 },
  },
  'two-layer': {
    label: '2-layer transformer',
    expect: 'Also groks; the fast forward does not apply, so it trains slower.',
    changes: { nLayers: 2 },
  },
  dropout: {
    label: 'Dropout on MLP neurons instead of weight decay',
    expect: 'Dropout p = 0.1 with λ = 0: a different regularizer; compare with no-wd.',
    changes: { weightDecay: 0, dropout: 0.1 },
  },
  grokfast: {
    label: 'Mainline with Grokfast-EMA (α 0.98, λ_g 2)',
    expect: 'The same run with slow gradients amplified groks earlier (Lee et al. 2024).',
    changes: { grokfastLambda: 2 },
    groks: { epoch: 7_100, source: 'with Grokfast, seed 0 reached 99% test accuracy at epoch 7.1k here' },
  },
  slingshots: {
    label: 'Slingshots: the quick run with the float32 loss (App. D.2)',
    expect:
      'The paper induced slingshots — train-loss spikes long after memorization — in a 1-layer model by computing the loss in ' +
      'lower precision (float32 instead of float64). Here the gradient of the loss is plain float32 softmax − onehot, on the quick run, ' +
      'trained past grokking; spikes are marked on the loss chart by the rule in its hover. Measured here (seed 0, CLI): 99% test ' +
      'accuracy at epoch 1,500 and three slingshots, at epochs 1,340, 2,620 and 3,780 (train loss up to 1e6× its running minimum); ' +
      'with the default loss precision the same run has none.',
    changes: { p: 59, frac: 0.4, lr: 3e-3, epochs: 4_000, lossPrecision: 'f32' },
  },
} satisfies Record<string, Preset>;

export type PresetName = keyof typeof PRESETS;
export const PRESET_NAMES = Object.keys(PRESETS) as PresetName[];

export function isPresetName(name: string): name is PresetName {
  return Object.prototype.hasOwnProperty.call(PRESETS, name);
}

export function presetConfig(name: PresetName): TrainConfig {
  return { ...DEFAULT_CONFIG, ...PRESETS[name].changes };
}

/**
 * Fields that limit how long a run trains rather than change what it trains: `epochs` only (every
 * other field changes the data, the model, the optimizer or the loss; the warm-up changes the lr
 * schedule). The reference recording is the mainline experiment stopped at 16,000 of 40,000 epochs.
 */
export const RUN_LENGTH_KEYS: readonly (keyof TrainConfig)[] = ['epochs'];

/** The first preset whose settings equal `config`'s, its run length aside (RUN_LENGTH_KEYS), or null. */
export function matchPreset(config: TrainConfig): PresetName | null {
  const keys = CONFIG_KEYS.filter((k) => !RUN_LENGTH_KEYS.includes(k));
  return PRESET_NAMES.find((name) => keys.every((k) => presetConfig(name)[k] === config[k])) ?? null;
}

/** When the preset's run is known to grok (test accuracy 99%), if it does. */
export function presetGroks(name: PresetName): Preset['groks'] {
  return (PRESETS[name] as Preset).groks;
}
