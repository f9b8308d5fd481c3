/**
 * `train --task digits5|repeat|skip3`: the appendix's other tasks (App. D.3, Figs. 29–34), trained
 * headless on a fixed set (`--data N`) or on fresh examples every update (`--data inf`), writing
 * `{task, config, backend, testSet, history}` as JSON. These tasks are not page configurations yet,
 * so their flags are their own (the mainline's names where they mean the same).
 */
import { writeFileSync } from 'node:fs';
import type { BackendName } from '../config/backends.ts';
import { SequenceTrainer, defaultSequenceConfig, type SequenceCheckpoint, type SequenceRunConfig } from '../model/sequence/trainer.ts';
import { SequenceSweepTrainer, type SequenceSweepPoint } from '../model/sequence/batched.ts';
import { SEQUENCE_TASKS, SEQUENCE_TASK_NAMES, isSequenceTask } from '../task/sequence.ts';
import { SEQUENCE_PRESETS, SEQUENCE_PRESET_NAMES, isSequencePreset, type SequencePreset, type SequencePresetName } from '../config/sequence-presets.ts';
import { UsageError } from './node/args.ts';
import { startNodeBackend } from './node/backends.ts';

const VALUE_FLAGS = ['task', 'appendix', 'seeds', 'data', 'epochs', 'every', 'seed', 'lr', 'wd', 'b1', 'b2', 'batch', 'test-size', 'out', 'backend'] as const;

/** A flag's value in raw arguments (`--name X` or `--name=X`), or undefined. */
function rawFlag(argv: string[], name: string): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === `--${name}`) return argv[i + 1] ?? '';
    if (a.startsWith(`--${name}=`)) return a.slice(name.length + 3);
  }
  return undefined;
}

/**
 * The appendix task that raw arguments name — by `--task X`, or by `--appendix RUN` (a run of
 * config/sequence-presets.ts, as the page's `appendix=` key; an unknown run is named by the flags' check) — or null.
 */
export function sequenceTaskOf(argv: string[]): string | null {
  const task = rawFlag(argv, 'task');
  if (task !== undefined) return isSequenceTask(task) ? task : null;
  const run = rawFlag(argv, 'appendix');
  if (run === undefined) return null;
  return isSequencePreset(run) ? SEQUENCE_PRESETS[run].task : run;
}

function parseFlags(argv: string[]): Map<string, string> {
  const flags = new Map<string, string>();
  for (let i = 1; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) throw new UsageError(`train --task ${SEQUENCE_TASK_NAMES.join('|')} takes only flags, got "${arg}"`);
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    if (name === 'quiet') {
      flags.set(name, 'true');
      continue;
    }
    if (!(VALUE_FLAGS as readonly string[]).includes(name)) {
      throw new UsageError(`--${name} does not apply to the sequence tasks; their flags: ${VALUE_FLAGS.map((f) => `--${f}`).join(' ')} --quiet`);
    }
    if (eq >= 0) flags.set(name, arg.slice(eq + 1));
    else if (i + 1 < argv.length) flags.set(name, argv[++i]);
    else throw new UsageError(`--${name} needs a value`);
  }
  return flags;
}

function numberFlag(flags: Map<string, string>, name: string, fallback: number, check: (v: number) => boolean, what: string): number {
  const raw = flags.get(name);
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(v) || !check(v)) throw new UsageError(`--${name} must be ${what}, got "${raw}"`);
  return v;
}

const whole = (min: number) => (v: number) => Number.isInteger(v) && v >= min;

