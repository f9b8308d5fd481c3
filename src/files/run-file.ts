/**
 * A whole run in one file, so a finished run can be sent to someone who opens it without training:
 * a safetensors container (readable from Python with safetensors.numpy.load_file) holding
 *
 *   history.<column>           F64 [N]        one value per checkpoint (epoch, trainLoss, …)
 *   history.normsWE / normsWL  F32 [N, K+1]   per-frequency norms per checkpoint
 *   history.cosCoefficients    F32 [N, K]     cos(w_k(a+b−c)) coefficients per checkpoint
 *   history.excludedLossPerFreq F32 [N, M]    per key frequency, NaN-padded
 *   snapshots.epochs           I64 [S]        epochs of the weight snapshots
 *   snapshots.weights          F32|F16 [S, n] all parameters flattened in TransformerLens order
 *   train_indices              I64 [T]        the run's split
 *   optimizer.m / optimizer.v  F32 [n]        Adam moments of the latest weights (to resume)
 *   optimizer.weights          F32 [n]        the latest weights, exact (to resume)
 *
 * and metadata: format "grokscope-run/1", config (the standard checkpoint config), grokscope_config
 * (the full TrainConfig), key_freqs (JSON), optimizer_t, epoch, created, backend, name.
 * The file may be gzip-compressed as a whole (.grokrun.gz).
 */
import { maxOf } from '../run/extent.ts';
import { KEY_FREQ_MAX, checkKeyFreqs } from '../config/keyfreqs.ts';
import { checkLlcSeries, type LlcSeries } from '../config/llc.ts';
import { CONFIG_KEYS, DEFAULT_CONFIG, checkConsistency, checkField, type TrainConfig } from '../config/schema.ts';
import { configMetadata } from './safetensors/checkpoint.ts';
import { cutText } from '../run/format.ts';
import { splitFromIndices } from '../task/pairs.ts';
import { numParams } from '../model/transformer/params.ts';
import { HISTORY_COLUMNS, HISTORY_MATRICES, LATER_COLUMNS, type Checkpoint } from '../run/history-columns.ts';
import type { KeyFreqsState } from '../run/protocol.ts';
import {
  SafetensorsError,
  f16Tensor,
  f32Tensor,
  f64Tensor,
  i64Tensor,
  readDoubles,
  readFloats,
  readInts,
  readSafetensors,
  writeSafetensors,
  type RawTensor,
} from './safetensors/safetensors.ts';

export const RUN_FORMAT = 'grokscope-run/1';
/** Run files larger than this are refused before parsing (a long run with snapshots is ~100 MB). */
export const MAX_RUN_BYTES = 512 * 1024 * 1024;

export interface RunSnapshot {
  epoch: number;
  weights: Float32Array;
}

export interface ResumeState {
  /** Updates applied (the optimizer's t): the run continues with update `t`. */
  t: number;
  weights: Float32Array;
  m: Float32Array;
  v: Float32Array;
}

export interface RunData {
  name: string;
  config: TrainConfig;
  trainIndices: Int32Array;
  keyFreqs: KeyFreqsState | null;
  history: Checkpoint[];
  snapshots: RunSnapshot[];
  /** Present when the run can be resumed exactly (weights and Adam moments of its last epoch). */
  resume: ResumeState | null;
  backend: { name: string; adapter: string } | null;
  createdAt: string;
  /** How the file stored its snapshots (F16 rounds them: integrity checks allow for it). */
  snapshotDtype?: 'F32' | 'F16';
  /** The LLC over training, if the page estimated it (metadata "llc", JSON; files before it have none). */
  llc?: LlcSeries | null;
}

function fail(message: string): never {
  throw new SafetensorsError(message);
}

