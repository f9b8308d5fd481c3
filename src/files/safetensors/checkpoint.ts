/**
 * Model checkpoints as safetensors with TransformerLens names and shapes (ANALYSIS.md §2), float32,
 * so weights move between grokscope and PyTorch/TransformerLens:
 *
 *   tensors     embed.W_E, pos_embed.W_pos, blocks.{l}.attn.W_Q/W_K/W_V/W_O,
 *               blocks.{l}.mlp.W_in/b_in/W_out/b_out, unembed.W_U — all F32;
 *               optional train_indices (I64, pair indices a·P + b).
 *   __metadata__  config: JSON {p, d_model, n_heads, d_head, d_mlp, n_layers, act, d_vocab_out,
 *               frac_train, seed, task, lr, weight_decay}; epoch: decimal string;
 *               format: "grokscope-checkpoint/1"; grokscope_config: the full TrainConfig JSON.
 *
 * Reading accepts files written by other tools: only `config`, or no metadata at all (the config is
 * then read off the shapes), d_vocab_out of P or P + 1, the authors' task and activation names.
 */
import {
  ACTIVATIONS,
  CONFIG_KEYS,
  DEFAULT_CONFIG,
  checkConsistency,
  checkField,
  dims,
  type TrainConfig,
} from '../../config/schema.ts';
import { cutText } from '../../run/format.ts';
import { SPLITS, splitFromIndices } from '../../task/pairs.ts';
import { taskFromName } from '../../task/registry.ts';
import { paramSpecs, type Weights } from '../../model/transformer/params.ts';
import { SafetensorsError, f32Tensor, i64Tensor, readFloats, readInts, readSafetensors, writeSafetensors, type RawTensor } from './safetensors.ts';

export const CHECKPOINT_FORMAT = 'grokscope-checkpoint/1';
/** Larger files are refused before they are parsed. */
export const MAX_CHECKPOINT_BYTES = 256 * 1024 * 1024;

export interface CheckpointData {
  config: TrainConfig;
  weights: Weights;
  epoch: number;
  /** The run's train pair indices, when the file carries them. */
  trainIndices: Int32Array | null;
}

/** The `config` metadata other tools read (the authors' and TransformerLens' vocabulary). */
export function configMetadata(c: TrainConfig) {
  const d = dims(c);
  return {
    p: c.p,
    d_model: c.dModel,
    n_heads: c.nHeads,
    d_head: d.dHead,
    d_mlp: c.dMlp,
    n_layers: c.nLayers,
    act: c.act,
    d_vocab_out: d.dVocabOut,
    frac_train: c.frac,
    seed: c.seed,
    split: c.split,
    task: c.task,
    lr: c.lr,
    weight_decay: c.weightDecay,
  };
}

export function encodeCheckpoint(input: { config: TrainConfig; weights: Weights; epoch: number; trainIndices?: ArrayLike<number> | null }): Uint8Array {
  const tensors: [string, RawTensor][] = paramSpecs(input.config).map((spec) => {
    const w = input.weights[spec.name];
    if (!w) throw new Error(`missing weight ${spec.name}`);
    return [spec.name, f32Tensor(spec.shape, w)];
  });
  if (input.trainIndices) tensors.push(['train_indices', i64Tensor(input.trainIndices)]);
  return writeSafetensors(tensors, {
    format: CHECKPOINT_FORMAT,
    config: JSON.stringify(configMetadata(input.config)),
    grokscope_config: JSON.stringify(input.config),
    epoch: String(input.epoch),
  });
}

function fail(message: string): never {
  throw new SafetensorsError(message);
}

function configFromMetadata(meta: Record<string, unknown>): TrainConfig {
  const num = (key: string) => {
    const v = meta[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'number') fail(`metadata config.${key} is not a number`);
    return v;
  };
  const c: TrainConfig = { ...DEFAULT_CONFIG };
  const set = <K extends keyof TrainConfig>(k: K, v: TrainConfig[K] | undefined) => {
    if (v !== undefined) c[k] = v;
  };
  set('p', num('p'));
  set('dModel', num('d_model'));
  set('nHeads', num('n_heads'));
  set('dMlp', num('d_mlp'));
  set('nLayers', num('n_layers'));
  set('frac', num('frac_train'));
  set('seed', num('seed'));
  set('lr', num('lr'));
  set('weightDecay', num('weight_decay'));
  if (meta.act !== undefined) {
    const act = String(meta.act).toLowerCase();
    if (!(ACTIVATIONS as readonly string[]).includes(act)) fail(`metadata config.act "${cutText(String(meta.act))}" is not relu or gelu`);
    c.act = act as TrainConfig['act'];
  }
  if (meta.split !== undefined) {
    if (!(SPLITS as readonly string[]).includes(String(meta.split))) fail(`metadata config.split "${cutText(String(meta.split))}" is not ${SPLITS.join(' or ')}`);
    c.split = meta.split as TrainConfig['split'];
  }
  if (meta.task !== undefined) {
    // The authors' names for the tasks (their fn_name) are the registry's aliases.
    const task = taskFromName(String(meta.task));
    if (!task) fail(`metadata config.task "${cutText(String(meta.task))}" is not a known task`);
    c.task = task;
  }
  const vout = num('d_vocab_out');
  if (vout !== undefined) {
    if (vout === c.p + 1) c.vocabOut = 'p1';
    else if (vout === c.p) c.vocabOut = 'p';
    else fail(`metadata config.d_vocab_out is ${vout}; it must be P (${c.p}) or P + 1 (${c.p + 1})`);
  }
  const dHead = num('d_head');
  if (dHead !== undefined && dHead * c.nHeads !== c.dModel) fail(`metadata config.d_head ${dHead} × n_heads ${c.nHeads} is not d_model ${c.dModel}`);
  return c;
}