export function sequenceConfigFromFlags(flags: Map<string, string>): SequenceRunConfig & { epochs: number; every: number } {
  // --appendix RUN: the page's run of Figs. 29–34 (its task, data, epochs and cadence; other flags win).
  const runName = flags.get('appendix');
  if (runName !== undefined && !isSequencePreset(runName)) throw new UsageError(`--appendix ${runName} is not one of ${SEQUENCE_PRESET_NAMES.join(', ')}`);
  const run: SequencePreset | null = runName !== undefined ? SEQUENCE_PRESETS[runName as SequencePresetName] : null;
  const task = flags.get('task') ?? run!.task;
  if (!isSequenceTask(task)) throw new UsageError(`--task ${task} is not one of ${SEQUENCE_TASK_NAMES.join(', ')}`);
  if (run && run.task !== task) throw new UsageError(`--appendix ${runName} is a run of ${run.task}, not of --task ${task}`);
  const base = defaultSequenceConfig(task);
  const rawData = flags.get('data');
  const data = rawData === 'inf' ? Infinity : numberFlag(flags, 'data', run?.data ?? base.data, whole(1), 'a whole number of examples ≥ 1, or inf');
  const epochs = numberFlag(flags, 'epochs', run?.epochs ?? 1000, whole(1), 'a whole number ≥ 1');
  const every = numberFlag(flags, 'every', run?.every ?? Math.max(1, Math.round(epochs / 50)), whole(1), 'a whole number ≥ 1');
  return {
    ...base,
    data,
    epochs,
    every,
    seed: numberFlag(flags, 'seed', base.seed, whole(0), 'a whole number ≥ 0'),
    lr: numberFlag(flags, 'lr', base.lr, (v) => v > 0, 'a positive number'),
    weightDecay: numberFlag(flags, 'wd', base.weightDecay, (v) => v >= 0, 'a number ≥ 0'),
    beta1: numberFlag(flags, 'b1', base.beta1, (v) => v >= 0 && v < 1, 'in [0, 1)'),
    beta2: numberFlag(flags, 'b2', base.beta2, (v) => v >= 0 && v < 1, 'in [0, 1)'),
    batch: numberFlag(flags, 'batch', base.batch, whole(0), 'a whole number ≥ 0 (0: the whole set)'),
    testSize: numberFlag(flags, 'test-size', base.testSize, whole(1), 'a whole number ≥ 1'),
  };
}

export interface SequenceTrainResult {
  task: string;
  config: Omit<SequenceRunConfig, 'data'> & { data: number | 'inf'; epochs: number };
  backend: { name: string; adapter: string };
  /** How the test set is made: `size` fresh examples from the seed's 'sequence-test' stream. */
  testSet: { size: number; seed: number };
  paper: string;
  history: SequenceCheckpoint[];
}

export async function sequenceTrainCommand(argv: string[]): Promise<SequenceTrainResult> {
  const flags = parseFlags(argv);
  if (flags.has('seeds') || flags.get('data')?.includes(',')) throw new UsageError('several seeds or data sizes are a sweep: npm run cli -- sweep --task T --seeds 0,1,2 --data 64,512');
  const { epochs, every, ...config } = sequenceConfigFromFlags(flags);
  const backend = await startNodeBackend((flags.get('backend') as BackendName | undefined) ?? 'wasm');
  const quiet = flags.has('quiet');
  const trainer = new SequenceTrainer(config);
  const history: SequenceCheckpoint[] = [trainer.measure()];
  const log = (cp: SequenceCheckpoint) => {
    if (quiet) return;
    const extra = cp.perTokenLoss ? ` per-digit loss ${cp.perTokenLoss.map((x) => x.toFixed(3)).join(' ')}` : cp.inductionScore ? ` induction ${cp.inductionScore.map((l) => Math.max(...l).toFixed(2)).join('/')} (best head per layer)` : '';
    process.stderr.write(`epoch ${cp.epoch}: train ${cp.trainLoss.toFixed(4)} test ${cp.testLoss.toFixed(4)} acc ${(cp.testAcc * 100).toFixed(1)}%${extra}\n`);
  };
  log(history[0]);
  try {
    while (trainer.epoch < epochs) {
      trainer.trainEpoch();
      if (trainer.epoch % every === 0 || trainer.epoch === epochs) {
        const cp = trainer.measure();
        history.push(cp);
        log(cp);
        if (!Number.isFinite(cp.trainLoss)) throw new Error(`the loss is ${cp.trainLoss} at epoch ${cp.epoch}: lower --lr`);
      }
    }
  } finally {
    trainer.dispose();
  }
  const result: SequenceTrainResult = {
    task: config.task,
    config: { ...config, data: Number.isFinite(config.data) ? config.data : 'inf', epochs },
    backend: { name: backend.name, adapter: backend.adapter },
    testSet: { size: config.testSize, seed: config.seed },
    paper: SEQUENCE_TASKS[config.task].paper,
    history,
  };
  const out = flags.get('out');
  if (out) writeFileSync(out, `${JSON.stringify(result)}\n`);
  else process.stdout.write(`${JSON.stringify(result)}\n`);
  return result;
}

