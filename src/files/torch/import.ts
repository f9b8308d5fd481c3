/**
 * What the grokking ecosystem saves with torch.save, read as grokscope checkpoints and runs:
 *
 * - the paper authors' code (progress-measures-paper, transformers.py): a state dict in their
 *   orientations — embed.W_E [d_model, d_vocab], W_Q/W_K/W_V [heads, d_head, d_model],
 *   W_O [d_model, heads·d_head], W_in [d_mlp, d_model], W_out [d_model, d_mlp], W_U
 *   [d_model, d_vocab], buffer blocks.{l}.attn.mask — alone or inside {model, optimizer,
 *   scheduler, train_losses, test_losses, epoch, config}; their per-epoch files {epoch}.pth and
 *   init.pth (train_data: the split as (a, b, P) tuples);
 * - TransformerLens state dicts (our own names and shapes, plus zero biases b_Q … b_U and the
 *   IGNORE/mask buffers), and its Grokking demo's run file {model, config, checkpoints,
 *   checkpoint_epochs, train_losses, test_losses, train_indices, test_indices}.
 *
 * Both are detected by names and shapes; weights are converted to TransformerLens orientation.
 */
import type { TrainConfig } from '../../config/schema.ts';
import { taskFromName } from '../../task/registry.ts';
import { checkpointFromTensors, type CheckpointData } from '../safetensors/checkpoint.ts';
import { f32Tensor, readFloats, readInts, type RawTensor } from '../safetensors/safetensors.ts';
import { cutText } from '../../run/format.ts';
import { PyRecord, PyTuple, TorchTensor, type PyKey, type PyValue } from './pickle.ts';
import { readTorchFile, type TorchFile } from './torch-file.ts';
import { TorchFileError } from './zip.ts';

function fail(message: string): never {
  throw new TorchFileError(message);
}

export type TorchScheme = 'authors' | 'transformerlens';

export interface TorchSnapshot {
  epoch: number;
  checkpoint: CheckpointData;
}

/** One or more torch files read as one run. */
export interface TorchRun {
  scheme: TorchScheme;
  config: TrainConfig;
  /** Weights over training, ascending by epoch (at least one). */
  snapshots: TorchSnapshot[];
  /** Loss per epoch (index = epoch) when the file keeps the curves. */
  trainLosses: number[] | null;
  testLosses: number[] | null;
  /** Losses a file states at one epoch only (an authors' per-epoch checkpoint), ascending by epoch. */
  lossPoints: LossPoint[];
  /** The split the file states, when it states one. */
  trainIndices: Int32Array | null;
  /** Where the split came from, in words. */
  splitSource: string;
  /** What was read, in words, for the page and the CLI. */
  description: string;
}

export interface LossPoint {
  epoch: number;
  train: number;
  test: number;
}

/** A loss curve longer than this is refused (a run of 1,000,000 epochs logs 1,000,000). */
export const MAX_CURVE_LENGTH = 10_000_000;
/** Epochs a file may state (far beyond any run; the page trains at most 1,000,000). */
export const MAX_FILE_EPOCH = 1e12;

type Dict = Map<PyKey, PyValue>;
export const isDict = (v: PyValue | undefined): v is Dict => v instanceof Map;

/** A dict's fields from a Map or an inert record (a pickled config class). */
export function fields(v: PyValue | undefined): Dict | null {
  if (isDict(v)) return v;
  if (v instanceof PyRecord && isDict(v.state)) return v.state;
  return null;
}

export function numberList(v: PyValue | undefined, file: TorchFile, what: string): number[] | null {
  const long = (n: number) => n > MAX_CURVE_LENGTH && fail(`${what} holds ${n.toLocaleString('en-US')} values, more than the ${MAX_CURVE_LENGTH.toLocaleString('en-US')} any run logs`);
  if (v instanceof TorchTensor) {
    long(v.shape.reduce((a, b) => a * b, 1));
    return Array.from(readFloats(toFloat(file.tensor(v))));
  }
  if (!Array.isArray(v)) return null;
  long(v.length);
  return v.map((x) => (typeof x === 'number' ? x : x instanceof TorchTensor ? readFloats(toFloat(file.tensor(x)))[0] : NaN));
}