/** Reads the model's sizes off its tensors (a file without metadata). */
function configFromShapes(tensors: Map<string, RawTensor>): TrainConfig {
  const shape = (name: string, rank: number) => {
    const t = tensors.get(name);
    if (!t) fail(`tensor "${name}" is missing, and the file has no config to say what the model is`);
    if (t.shape.length !== rank) fail(`tensor "${name}" has rank ${t.shape.length}, expected ${rank}`);
    return t.shape;
  };
  const [vocab, dModel] = shape('embed.W_E', 2);
  const [nHeads] = shape('blocks.0.attn.W_Q', 3);
  const [, dMlp] = shape('blocks.0.mlp.W_in', 2);
  const [, vout] = shape('unembed.W_U', 2);
  const p = vocab - 1;
  const nLayers = [...tensors.keys()].some((k) => k.startsWith('blocks.1.')) ? 2 : 1;
  if (vout !== p && vout !== p + 1) fail(`unembed.W_U has ${vout} outputs; it must be P (${p}) or P + 1 (${p + 1})`);
  return { ...DEFAULT_CONFIG, p, dModel, nHeads, dMlp, nLayers, vocabOut: vout === p ? 'p' : 'p1' };
}

function checkConfig(c: TrainConfig): void {
  for (const k of CONFIG_KEYS) {
    const problem = checkField(k, c[k]);
    if (problem) fail(`the file's configuration is invalid: ${k} ${problem}`);
  }
  const problems = checkConsistency(c);
  if (problems.length > 0) fail(`the file's configuration is invalid: ${problems[0].message}`);
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    fail(`metadata ${what} is not valid JSON`);
  }
}

export function decodeCheckpoint(bytes: Uint8Array, opts: { maxBytes?: number } = {}): CheckpointData {
  const { tensors, metadata } = readSafetensors(bytes, { maxBytes: opts.maxBytes ?? MAX_CHECKPOINT_BYTES });
  return checkpointFromTensors(tensors, metadata);
}

/**
 * A checkpoint from tensors with TransformerLens names and string metadata (as a safetensors file
 * holds them; the PyTorch reader converts other layouts to this first). `overrides` replaces
 * config fields read from the metadata or the shapes (e.g. the split of an imported run).
 */
export function checkpointFromTensors(tensors: Map<string, RawTensor>, metadata: Record<string, string>, overrides: Partial<TrainConfig> = {}): CheckpointData {
  let config: TrainConfig;
  if (metadata.grokscope_config !== undefined) {
    const full = parseJson(metadata.grokscope_config, 'grokscope_config');
    if (typeof full !== 'object' || full === null || Array.isArray(full)) fail('metadata grokscope_config is not an object');
    config = { ...DEFAULT_CONFIG };
    for (const k of CONFIG_KEYS) if (k in full) (config as unknown as Record<string, unknown>)[k] = (full as Record<string, unknown>)[k];
  } else if (metadata.config !== undefined) {
    const meta = parseJson(metadata.config, 'config');
    if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) fail('metadata config is not an object');
    config = configFromMetadata(meta as Record<string, unknown>);
  } else {
    config = configFromShapes(tensors);
  }
  config = { ...config, ...overrides };
  checkConfig(config);

  const specs = paramSpecs(config);
  const expected = new Set(specs.map((s) => s.name));
  for (const name of tensors.keys()) {
    if (!expected.has(name) && name !== 'train_indices') fail(`the file has an unexpected tensor "${cutText(name)}" (not part of this model)`);
  }
  const weights: Weights = {};
  for (const spec of specs) {
    const t = tensors.get(spec.name);
    if (!t) fail(`tensor "${spec.name}" is missing`);
    if (t.dtype !== 'F32') fail(`tensor "${spec.name}" is ${t.dtype}; weights must be float32 (F32)`);
    if (t.shape.length !== spec.shape.length || t.shape.some((d, i) => d !== spec.shape[i])) {
      fail(`tensor "${spec.name}" has shape [${t.shape.join(', ')}], expected [${spec.shape.join(', ')}] for P = ${config.p}, d_model = ${config.dModel}`);
    }
    const values = readFloats(t);
    const bad = values.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) fail(`tensor "${spec.name}" holds ${values[bad]} at index ${bad}`);
    weights[spec.name] = values;
  }

  let trainIndices: Int32Array | null = null;
  const ti = tensors.get('train_indices');
  if (ti) {
    if (!['I64', 'I32'].includes(ti.dtype)) fail(`tensor "train_indices" is ${ti.dtype}; it must be an integer tensor (I64 or I32)`);
    if (ti.shape.length !== 1) fail(`tensor "train_indices" has shape [${ti.shape.join(', ')}]; it must be a list`);
    try {
      trainIndices = splitFromIndices(config.p, readInts(ti)).train;
    } catch (err) {
      fail(`tensor "train_indices": ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  let epoch = 0;
  if (metadata.epoch !== undefined) {
    if (!/^\d+$/.test(metadata.epoch) || !Number.isSafeInteger(Number(metadata.epoch))) fail(`metadata epoch "${metadata.epoch.slice(0, 20)}" is not a whole number`);
    epoch = Number(metadata.epoch);
  }
  return { config, weights, epoch, trainIndices };
}
