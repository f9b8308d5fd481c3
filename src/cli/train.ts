/**
 * `train`: trains headless with the worker's own TrainingSession, printing progress and writing
 * `{config, backend, history}` as JSON (history: one object per checkpoint, epoch 0 first).
 */
import { accessSync, constants, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { GROKKED_ACC, grokEpoch } from '../analysis/phases.ts';
import { CONFIG_KEYS, FIELDS, checkConsistency, type TrainConfig } from '../config/schema.ts';
import { encodeCheckpoint, type CheckpointData } from '../files/safetensors/checkpoint.ts';
import { CPU_LIMITS } from '../model/memory.ts';
import { SLINGSHOT_RULE, detectSlingshots } from '../analysis/slingshots.ts';
import { Trainer } from '../model/trainer.ts';
import type { Checkpoint } from '../run/history-columns.ts';
import { encodeRun, pickRecordedSnapshots } from '../files/run-file.ts';
import { TrainingSession } from '../worker/training/session.ts';
import { UsageError, intFlag, type ParsedArgs } from './node/args.ts';
import { startNodeBackend } from './node/backends.ts';
import { readModelFile } from './model-file.ts';
import { ProgressReporter } from './node/progress.ts';

export const TRAIN_FLAGS = new Set(['every', 'out', 'quiet', 'init', 'save', 'record', 'record-snapshots', 'record-dtype', 'record-name', 'until-acc']);
/** Node has memory to spare: ~1600 mainline snapshots. */
export const CLI_SNAPSHOT_BUDGET_BYTES = 1.5 * 1024 ** 3;

export interface TrainResult {
  config: Trainer['config'];
  backend: { name: string; adapter: string };
  /** The key frequencies the K-dependent measures of the history use, and the rule's last answer. */
  keyFreqs: { version: number; active: number[]; live: number[]; pinned: boolean } | null;
  history: Checkpoint[];
}

async function readCheckpointFile(path: string): Promise<CheckpointData> {
  try {
    return (await readModelFile(path)).checkpoint;
  } catch (err) {
    throw new UsageError(`--init: ${path} is not a usable checkpoint: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/**
 * Checks before training that an output can be written: not a folder, in a folder that exists
 * (--record makes its own) and may be written, and writable itself if it is there already. Three
 * thousand epochs must never end in ENOENT.
 */
export function checkOutputPath(flag: string, path: string, makeFolder = false): void {
  const stat = (p: string) => {
    try {
      return statSync(p);
    } catch {
      return undefined; // not there, or under something that is not a folder
    }
  };
  const st = stat(path);
  if (st?.isDirectory()) throw new UsageError(`--${flag} ${path} is a folder; give a file name`);
  const dir = dirname(path);
  if (makeFolder) {
    try {
      mkdirSync(dir, { recursive: true });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new UsageError(`--${flag} ${path}: its folder ${dir} cannot be made (${code === 'EEXIST' || code === 'ENOTDIR' ? 'a file is in the way' : (code ?? String(err))})`);
    }
  }
  const d = stat(dir);
  if (!d) throw new UsageError(`--${flag} ${path}: the folder ${dir} does not exist`);
  if (!d.isDirectory()) throw new UsageError(`--${flag} ${path}: ${dir} is not a folder`);
  try {
    accessSync(st ? path : dir, constants.W_OK);
  } catch {
    throw new UsageError(`--${flag} ${path} cannot be written (${st ? 'the file' : `the folder ${dir}`} is not writable)`);
  }
}

/**
 * Writes one output; if that fails after all (a disk full), the bytes go to a file in the system's
 * temporary folder instead, so the training is never thrown away, and the failure is returned.
 */
function writeOutput(flag: string, path: string, data: string | Uint8Array, log: (s: string) => void): string | null {
  try {
    writeFileSync(path, data);
    return null;
  } catch (err) {
    const rescue = join(tmpdir(), `grokscope-${process.pid}-${basename(path)}`);
    let kept = '';
    try {
      writeFileSync(rescue, data);
      kept = `; written to ${rescue} instead`;
    } catch {
      kept = '; it could not be written anywhere';
    }
    const problem = `--${flag} ${path} could not be written (${err instanceof Error ? err.message : String(err)})${kept}`;
    log(problem);
    return problem;
  }
}

/** The checkpoint's configuration with the flags that were given on top. */
function configWithFlags(base: TrainConfig, args: ParsedArgs): TrainConfig {
  const given = new Set(new URLSearchParams(args.query).keys());
  if (given.has('preset')) throw new UsageError('--init takes its configuration from the checkpoint; --preset does not apply');
  const config = { ...base };
  for (const k of CONFIG_KEYS) if (given.has(FIELDS[k].key)) (config as unknown as Record<string, unknown>)[k] = args.decoded.config[k];
  const problems = checkConsistency(config);
  if (problems.length > 0) throw new UsageError(problems[0].message);
  return config;
}

export async function trainCommand(args: ParsedArgs): Promise<TrainResult> {
  const { decoded, flags } = args;
  for (const name of flags.keys()) if (!TRAIN_FLAGS.has(name)) throw new UsageError(`unknown flag --${name}`);
  if (decoded.issues.length > 0) {
    throw new UsageError(decoded.issues.map((i) => `--${i.key}: ${i.message}`).join('\n'));
  }
  const initPath = flags.get('init');
  const init = initPath ? await readCheckpointFile(initPath) : null;
  const config = init ? configWithFlags(init.config, args) : decoded.config;
  const every = intFlag(flags, 'every', Math.max(1, Math.round(config.epochs / 100)));
  const quiet = flags.get('quiet') === 'true';
  const untilRaw = flags.get('until-acc');
  const untilAcc = untilRaw === undefined ? null : Number(untilRaw);
  if (untilAcc !== null && !(untilAcc > 0 && untilAcc <= 1)) throw new UsageError(`--until-acc must be a test accuracy in (0, 1], got "${untilRaw}"`);
  // Every output checked before training, each written on its own after it.
  for (const flag of ['out', 'save', 'record'] as const) {
    const path = flags.get(flag);
    if (path !== undefined) checkOutputPath(flag, path, flag === 'record');
  }
  const recordDtype = flags.get('record-dtype');
  if (recordDtype !== undefined && !['f32', 'f16'].includes(recordDtype.toLowerCase())) throw new UsageError(`--record-dtype must be f32 or f16, got "${recordDtype}"`);
  if (flags.has('record-snapshots')) intFlag(flags, 'record-snapshots', 1);
  const backend = await startNodeBackend(decoded.backend);
  const log = (s: string) => {
    if (!quiet) process.stderr.write(`${s}\n`);
  };
  if (init) log(`starting from ${initPath} (epoch ${init.epoch}${init.trainIndices ? ', its train_indices' : ''}; fresh Adam moments)`);
  log(`grokscope: P=${config.p}, ${config.frac * 100}% train, λ=${config.weightDecay}, lr=${config.lr}, ${config.epochs} epochs on ${backend.name} (${backend.adapter})`);
  for (const s of backend.skipped) log(`  skipped ${s}`);

  const history: Checkpoint[] = [];
  const progress = new ProgressReporter(config.epochs, process.stderr, quiet);
  let failure: string | null = null;
  const session = new TrainingSession({
    createTrainer: (c) => {
      if (!init) return new Trainer(c);
      try {
        return new Trainer(c, { weights: init.weights, trainIndices: init.trainIndices ?? undefined });
      } catch (err) {
        throw new UsageError(`--init: the checkpoint does not fit this configuration: ${err instanceof Error ? err.message : String(err)}`);
      }
    },
    backendInfo: () => backend,
    limits: () => (backend.name === 'wasm' || backend.name === 'cpu' ? CPU_LIMITS[backend.name] : null),
    checkpointEvery: every,
    // Keep a snapshot of (almost) every checkpoint, so a change of K re-measures them all.
    snapshotBudgetBytes: CLI_SNAPSHOT_BUDGET_BYTES,
    post: (e) => {
      switch (e.type) {
        case 'checkpoint':
          history.push(e.checkpoint);
          progress.checkpoint(e.checkpoint);
          if (untilAcc !== null && e.checkpoint.testAcc >= untilAcc) void session.handle({ type: 'pause' });
          return;
        case 'progress':
          progress.progress(e.epoch, e.epochsPerSec, e.trainLoss);
          return;
        case 'recomputed':
          // A past checkpoint re-measured with a new K: keep every row on one K.
          for (const row of e.rows) {
            const c = history.find((h) => h.epoch === row.epoch);
            if (c) Object.assign(c, { ...row, keyFreqsVersion: e.version });
          }
          return;
        case 'error':
          failure = e.message;
          return;
        case 'ready':
        case 'status':
        case 'keyFreqs':
        case 'heavy':
        case 'snapshots':
          return;
      }
    },
  });
  const interrupt = () => {
    log('\ninterrupted: stopping after the current block and writing what was trained');
    void session.handle({ type: 'pause' });
  };
  process.once('SIGINT', interrupt);
  try {
    await session.handle({ type: 'init', config, backend: decoded.backend });
    if (failure) throw new Error(failure);
    await session.handle({ type: 'start' });
    await session.idle();
  } finally {
    process.off('SIGINT', interrupt);
    progress.done();
  }
  const trainer = session.currentTrainer!;
  const grokked = grokEpoch(history.map((h) => h.epoch), history.map((h) => h.testAcc));
  log(grokked === null ? `test accuracy did not reach ${GROKKED_ACC * 100}% in ${trainer.epoch} epochs` : `test accuracy first ≥ ${GROKKED_ACC * 100}% at epoch ${grokked} (checkpoints every ${every})`);
  // App. D.2: the slingshots of the train loss, by the page's rule.
  const shots = detectSlingshots(history.map((h) => h.epoch), history.map((h) => h.trainLoss), history.map((h) => h.trainAcc));
  log(`slingshots: ${shots.length}${shots.map((x) => ` (epoch ${x.peak}: ${x.peakLoss.toExponential(1)}, ${x.ratio.toExponential(1)}× its running minimum)`).join('')} — rule: ${SLINGSHOT_RULE}`);
  const k = session.currentAnalysis?.keyFreqs;
  const result: TrainResult = {
    config: { ...trainer.config },
    backend: { name: backend.name, adapter: backend.adapter },
    keyFreqs: k ? { version: k.version, active: k.active, live: k.live, pinned: k.pinned } : null,
    history,
  };
  // Each output on its own: one that fails does not stop the others.
  const problems: string[] = [];
  const recordPath = flags.get('record');
  if (recordPath) {
    const bytes = await recordBytes(recordPath, session, result, flags);
    const problem = writeOutput('record', recordPath, bytes.data, log);
    if (problem) problems.push(problem);
    else log(`recorded ${result.history.length} checkpoints and ${bytes.snapshots} snapshots (${bytes.dtype}) to ${recordPath}: ${(bytes.data.length / 1024 / 1024).toFixed(1)} MB`);
  }
  const savePath = flags.get('save');
  if (savePath) {
    const bytes = encodeCheckpoint({ config: trainer.config, weights: await trainer.readWeights(), epoch: (init?.epoch ?? 0) + trainer.epoch, trainIndices: trainer.dataset.train });
    const problem = writeOutput('save', savePath, bytes, log);
    if (problem) problems.push(problem);
    else log(`saved the weights after ${trainer.epoch} epochs to ${savePath}`);
  }
  session.dispose();
  const json = JSON.stringify(result);
  const out = flags.get('out');
  if (out) {
    const problem = writeOutput('out', out, json, log);
    if (problem) problems.push(problem);
    else log(`wrote ${history.length} checkpoints to ${out}`);
  } else {
    process.stdout.write(`${json}\n`);
  }
  if (failure) throw new Error(failure);
  if (problems.length > 0) throw new Error(problems.join('; '));
  return result;
}

/**
 * The whole run (history, snapshots, split, K) as a run file the page can open; `.gz`
 * compresses it. --record-dtype f16 halves the snapshots (for hosting; then no resume state).
 */
async function recordBytes(path: string, session: TrainingSession, result: TrainResult, flags: Map<string, string>): Promise<{ data: Uint8Array; snapshots: number; dtype: string }> {
  const trainer = session.currentTrainer!;
  const analysis = session.currentAnalysis;
  const dtype = (flags.get('record-dtype') ?? 'f32').toUpperCase();
  if (dtype !== 'F32' && dtype !== 'F16') throw new UsageError(`--record-dtype must be f32 or f16, got "${flags.get('record-dtype')}"`);
  const all = analysis ? analysis.snapshots.all() : [];
  const max = intFlag(flags, 'record-snapshots', all.length || 1);
  const keep = new Set(pickRecordedSnapshots(all.map((s) => s.epoch), { max, denseUntil: 2000, denseEvery: 250 }));
  const optimizer = dtype === 'F32' ? await trainer.readOptimizerState() : null;
  const flat = (byName: Record<string, Float32Array>) => {
    const out = new Float32Array(trainer.flatWeightsLength);
    let o = 0;
    for (const name of Object.keys(trainer.paramTensors)) {
      out.set(byName[name], o);
      o += byName[name].length;
    }
    return out;
  };
  const bytes = encodeRun(
    {
      name: flags.get('record-name') ?? `P=${trainer.config.p}, λ=${trainer.config.weightDecay}, seed ${trainer.config.seed}, ${trainer.epoch} epochs`,
      config: { ...trainer.config },
      trainIndices: trainer.dataset.train,
      keyFreqs: analysis?.keyFreqs ?? null,
      history: result.history,
      snapshots: all.filter((s) => keep.has(s.epoch)),
      resume: optimizer ? { t: optimizer.t, weights: flat(await trainer.readWeights()), m: flat(optimizer.m), v: flat(optimizer.v) } : null,
      backend: result.backend,
      createdAt: new Date().toISOString(),
    },
    { snapshotDtype: dtype },
  );
  return { data: path.endsWith('.gz') ? gzipSync(bytes, { level: 9 }) : bytes, snapshots: keep.size, dtype };
}