/** An epoch the file states: a whole number in [0, MAX_FILE_EPOCH]. */
function epochOf(v: number, what: string): number {
  if (!Number.isInteger(v) || v < 0 || v > MAX_FILE_EPOCH) fail(`${what} is ${String(v).slice(0, 30)}, not an epoch (a whole number from 0 to ${MAX_FILE_EPOCH.toExponential(0)})`);
  return v;
}

function scalar(v: PyValue | undefined, file: TorchFile): number | null {
  if (typeof v === 'number') return v;
  if (v instanceof TorchTensor && v.shape.length === 0) return readFloats(toFloat(file.tensor(v)))[0];
  return null;
}

/** Any float dtype as float32 (the model's precision); other dtypes as they are. */
function toFloat(t: RawTensor): RawTensor {
  if (t.dtype === 'F32' || !['F64', 'F16', 'BF16'].includes(t.dtype)) return t;
  return f32Tensor(t.shape, readFloats(t));
}

/** Transposes the last two axes of a row-major array of shape [..., r, c]. */
function swapLast(values: Float32Array, shape: number[]): Float32Array {
  const r = shape.at(-2)!;
  const c = shape.at(-1)!;
  const out = new Float32Array(values.length);
  for (let b = 0; b < values.length / (r * c); b++) {
    const o = b * r * c;
    for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[o + j * r + i] = values[o + i * c + j];
  }
  return out;
}

function isStateDict(v: PyValue | undefined): v is Dict {
  return isDict(v) && v.has('embed.W_E') && v.get('embed.W_E') instanceof TorchTensor;
}

/** Detects the layout: the authors' W_O is [d_model, heads·d_head], TransformerLens' [heads, d_head, d_model]. */
function schemeOf(sd: Dict): TorchScheme {
  const wo = sd.get('blocks.0.attn.W_O');
  if (!(wo instanceof TorchTensor)) fail('the state dict has no blocks.0.attn.W_O: it is not a transformer of this kind');
  return wo.shape.length === 2 ? 'authors' : 'transformerlens';
}

const IGNORED_BUFFERS = /^blocks\.\d+\.attn\.(mask|IGNORE)$/;
const ZERO_BIASES = /^(blocks\.\d+\.attn\.b_[QKVO]|unembed\.b_U)$/;

/** A state dict as TransformerLens-named float32 tensors. */
export function convertStateDict(sd: Dict, file: TorchFile, scheme: TorchScheme): Map<string, RawTensor> {
  const out = new Map<string, RawTensor>();
  for (const [key, value] of sd) {
    const name = String(key);
    if (!(value instanceof TorchTensor)) continue;
    if (IGNORED_BUFFERS.test(name)) continue;
    const t = toFloat(file.tensor(value));
    if (ZERO_BIASES.test(name)) {
      const v = readFloats(t);
      if (v.some((x) => x !== 0)) fail(`${cutText(name)} is not zero; grokscope's model has no attention or unembedding biases (as in the paper), so this model cannot be read exactly`);
      continue;
    }
    if (/\bln|LayerNorm|w_ln|b_ln/.test(name)) fail(`the model has a LayerNorm (${cutText(name)}); grokscope's model, like the paper's, has none`);
    if (scheme === 'transformerlens' || t.shape.length < 2 || /W_pos|W_U$/.test(name)) {
      out.set(name, t);
      continue;
    }
    const values = readFloats(t);
    const [a, b] = t.shape.slice(-2);
    if (/W_O$/.test(name)) {
      // [d_model, heads·d_head] → [heads·d_head, d_model] → [heads, d_head, d_model]
      const wq = sd.get(name.replace(/W_O$/, 'W_Q'));
      const heads = wq instanceof TorchTensor ? wq.shape[0] : fail(`${cutText(name)} has no W_Q beside it`);
      out.set(name, f32Tensor([heads, b / heads, a], swapLast(values, t.shape)));
    } else {
      // W_E, W_Q/K/V, W_in, W_out: the authors store the transpose of TransformerLens' matrices.
      out.set(name, f32Tensor([...t.shape.slice(0, -2), b, a], swapLast(values, t.shape)));
    }
  }
  return out;
}