export function encodeRun(run: RunData, opts: { snapshotDtype?: 'F32' | 'F16' } = {}): Uint8Array {
  const n = run.history.length;
  const tensors: [string, RawTensor][] = [];
  for (const col of HISTORY_COLUMNS) tensors.push([`history.${col}`, f64Tensor([n], Float64Array.from(run.history, (c) => c[col]))]);
  for (const m of HISTORY_MATRICES) {
    const width = maxOf(run.history.map((c) => c[m].length), 0);
    const data = new Float32Array(n * width).fill(NaN);
    run.history.forEach((c, i) => data.set(c[m].slice(0, width), i * width));
    tensors.push([`history.${m}`, f32Tensor([n, width], data)]);
  }
  const perFreqWidth = maxOf(run.history.map((c) => c.excludedLossPerFreq.length), 0);
  const perFreq = new Float32Array(n * perFreqWidth).fill(NaN);
  run.history.forEach((c, i) => perFreq.set(c.excludedLossPerFreq, i * perFreqWidth));
  tensors.push(['history.excludedLossPerFreq', f32Tensor([n, perFreqWidth], perFreq)]);

  const size = numParams(run.config);
  const snaps = new Float32Array(run.snapshots.length * size);
  run.snapshots.forEach((s, i) => {
    if (s.weights.length !== size) throw new Error(`snapshot at epoch ${s.epoch} has ${s.weights.length} values, the model has ${size}`);
    snaps.set(s.weights, i * size);
  });
  tensors.push(['snapshots.epochs', i64Tensor(run.snapshots.map((s) => s.epoch))]);
  tensors.push(['snapshots.weights', opts.snapshotDtype === 'F16' ? f16Tensor([run.snapshots.length, size], snaps) : f32Tensor([run.snapshots.length, size], snaps)]);
  tensors.push(['train_indices', i64Tensor(run.trainIndices)]);
  if (run.resume) {
    tensors.push(['optimizer.weights', f32Tensor([size], run.resume.weights)]);
    tensors.push(['optimizer.m', f32Tensor([size], run.resume.m)]);
    tensors.push(['optimizer.v', f32Tensor([size], run.resume.v)]);
  }
  const metadata: Record<string, string> = {
    format: RUN_FORMAT,
    name: run.name,
    config: JSON.stringify(configMetadata(run.config)),
    grokscope_config: JSON.stringify(run.config),
    key_freqs: JSON.stringify(run.keyFreqs),
    epoch: String(run.history.at(-1)?.epoch ?? 0),
    created: run.createdAt,
    backend: JSON.stringify(run.backend),
  };
  if (run.resume) metadata.optimizer_t = String(run.resume.t);
  if (run.llc && run.llc.points.length > 0) metadata.llc = JSON.stringify(run.llc);
  return writeSafetensors(tensors, metadata);
}

function parseJson(text: string | undefined, what: string): unknown {
  if (text === undefined) fail(`the run file has no ${what}`);
  try {
    return JSON.parse(text);
  } catch {
    fail(`the run file's ${what} is not valid JSON`);
  }
}

/** A run's configuration, every field checked as a link's would be, then their combination. */
export function checkedConfig(raw: unknown, what = "the run file's configuration"): TrainConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail(`${what} is not an object`);
  const c = { ...DEFAULT_CONFIG } as TrainConfig;
  for (const k of CONFIG_KEYS) {
    const v = (raw as Record<string, unknown>)[k];
    if (v === undefined) continue;
    const problem = checkField(k, v);
    if (problem) fail(`${what} is invalid: ${k} ${problem}`);
    (c as unknown as Record<string, unknown>)[k] = v;
  }
  const problems = checkConsistency(c);
  if (problems.length > 0) fail(`${what} is invalid: ${problems[0].message}`);
  return c;
}

function tensor(tensors: Map<string, RawTensor>, name: string, shape?: (number | null)[]): RawTensor {
  const t = tensors.get(name);
  if (!t) fail(`the run file has no tensor "${cutText(name)}"`);
  if (shape && (t.shape.length !== shape.length || shape.some((d, i) => d !== null && d !== t.shape[i]))) {
    fail(`tensor "${name}" has shape [${t.shape.join(', ')}], expected [${shape.map((d) => d ?? 'any').join(', ')}]`);
  }
  return t;
}