export interface SequenceSweepResult {
  task: string;
  config: Omit<SequenceRunConfig, 'data' | 'seed'> & { epochs: number };
  backend: { name: string; adapter: string };
  /** How the runs trained (model/sequence/batched.ts): stacked in one update (a GPU), or one by one (the CPU). */
  layout: 'stacked' | 'one by one';
  paper: string;
  /** Each run's history; its test set is `testSize` fresh examples of its seed. */
  runs: { seed: number; data: number | 'inf'; history: SequenceCheckpoint[] }[];
}

/** A comma list of whole numbers (or `inf` where allowed), each checked. */
function listFlag(raw: string, name: string, min: number, inf: boolean): number[] {
  return raw.split(',').map((x) => {
    const t = x.trim();
    if (inf && t === 'inf') return Infinity;
    const v = Number(t);
    if (t === '' || !Number.isInteger(v) || v < min) throw new UsageError(`--${name} must list whole numbers ≥ ${min}${inf ? ' or inf' : ''}, got "${raw}"`);
    return v;
  });
}

/** The first epoch a curve is below 0.01, for the sweep's summary (grokking: the test one long after the train one). */
const firstBelow = (h: SequenceCheckpoint[], key: 'trainLoss' | 'testLoss') => h.find((c) => c[key] < 0.01)?.epoch ?? null;

/** `sweep --task T --seeds 0,1,2 --data 64,128,512`: every seed × data size, trained batched. */
export async function sequenceSweepCommand(argv: string[]): Promise<SequenceSweepResult> {
  const flags = parseFlags(argv);
  const single = new Map(flags);
  single.delete('seeds');
  const dataRaw = flags.get('data');
  if (dataRaw !== undefined) single.set('data', dataRaw.split(',')[0].trim());
  const { epochs, every, ...config } = sequenceConfigFromFlags(single);
  const seeds = flags.has('seeds') ? listFlag(flags.get('seeds')!, 'seeds', 0, false) : [config.seed];
  const data = dataRaw !== undefined ? listFlag(dataRaw, 'data', 1, true) : [config.data];
  const points: SequenceSweepPoint[] = seeds.flatMap((seed) => data.map((d) => ({ seed, data: d })));
  const backend = await startNodeBackend((flags.get('backend') as BackendName | undefined) ?? 'wasm');
  const quiet = flags.has('quiet');
  let trainer: SequenceSweepTrainer;
  try {
    trainer = new SequenceSweepTrainer(config, points);
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  const histories: SequenceCheckpoint[][] = points.map(() => []);
  const name = (p: SequenceSweepPoint) => `seed ${p.seed} data ${Number.isFinite(p.data) ? p.data : 'inf'}`;
  const take = () => {
    const cps = trainer.measure();
    cps.forEach((cp, i) => histories[i].push(cp));
    if (!quiet) process.stderr.write(`epoch ${trainer.epoch}: ${cps.map((cp, i) => `${name(points[i])}: train ${cp.trainLoss.toFixed(4)} test ${cp.testLoss.toFixed(4)} acc ${(cp.testAcc * 100).toFixed(1)}%`).join(' | ')}\n`);
    const bad = cps.findIndex((cp) => !Number.isFinite(cp.trainLoss));
    if (bad >= 0) throw new Error(`the loss of ${name(points[bad])} is ${cps[bad].trainLoss} at epoch ${trainer.epoch}: lower --lr`);
  };
  try {
    take();
    while (trainer.epoch < epochs) {
      trainer.trainEpoch();
      if (trainer.epoch % every === 0 || trainer.epoch === epochs) take();
    }
  } finally {
    trainer.dispose();
  }
  if (!quiet) process.stderr.write(`${points.length} runs trained ${trainer.layout} on ${backend.name}\n`);
  if (!quiet) for (const [i, p] of points.entries()) process.stderr.write(`${name(p)}: train loss < 0.01 from epoch ${firstBelow(histories[i], 'trainLoss') ?? '–'}, test loss from ${firstBelow(histories[i], 'testLoss') ?? '–'}\n`);
  const { seed: _seed, data: _data, ...base } = config;
  const result: SequenceSweepResult = {
    task: config.task,
    config: { ...base, epochs },
    backend: { name: backend.name, adapter: backend.adapter },
    layout: trainer.layout,
    paper: SEQUENCE_TASKS[config.task].paper,
    runs: points.map((p, i) => ({ seed: p.seed, data: Number.isFinite(p.data) ? p.data : 'inf', history: histories[i] })),
  };
  const out = flags.get('out');
  if (out) writeFileSync(out, `${JSON.stringify(result)}\n`);
  else process.stdout.write(`${JSON.stringify(result)}\n`);
  return result;
}