/** Config fields a torch file's config (authors' Config, TL's HookedTransformerConfig, a dict) states. */
function configOverrides(cfg: Dict | null): Partial<TrainConfig> {
  const o: Partial<TrainConfig> = {};
  if (!cfg) return o;
  const num = (k: string) => (typeof cfg.get(k) === 'number' ? (cfg.get(k) as number) : undefined);
  const str = (k: string) => (typeof cfg.get(k) === 'string' ? (cfg.get(k) as string) : undefined);
  if (num('frac_train') !== undefined) o.frac = num('frac_train');
  if (num('seed') !== undefined) o.seed = num('seed');
  if (num('lr') !== undefined) o.lr = num('lr');
  if (num('weight_decay') !== undefined) o.weightDecay = num('weight_decay');
  const act = (str('act_type') ?? str('act_fn'))?.toLowerCase();
  if (act === 'relu' || act === 'gelu') o.act = act;
  else if (act) fail(`the model's activation "${cutText(act)}" is not relu or gelu`);
  const task = str('fn_name');
  if (task !== undefined) {
    const known = taskFromName(task);
    if (!known) fail(`the run's task "${cutText(task)}" is not one grokscope trains`);
    o.task = known;
  }
  return o;
}

/**
 * What the optimizer actually ran with (its state dict's first param group): lr, λ and betas.
 * It wins over a config, which may be stale (the authors' wd_10-1 run says weight_decay 1 in its
 * config and 0.1 in its optimizer).
 */
function optimizerOverrides(opt: PyValue | undefined): Partial<TrainConfig> {
  const groups = isDict(opt) ? opt.get('param_groups') : undefined;
  const g = Array.isArray(groups) && isDict(groups[0]) ? groups[0] : null;
  if (!g) return {};
  const o: Partial<TrainConfig> = {};
  const lr = g.get('initial_lr') ?? g.get('lr');
  if (typeof lr === 'number' && lr > 0) o.lr = lr;
  const wd = g.get('weight_decay');
  if (typeof wd === 'number' && wd >= 0) o.weightDecay = wd;
  const betas = g.get('betas');
  if (betas instanceof PyTuple && typeof betas.items[0] === 'number' && typeof betas.items[1] === 'number') {
    o.beta1 = betas.items[0];
    o.beta2 = betas.items[1];
  }
  return o;
}

/** The split as (a, b, P) tuples (the authors' init.pth train_data), as pair indices. */
function indicesFromTuples(v: PyValue | undefined, p: number): number[] | null {
  if (!Array.isArray(v) || v.length === 0) return null;
  return v.map((x) => {
    if (!(x instanceof PyTuple) || typeof x.items[0] !== 'number' || typeof x.items[1] !== 'number') fail('train_data is not a list of (a, b, P) tuples');
    return x.items[0] * p + x.items[1];
  });
}

function snapshotOf(sd: Dict, file: TorchFile, epoch: number, overrides: Partial<TrainConfig>, trainIndices: Int32Array | null): { scheme: TorchScheme; snap: TorchSnapshot } {
  const scheme = schemeOf(sd);
  const tensors = convertStateDict(sd, file, scheme);
  const pos = tensors.get('pos_embed.W_pos');
  if (pos && pos.shape[0] !== 3) fail(`pos_embed.W_pos has ${pos.shape[0]} positions; grokscope's task has 3 (a, b, =)`);
  const checkpoint = checkpointFromTensors(tensors, { epoch: String(epoch) }, overrides);
  if (trainIndices) checkpoint.trainIndices = trainIndices;
  return { scheme, snap: { epoch, checkpoint } };
}