function checkKeyFreqsState(raw: unknown, p: number): KeyFreqsState | null {
  if (raw === null) return null;
  const k = raw as KeyFreqsState;
  if (typeof k !== 'object' || !Number.isInteger(k.version) || !Array.isArray(k.active) || !Array.isArray(k.live) || typeof k.pinned !== 'boolean') {
    fail("the run file's key frequencies are malformed");
  }
  // The same rule as a K pinned by hand: distinct integers in [1, (P − 1)/2] (§5.1).
  for (const [what, ks] of [['K', k.active], ['the rule\'s K', k.live]] as const) {
    const problem = ks.length === 0 ? null : checkKeyFreqs(ks, p);
    if (problem) fail(`the run file's key frequencies are invalid: ${what} = [${ks.slice(0, 12).join(', ')}]: ${problem}`);
  }
  return { version: k.version, active: [...k.active], live: [...k.live], pinned: k.pinned };
}

/** A run's history may hold at most this many checkpoints (a 1,000,000-epoch run checkpointed every 10). */
export const MAX_HISTORY_ROWS = 100_000;
/** …and at most this many per-frequency values in all (the page keeps them as JS arrays). */
export const MAX_HISTORY_VALUES = 16_000_000;

/**
 * Every tensor's shape, checked against the configuration before anything is allocated: a file of
 * 1 MB may claim a column 120 million wide, and is refused here, naming the dimension.
 */
function checkShapes(tensors: Map<string, RawTensor>, config: TrainConfig): { n: number; widths: Record<string, number>; snapshots: number } {
  const nFreqs = (config.p - 1) / 2;
  const n = tensor(tensors, 'history.epoch', [null]).shape[0];
  if (n > MAX_HISTORY_ROWS) fail(`the run's history has ${n.toLocaleString('en-US')} checkpoints, more than the ${MAX_HISTORY_ROWS.toLocaleString('en-US')} the page can hold`);
  for (const col of HISTORY_COLUMNS) if (!(LATER_COLUMNS.has(col) && !tensors.has(`history.${col}`))) tensor(tensors, `history.${col}`, [n]);
  const maxWidth: Record<string, number> = { normsWE: nFreqs + 1, normsWL: nFreqs + 1, cosCoefficients: nFreqs, excludedLossPerFreq: 2 * KEY_FREQ_MAX };
  const widths: Record<string, number> = {};
  let values = 0;
  for (const m of [...HISTORY_MATRICES, 'excludedLossPerFreq']) {
    const t = tensor(tensors, `history.${m}`, [n, null]);
    const w = t.shape[1];
    if (w > maxWidth[m]) fail(`tensor "history.${m}" is ${w.toLocaleString('en-US')} wide; for P = ${config.p} it has at most ${maxWidth[m]} columns`);
    widths[m] = w;
    values += n * w;
  }
  if (values > MAX_HISTORY_VALUES) fail(`the run's history holds ${values.toLocaleString('en-US')} per-frequency values, more than the page can hold`);
  const s = tensor(tensors, 'snapshots.epochs', [null]).shape[0];
  const size = numParams(config);
  tensor(tensors, 'snapshots.weights', [s, size]);
  if (s * size * 4 > MAX_RUN_BYTES) fail(`the run file holds ${s} snapshots of ${size.toLocaleString('en-US')} parameters, more than ${MAX_RUN_BYTES / 1024 / 1024} MB once read`);
  const ti = tensor(tensors, 'train_indices', [null]).shape[0];
  if (ti >= config.p * config.p) fail(`tensor "train_indices" has ${ti} entries; P = ${config.p} has only ${config.p * config.p} pairs`);
  if (tensors.has('optimizer.weights') || tensors.has('optimizer.m') || tensors.has('optimizer.v')) {
    for (const name of ['optimizer.weights', 'optimizer.m', 'optimizer.v']) tensor(tensors, name, [size]);
  }
  return { n, widths, snapshots: s };
}

