/**
 * The model's parameters by their TransformerLens names and shapes (ANALYSIS.md §2), and the
 * authors' initialization: every matrix ~ N(0, 1/d_model) except W_U ~ N(0, 1/d_vocab), biases 0.
 * No attention biases, no unembed bias, no LayerNorm.
 */
import { dims, type TrainConfig } from '../../config/schema.ts';
import { Rng, streamSeed } from '../../random/rng.ts';

export interface ParamSpec {
  name: string;
  shape: number[];
  /** Standard deviation of the normal init; 0 means zeros (biases). */
  initStd: number;
}

/** Host-side weights by name, row-major float32 in the shapes of `paramSpecs`. */
export type Weights = Record<string, Float32Array>;

export function paramSpecs(c: TrainConfig): ParamSpec[] {
  const { dVocab, dVocabOut, dHead, nCtx } = dims(c);
  const s = 1 / Math.sqrt(c.dModel);
  const specs: ParamSpec[] = [
    { name: 'embed.W_E', shape: [dVocab, c.dModel], initStd: s },
    { name: 'pos_embed.W_pos', shape: [nCtx, c.dModel], initStd: s },
  ];
  for (let l = 0; l < c.nLayers; l++) {
    const b = `blocks.${l}`;
    specs.push(
      { name: `${b}.attn.W_Q`, shape: [c.nHeads, c.dModel, dHead], initStd: s },
      { name: `${b}.attn.W_K`, shape: [c.nHeads, c.dModel, dHead], initStd: s },
      { name: `${b}.attn.W_V`, shape: [c.nHeads, c.dModel, dHead], initStd: s },
      { name: `${b}.attn.W_O`, shape: [c.nHeads, dHead, c.dModel], initStd: s },
      { name: `${b}.mlp.W_in`, shape: [c.dModel, c.dMlp], initStd: s },
      { name: `${b}.mlp.b_in`, shape: [c.dMlp], initStd: 0 },
      { name: `${b}.mlp.W_out`, shape: [c.dMlp, c.dModel], initStd: s },
      { name: `${b}.mlp.b_out`, shape: [c.dModel], initStd: 0 },
    );
  }
  // The authors scale W_U by its vocabulary, d_vocab = P + 1.
  specs.push({ name: 'unembed.W_U', shape: [c.dModel, dVocabOut], initStd: 1 / Math.sqrt(dVocab) });
  return specs;
}

export function numParams(c: TrainConfig): number {
  return paramSpecs(c).reduce((n, s) => n + size(s.shape), 0);
}

export function size(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Seeded init (stream 'init' of the seed), drawn parameter by parameter in spec order, times `initScale` (Omnigrok's α). */
export function initWeights(c: TrainConfig): Weights {
  const rng = new Rng(streamSeed(c.seed, 'init'));
  const w: Weights = {};
  for (const spec of paramSpecs(c)) {
    const values = new Float32Array(size(spec.shape));
    if (spec.initStd > 0) for (let i = 0; i < values.length; i++) values[i] = rng.normal() * spec.initStd * c.initScale;
    w[spec.name] = values;
  }
  return w;
}

/** Splits weights flattened in `paramSpecs` order back into named arrays (views, no copy). */
export function unflattenWeights(c: TrainConfig, flat: Float32Array): Weights {
  const out: Weights = {};
  let offset = 0;
  for (const spec of paramSpecs(c)) {
    const n = size(spec.shape);
    out[spec.name] = flat.subarray(offset, offset + n);
    offset += n;
  }
  if (offset !== flat.length) throw new Error(`flat weights have ${flat.length} values, the model has ${offset}`);
  return out;
}