/**
 * Gives every snapshot the file's split: its indices, and the fraction that names their count
 * (n/P², for display: the indices are the split, never re-derived from it).
 */
export function withSplit(snapshots: TorchSnapshot[], trainIndices: Int32Array): void {
  for (const s of snapshots) {
    s.checkpoint.trainIndices = trainIndices;
    s.checkpoint.config = { ...s.checkpoint.config, frac: trainIndices.length / s.checkpoint.config.p ** 2 };
  }
}

/** Reads one torch.save file: a state dict, an authors' checkpoint or run, or a TL demo run. */
export function readTorchRun(bytes: Uint8Array, fileName = 'the file'): TorchRun {
  const file = readTorchFile(bytes);
  const root = file.root;
  if (isStateDict(root)) return single(root, null, file, fileName);
  if (!isDict(root)) fail(`${fileName} holds a ${Array.isArray(root) ? 'list' : typeof root} at the top, not a model`);
  const cfg = fields(root.get('config'));
  const overrides = { ...configOverrides(cfg), ...optimizerOverrides(root.get('optimizer')) };
  const [trainLosses, testLosses] = alignCurves(numberList(root.get('train_losses'), file, 'train_losses'), numberList(root.get('test_losses'), file, 'test_losses'));

  // TransformerLens' Grokking demo: a list of state dicts at checkpoint_epochs, plus the final model.
  const checkpoints = root.get('checkpoints');
  if (Array.isArray(checkpoints) && checkpoints.length > 0) {
    const epochs = numberList(root.get('checkpoint_epochs'), file, 'checkpoint_epochs')?.map((e, i) => epochOf(e, `checkpoint_epochs[${i}]`));
    if (!epochs || epochs.length !== checkpoints.length) fail(`${fileName} has ${checkpoints.length} checkpoints but no checkpoint_epochs list of the same length`);
    const model = root.get('model');
    const snapsRaw: [number, Dict][] = checkpoints.map((c, i) => {
      if (!isStateDict(c)) fail(`checkpoint ${i} of ${fileName} is not a state dict`);
      return [epochs[i], c];
    });
    const lastEpoch = trainLosses?.length ?? epochs.at(-1)! + 1;
    if (isStateDict(model) && !(epochs.at(-1)! >= lastEpoch)) snapsRaw.push([lastEpoch, model]);
    const ti = root.get('train_indices');
    let trainIndices: Int32Array | null = null;
    const snapshots: TorchSnapshot[] = [];
    let scheme: TorchScheme = 'transformerlens';
    for (const [epoch, sd] of snapsRaw) {
      const { scheme: s, snap } = snapshotOf(sd, file, epoch, overrides, trainIndices);
      scheme = s;
      if (!trainIndices && ti instanceof TorchTensor) {
        const p = snap.checkpoint.config.p;
        trainIndices = Int32Array.from(readInts(file.tensor(ti)));
        if (trainIndices.some((i) => i < 0 || i >= p * p)) fail(`train_indices of ${fileName} lie outside [0, P²)`);
        snap.checkpoint.trainIndices = trainIndices;
      }
      snapshots.push(snap);
    }
    snapshots.sort((a, b) => a.epoch - b.epoch);
    if (trainIndices) withSplit(snapshots, trainIndices);
    const config = snapshots.at(-1)!.checkpoint.config;
    return {
      scheme,
      config,
      snapshots,
      trainLosses,
      testLosses,
      lossPoints: [],
      trainIndices,
      splitSource: trainIndices ? 'train_indices from the file' : 'not in the file',
      description: `a TransformerLens Grokking-demo run: ${snapshots.length} checkpoints (epochs ${snapshots[0].epoch}–${snapshots.at(-1)!.epoch})${trainLosses ? `, loss curves of ${trainLosses.length} epochs` : ''}`,
    };
  }

  const model = root.get('model');
  if (!isStateDict(model)) {
    const keys = [...root.keys()].slice(0, 8).map((k) => cutText(String(k), 40)).join(', ');
    fail(`${fileName} has no model weights (no state dict under "model"; its keys: ${keys}) — perhaps only loss curves`);
  }
  const epoch = epochOf(scalar(root.get('epoch'), file) ?? trainLosses?.length ?? 0, `the file's epoch`);
  const run = single(model, cfg, file, fileName, epoch, overrides);
  const trainData = indicesFromTuples(root.get('train_data'), run.config.p);
  if (trainData) {
    run.trainIndices = Int32Array.from(trainData);
    run.splitSource = 'train_data from the file';
    withSplit(run.snapshots, run.trainIndices);
    run.config = run.snapshots[0].checkpoint.config;
  }
  if (trainLosses && testLosses) {
    run.trainLosses = trainLosses;
    run.testLosses = testLosses;
    const logged = (xs: number[]) => xs.filter(Number.isFinite).length;
    run.description += `, with loss curves of ${trainLosses.length} epochs${logged(testLosses) < testLosses.length ? ` (test loss every ${Math.round(testLosses.length / logged(testLosses))} epochs)` : ''}`;
  } else {
    const tr = scalar(root.get('train_loss'), file);
    const te = scalar(root.get('test_loss'), file);
    // One point, never an array as long as the epoch (a file may say epoch 5e7).
    if (tr !== null && te !== null) run.lossPoints = [{ epoch, train: tr, test: te }];
  }
  return run;
}