/** Adam's moments must be what Adam can produce: finite, and the second moments never negative. */
function checkMoments(m: Float32Array, v: Float32Array): void {
  const badV = v.findIndex((x) => !(x >= 0) || !Number.isFinite(x));
  if (badV >= 0) fail(`tensor "optimizer.v" (Adam's second moments) holds ${v[badV]} at index ${badV}; second moments are never negative`);
  const badM = m.findIndex((x) => !Number.isFinite(x));
  if (badM >= 0) fail(`tensor "optimizer.m" holds ${m[badM]} at index ${badM}`);
}

/** Whether a configuration's training fraction names a split of `n` pairs (to within one pair). */
export function describesSplit(config: Pick<TrainConfig, 'frac' | 'p'>, n: number): boolean {
  return Math.abs(config.frac * config.p * config.p - n) < 1;
}

/** Reads and checks a run file (gzip already removed). */
export function decodeRun(bytes: Uint8Array, opts: { maxBytes?: number } = {}): RunData {
  const { tensors, metadata } = readSafetensors(bytes, { maxBytes: opts.maxBytes ?? MAX_RUN_BYTES });
  if (metadata.format === undefined) fail('this is not a grokscope run file (it has no "format" metadata)');
  if (metadata.format !== RUN_FORMAT) fail(`this run file is of format "${metadata.format.slice(0, 40)}"; this page reads "${RUN_FORMAT}"`);
  const config = checkedConfig(parseJson(metadata.grokscope_config, 'configuration'));
  const size = numParams(config);
  const { n, widths } = checkShapes(tensors, config);

  const columns = Object.fromEntries(
    HISTORY_COLUMNS.map((col) => [col, LATER_COLUMNS.has(col) && !tensors.has(`history.${col}`) ? new Float64Array(n).fill(NaN) : readDoubles(tensor(tensors, `history.${col}`))]),
  );
  const matrices = Object.fromEntries(HISTORY_MATRICES.map((m) => [m, readFloats(tensor(tensors, `history.${m}`))]));
  const perFreq = readFloats(tensor(tensors, 'history.excludedLossPerFreq'));
  const perFreqWidth = widths.excludedLossPerFreq;
  const history: Checkpoint[] = [];
  for (let i = 0; i < n; i++) {
    const c = {} as Checkpoint;
    for (const col of HISTORY_COLUMNS) c[col] = columns[col][i];
    for (const m of HISTORY_MATRICES) c[m] = Array.from(matrices[m].subarray(i * widths[m], (i + 1) * widths[m]));
    c.excludedLossPerFreq = Array.from(perFreq.subarray(i * perFreqWidth, (i + 1) * perFreqWidth)).filter((x) => !Number.isNaN(x));
    if (i > 0 && !(c.epoch > history[i - 1].epoch)) fail(`the run's history is out of order at checkpoint ${i} (epoch ${c.epoch})`);
    if (!Number.isInteger(c.epoch) || c.epoch < 0) fail(`the run's history has an invalid epoch ${c.epoch}`);
    history.push(c);
  }

  const epochs = readInts(tensor(tensors, 'snapshots.epochs'));
  const weightsT = tensor(tensors, 'snapshots.weights');
  if (weightsT.dtype !== 'F32' && weightsT.dtype !== 'F16') fail(`snapshots are ${weightsT.dtype}; expected F32 or F16`);
  const all = readFloats(weightsT);
  const snapshots = epochs.map((epoch, i) => {
    if (!Number.isInteger(epoch) || epoch < 0 || (i > 0 && epoch <= epochs[i - 1])) fail(`the snapshot epochs are invalid at position ${i}`);
    const weights = all.subarray(i * size, (i + 1) * size);
    if (!weights.every(Number.isFinite)) fail(`the snapshot at epoch ${epoch} holds NaN or infinite weights`);
    return { epoch, weights };
  });

  let trainIndices: Int32Array;
  try {
    trainIndices = splitFromIndices(config.p, readInts(tensor(tensors, 'train_indices'))).train;
  } catch (err) {
    fail(`the run's train_indices: ${err instanceof Error ? err.message : String(err)}`);
  }
  // The split is its indices; the fraction only describes them, so it must name their count
  // (an imported split of 3,830 pairs at P = 113 has frac 3830/12769, whose floor(frac·P²) is 3,829).
  if (!describesSplit(config, trainIndices.length)) {
    fail(`the configuration's training fraction ${config.frac} means ${Math.floor(config.frac * config.p * config.p)} training pairs, but train_indices holds ${trainIndices.length}`);
  }

  let resume: ResumeState | null = null;
  if (tensors.has('optimizer.weights')) {
    const t = Number(metadata.optimizer_t);
    if (!/^\d+$/.test(metadata.optimizer_t ?? '') || !Number.isSafeInteger(t)) fail('the run file has resume weights but no valid optimizer_t');
    const read = (name: string) => {
      const values = readFloats(tensor(tensors, name));
      if (!values.every(Number.isFinite)) fail(`tensor "${name}" holds NaN or infinite values`);
      return values;
    };
    resume = { t, weights: read('optimizer.weights'), m: readFloats(tensor(tensors, 'optimizer.m')), v: readFloats(tensor(tensors, 'optimizer.v')) };
    checkMoments(resume.m, resume.v);
    const lastEpoch = history.at(-1)?.epoch ?? 0;
    if (lastEpoch > t) fail(`the history reaches epoch ${lastEpoch}, after the resume state's epoch ${t}`);
  }
  const runEpoch = resume?.t ?? history.at(-1)?.epoch ?? 0;
  const lateSnapshot = snapshots.find((x) => x.epoch > Math.max(runEpoch, history.at(-1)?.epoch ?? 0));
  if (lateSnapshot && history.length > 0) fail(`the snapshot at epoch ${lateSnapshot.epoch} is after the run's last epoch ${runEpoch}`);
  const backend = metadata.backend ? (parseJson(metadata.backend, 'backend') as RunData['backend']) : null;
  const llc = metadata.llc === undefined ? null : checkLlcSeries(parseJson(metadata.llc, 'LLC series'));
  if (typeof llc === 'string') fail(`the run file's LLC series is invalid: ${llc}`);
  return {
    name: (metadata.name ?? 'imported run').slice(0, 200),
    config,
    trainIndices,
    keyFreqs: checkKeyFreqsState(parseJson(metadata.key_freqs ?? 'null', 'key frequencies'), config.p),
    history,
    snapshots,
    resume,
    backend: backend && typeof backend === 'object' && typeof backend.name === 'string' ? { name: String(backend.name), adapter: String(backend.adapter ?? '') } : null,
    createdAt: (metadata.created ?? '').slice(0, 40),
    snapshotDtype: weightsT.dtype,
    llc,
  };
}