/**
 * Puts both curves on one epoch axis. A shorter curve that divides the other (the authors' wd_10-1
 * and low_precision runs log test loss every 10th epoch: 10,780 values for 107,791 epochs) is
 * spread at that stride, NaN between.
 */
export function alignCurves(train: number[] | null, test: number[] | null): [number[] | null, number[] | null] {
  if (!train || !test || train.length === test.length || test.length === 0 || train.length === 0) return [train, test];
  const [long, short] = train.length > test.length ? [train, test] : [test, train];
  // Logged at epochs 0, k, 2k, …: k·(n − 1) + 1 or k·n epochs in all.
  const a = (long.length - 1) / Math.max(1, short.length - 1);
  const stride = Number.isInteger(a) ? a : long.length / short.length;
  if (!Number.isInteger(stride) || stride < 2) return [train, test];
  const spread = new Array<number>(long.length).fill(NaN);
  short.forEach((x, i) => i * stride < long.length && (spread[i * stride] = x));
  return train.length > test.length ? [train, spread] : [spread, test];
}

function single(sd: Dict, cfg: Dict | null, file: TorchFile, fileName: string, epoch = 0, given: Partial<TrainConfig> = configOverrides(cfg)): TorchRun {
  const overrides = { ...given };
  const scheme = schemeOf(sd);
  // The authors' code draws its split with Python's random (seed 0, 30% by default): measure their
  // models on it. A TransformerLens dict alone does not say how it was split.
  const authors = scheme === 'authors';
  if (authors) overrides.split = 'python';
  const { snap } = snapshotOf(sd, file, epoch, overrides, null);
  const c = snap.checkpoint.config;
  const stated = cfg && (cfg.has('seed') || cfg.has('frac_train'));
  return {
    scheme,
    config: c,
    snapshots: [snap],
    trainLosses: null,
    testLosses: null,
    lossPoints: [],
    trainIndices: null,
    splitSource: authors
      ? `the authors' split (Python random, seed ${c.seed}, ${Math.round(c.frac * 100)}% train${stated ? ', from the file' : ', their defaults: the file does not say'})`
      : `grokscope's seeded split (seed ${c.seed}, ${Math.round(c.frac * 100)}%: the file does not say)`,
    description: `${authors ? "the paper authors' layout" : 'TransformerLens layout'} (P = ${c.p}, d_model ${c.dModel}, ${c.nHeads} heads, d_mlp ${c.dMlp}${c.nLayers > 1 ? `, ${c.nLayers} layers` : ''}) at epoch ${epoch} from ${fileName}`,
  };
}