export { isGzip } from './inflate.ts';

/**
 * Picks snapshot epochs for a compact recording: every `denseEvery` epochs up to `denseUntil`
 * (memorization and the start of circuit formation move fast), then evenly spread up to `max` in
 * all, always with the first and the last.
 */
export function pickRecordedSnapshots(epochs: readonly number[], opts: { max: number; denseUntil: number; denseEvery: number }): number[] {
  if (epochs.length <= opts.max) return [...epochs];
  const picked: number[] = [];
  let lastDense = -Infinity;
  for (const e of epochs) {
    if (e > opts.denseUntil) break;
    if (e - lastDense >= opts.denseEvery) {
      picked.push(e);
      lastDense = e;
    }
  }
  const later = epochs.filter((e) => e > opts.denseUntil);
  const room = Math.max(1, opts.max - picked.length);
  if (later.length > 0) {
    const last = later.at(-1)!;
    const from = picked.at(-1) ?? 0;
    for (let i = 1; i <= room; i++) {
      const target = from + ((last - from) * i) / room;
      const nearest = later.reduce((b, e) => (Math.abs(e - target) < Math.abs(b - target) ? e : b));
      if (!picked.includes(nearest)) picked.push(nearest);
    }
  }
  return picked.sort((a, b) => a - b);
}
