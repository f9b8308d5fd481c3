/**
 * `sweep`: a base configuration (any train flags) plus one or two varied keys, trained batched
 * (runs of one shape train together) and written as `DIR/sweep.json` = `{"runs": [{"config",
 * "file"}, …]}` with each run's JSON as `train --out` writes it (`--record`: also its run file).
 * `--shard I/N` trains the I-th of N disjoint slices; I and N default to a Kubernetes Indexed Job's
 * JOB_COMPLETION_INDEX / JOB_COMPLETIONS or a Slurm array's SLURM_ARRAY_TASK_ID /
 * SLURM_ARRAY_TASK_COUNT, so one image runs a large sweep on a cluster. Shards share DIR: each
 * writes only its own runs' files and rebuilds sweep.json from every finished run under a lock.
 *
 * `merge DIR --out FILE`: packs a sweep (sweep.json and every run's JSON) into one file.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync, openSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { grokEpoch } from '../analysis/phases.ts';
import { CONFIG_KEYS, FIELDS, type TrainConfig } from '../config/schema.ts';
import { decodeSweep, describePoint, encodeSweep, expandSweep, noGrokAdvice, shardPoints, type SweepPoint, type SweepSpec } from '../config/sweep.ts';
import { SHAPE_KEYS } from '../model/batched/batched-trainer.ts';
import { largestBatch } from '../model/batched/memory.ts';
import { CPU_LIMITS } from '../model/memory.ts';
import { encodeRun } from '../files/run-file.ts';
import { trainBatch, type BatchRunResult } from '../worker/sweep/runner.ts';
import { UsageError, intFlag, type ParsedArgs } from './node/args.ts';
import { startNodeBackend } from './node/backends.ts';
import { CLI_SNAPSHOT_BUDGET_BYTES, type TrainResult } from './train.ts';
import { LLC_FLAGS, llcFields, parseLlcFlags } from './llc.ts';
import { Trainer } from '../model/trainer.ts';
import { unflattenWeights } from '../model/transformer/params.ts';

/** A sweep's run file: `train`'s result, plus the final weights' LLC under --llc. */
type SweepRunResult = TrainResult & { llc?: Awaited<ReturnType<typeof llcFields>>['llc'] };

/** --llc: the LLC of a run's final weights (its resume state), on its own split. */
async function finalLlc(r: BatchRunResult, settings: NonNullable<ReturnType<typeof parseLlcFlags>>): Promise<SweepRunResult['llc']> {
  const trainer = new Trainer(r.config, { weights: unflattenWeights(r.config, r.state.weights), trainIndices: r.trainIndices });
  try {
    return (await llcFields(trainer, settings)).llc;
  } finally {
    trainer.dispose();
  }
}

export const SWEEP_FLAGS = new Set<string>(['vary', 'every', 'out', 'shard', 'batch', 'record', 'quiet', ...LLC_FLAGS]);

/** Pulls every `--vary X` / `--vary=X` out of argv (the flag may repeat). */
export function extractVary(argv: string[]): { rest: string[]; vary: string[] } {
  const rest: string[] = [];
  const vary: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--vary') {
      if (i + 1 >= argv.length) throw new UsageError('--vary needs KEY=V1,V2,…');
      vary.push(argv[++i]);
    } else if (argv[i].startsWith('--vary=')) vary.push(argv[i].slice('--vary='.length));
    else rest.push(argv[i]);
  }
  return { rest, vary };
}

/** `--shard I/N`, else the cluster scheduler's array index, else the whole sweep (0/1). */
export function resolveShard(flag: string | undefined, env: NodeJS.ProcessEnv): { shard: number; shards: number; source: string } {
  const parse = (i: string, n: string, source: string) => {
    const [si, sn] = [Number(i), Number(n)];
    if (!/^\d+$/.test(i.trim()) || !/^\d+$/.test(n.trim()) || sn < 1 || si >= sn) throw new UsageError(`${source}: shard ${i} of ${n} is not an index in [0, ${n})`);
    return { shard: si, shards: sn, source };
  };
  if (flag !== undefined) {
    const m = /^(\d+)\/(\d+)$/.exec(flag.trim());
    if (!m) throw new UsageError(`--shard must be I/N (0-based, e.g. 0/4), got "${flag}"`);
    return parse(m[1], m[2], '--shard');
  }
  if (env.JOB_COMPLETION_INDEX !== undefined && env.JOB_COMPLETIONS !== undefined) return parse(env.JOB_COMPLETION_INDEX, env.JOB_COMPLETIONS, 'JOB_COMPLETION_INDEX/JOB_COMPLETIONS');
  if (env.SLURM_ARRAY_TASK_ID !== undefined && env.SLURM_ARRAY_TASK_COUNT !== undefined) {
    // Slurm arrays may start anywhere (--array=1-8): count from the array's first index.
    const min = Number(env.SLURM_ARRAY_TASK_MIN ?? 0);
    return parse(String(Number(env.SLURM_ARRAY_TASK_ID) - min), env.SLURM_ARRAY_TASK_COUNT, 'SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT');
  }
  return { shard: 0, shards: 1, source: 'the whole sweep' };
}

export interface SweepIndex {
  sweep: string;
  base: TrainConfig;
  /** Checkpoint interval of every run (--every); older directories lack it. */
  every?: number;
  runs: { config: TrainConfig; file: string; record?: string; index: number; point: string }[];
}

const runFile = (index: number) => `runs/run-${String(index).padStart(4, '0')}.json`;
const recordFile = (index: number) => `runs/run-${String(index).padStart(4, '0')}.grokrun.gz`;

/** Runs to train together: same shape, in sweep order, at most `batch` a group. */
function groupByShape(points: SweepPoint[], batch: number): SweepPoint[][] {
  const groups = new Map<string, SweepPoint[]>();
  for (const p of points) {
    const key = SHAPE_KEYS.map((k) => p.config[k]).join('|');
    groups.set(key, [...(groups.get(key) ?? []), p]);
  }
  const out: SweepPoint[][] = [];
  for (const g of groups.values()) for (let i = 0; i < g.length; i += batch) out.push(g.slice(i, i + batch));
  return out;
}

/** Holds DIR/sweep.lock (O_EXCL, works across processes and on shared filesystems) while `fn` runs. */
async function withLock<T>(dir: string, fn: () => T): Promise<T> {
  const lock = join(dir, 'sweep.lock');
  for (let tries = 0; ; tries++) {
    try {
      closeSync(openSync(lock, 'wx'));
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      // A lock older than a minute belongs to a process that died holding it.
      try {
        if (Date.now() - statSync(lock).mtimeMs > 60_000) rmSync(lock, { force: true });
      } catch {
        /* gone meanwhile */
      }
      if (tries > 6000) throw new Error(`${lock} stays locked; remove it if no sweep is writing`);
      await new Promise((r) => setTimeout(r, 20 + Math.random() * 30));
    }
  }
  try {
    return fn();
  } finally {
    rmSync(lock, { force: true });
  }
}

/** Rebuilds sweep.json from every finished run file in DIR (whichever shard wrote it). */
export function rebuildIndex(dir: string, sweep: string, base: TrainConfig, points: SweepPoint[], spec: SweepSpec, every?: number): SweepIndex {
  const runs: SweepIndex['runs'] = [];
  for (const p of points) {
    if (!existsSync(join(dir, runFile(p.index)))) continue;
    const entry: SweepIndex['runs'][number] = { config: p.config, file: runFile(p.index), index: p.index, point: describePoint(spec, p.at) };
    if (existsSync(join(dir, recordFile(p.index)))) entry.record = recordFile(p.index);
    runs.push(entry);
  }
  const index: SweepIndex = { sweep, base, ...(every !== undefined ? { every } : {}), runs };
  const tmp = join(dir, `sweep.json.${process.pid}.tmp`);
  writeFileSync(tmp, JSON.stringify(index, null, 1));
  renameSync(tmp, join(dir, 'sweep.json'));
  return index;
}

/** What differs between a directory's sweep and this shard's, naming the flag; null when they are the same. */
export function sameSweep(prior: Partial<SweepIndex>, sweep: string, base: TrainConfig, every: number): string | null {
  if (prior.sweep !== undefined && prior.sweep !== sweep) return `another sweep (${prior.sweep}; this shard's is ${sweep})`;
  for (const k of CONFIG_KEYS) {
    const there = prior.base?.[k];
    if (there !== undefined && there !== base[k]) return `a sweep whose base has --${FIELDS[k].key} ${String(there)} (this shard's is --${FIELDS[k].key} ${String(base[k])})`;
  }
  if (prior.every !== undefined && prior.every !== every) return `a sweep checkpointed every ${prior.every} epochs (this shard's is --every ${every})`;
  return null;
}

function writeAtomic(path: string, data: string | Uint8Array): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

export async function sweepCommand(args: ParsedArgs, vary: string[]): Promise<SweepIndex> {
  const { decoded, flags } = args;
  for (const name of flags.keys()) if (!SWEEP_FLAGS.has(name)) throw new UsageError(`unknown flag --${name}`);
  if (decoded.issues.length > 0) throw new UsageError(decoded.issues.map((i) => `--${i.key}: ${i.message}`).join('\n'));
  const sweepFlag = new URLSearchParams(args.query).get('sweep');
  const text = [...vary, ...(sweepFlag ? [sweepFlag] : [])].join(';');
  if (text === '') throw new UsageError('sweep needs --vary KEY=V1,V2,… (once or twice)');
  const { spec, issues } = decodeSweep(text);
  if (!spec) throw new UsageError(issues.map((i) => i.message).join('\n'));
  const base = decoded.config;
  const expanded = expandSweep(base, spec);
  if (expanded.issues.length > 0) throw new UsageError(expanded.issues.map((i) => i.message).join('\n'));
  const dir = flags.get('out');
  if (!dir) throw new UsageError('sweep needs --out DIR');
  const every = intFlag(flags, 'every', Math.max(1, Math.round(base.epochs / 100)));
  const { shard, shards, source } = resolveShard(flags.get('shard'), process.env);
  const quiet = flags.get('quiet') === 'true';
  const log = (s: string) => {
    if (!quiet) process.stderr.write(`${s}\n`);
  };
  const sweepText = encodeSweep(spec);
  mkdirSync(join(dir, 'runs'), { recursive: true });
  // Shards share DIR: the first writes the sweep's base, every later one must train the same sweep
  // on the same base (a shard run with other flags would merge runs that are not what sweep.json says).
  await withLock(dir, () => {
    const existing = join(dir, 'sweep.json');
    if (!existsSync(existing)) return rebuildIndex(dir, sweepText, base, expanded.points, spec, every);
    let prior: Partial<SweepIndex>;
    try {
      prior = JSON.parse(readFileSync(existing, 'utf8')) as Partial<SweepIndex>;
    } catch (err) {
      throw new UsageError(`${existing} cannot be read (${err instanceof Error ? err.message : String(err)}); choose another --out`);
    }
    const problem = sameSweep(prior, sweepText, base, every);
    if (problem) throw new UsageError(`${dir} holds ${problem}; run this shard with the same flags, or choose another --out`);
    return null;
  });
  const backend = await startNodeBackend(decoded.backend);
  const mine = shardPoints(expanded.points, shard, shards);
  const limits = backend.name === 'wasm' || backend.name === 'cpu' ? CPU_LIMITS[backend.name] : null;
  const llc = parseLlcFlags(flags);
  const wanted = intFlag(flags, 'batch', 8);
  const fits = limits ? largestBatch(base, wanted, limits) : wanted;
  if (fits === 0) throw new UsageError(`one model of this configuration does not fit ${backend.name}`);
  log(`grokscope sweep ${sweepText}: ${expanded.points.length} runs, shard ${shard}/${shards} (${source}) trains ${mine.length}; ${base.epochs} epochs, checkpoints every ${every}, on ${backend.name}`);
  const groups = groupByShape(mine, fits);
  const stop = { now: false };
  const interrupt = () => {
    log('\ninterrupted: stopping after the current checkpoint and writing what was trained');
    stop.now = true;
  };
  process.once('SIGINT', interrupt);
  let index: SweepIndex = { sweep: sweepText, base, runs: [] };
  // A sweep that grokked nothing says so, and what usually helps (as the page does).
  let anyTrained = false;
  let anyGrokked = false;
  try {
    for (const [g, group] of groups.entries()) {
      const t0 = performance.now();
      const results = await trainBatch(
        group.map((p) => p.config),
        {
          epochs: base.epochs,
          every,
          snapshotBudgetBytes: CLI_SNAPSHOT_BUDGET_BYTES / group.length,
          stopped: () => stop.now,
          onCheckpoint: (epoch) => {
            const s = (performance.now() - t0) / 1000;
            log(`batch ${g + 1}/${groups.length} (${group.length} runs): epoch ${epoch}/${base.epochs}, ${((group.length * epoch) / Math.max(s, 1e-3)).toFixed(1)} models·epochs/s`);
          },
        },
      );
      const llcs: SweepRunResult['llc'][] = [];
      if (llc) for (const [k, p] of group.entries()) {
        log(`  LLC of ${describePoint(spec, p.at)} (final weights)…`);
        llcs[k] = await finalLlc(results[k], llc);
      }
      for (const [k, p] of group.entries()) writeRun(dir, p, results[k], backend, flags.get('record') === 'true', spec, llcs[k]);
      index = await withLock(dir, () => rebuildIndex(dir, sweepText, base, expanded.points, spec, every));
      for (const [k, p] of group.entries()) {
        const h = results[k].history;
        const grok = grokEpoch(h.map((x) => x.epoch), h.map((x) => x.testAcc));
        anyTrained = true;
        if (grok !== null) anyGrokked = true;
        const est = llcs[k];
        const llcText = est ? `, LLC ${est.llc.toPrecision(4)} ± ${est.error.toPrecision(2)} (${est.settled ? 'settled' : 'not settled: the chains\' loss still drifts'})` : '';
        log(`  ${describePoint(spec, p.at)}: test acc ${(h.at(-1)!.testAcc * 100).toFixed(1)}%, ${grok === null ? 'did not reach 99%' : `99% at epoch ${grok}`}${llcText}`);
      }
      if (stop.now) break;
    }
  } finally {
    process.off('SIGINT', interrupt);
  }
  log(`${dir}/sweep.json lists ${index.runs.length} of ${expanded.points.length} runs`);
  if (anyTrained && !anyGrokked) log(noGrokAdvice([null], base.epochs)!);
  return index;
}

function writeRun(dir: string, p: SweepPoint, r: BatchRunResult, backend: { name: string; adapter: string }, record: boolean, spec: SweepSpec, llc?: SweepRunResult['llc']): void {
  const k = r.keyFreqs;
  const result: SweepRunResult = {
    config: r.config,
    backend: { name: backend.name, adapter: backend.adapter },
    keyFreqs: { version: k.version, active: k.active, live: k.live, pinned: k.pinned },
    history: r.history,
    ...(llc ? { llc } : {}),
  };
  if (record) {
    const bytes = encodeRun({
      name: `sweep ${describePoint(spec, p.at)}`,
      config: r.config,
      trainIndices: r.trainIndices,
      keyFreqs: r.keyFreqs,
      history: r.history,
      snapshots: r.snapshots,
      resume: r.state,
      backend: result.backend,
      createdAt: new Date().toISOString(),
    });
    writeAtomic(join(dir, recordFile(p.index)), gzipSync(bytes));
  }
  // The JSON last: its presence marks the run finished.
  writeAtomic(join(dir, runFile(p.index)), JSON.stringify(result));
}

/** The packed sweep: its index and every finished run's `train` JSON. */
export interface PackedSweep {
  format: 'grokscope-sweep/1';
  sweep: string;
  base: TrainConfig;
  runs: (SweepIndex['runs'][number] & { result: TrainResult })[];
}

export function mergeCommand(args: ParsedArgs): PackedSweep {
  const dir = args.positional[0];
  if (!dir) throw new UsageError('merge needs the sweep directory: merge DIR --out FILE');
  for (const name of args.flags.keys()) if (name !== 'out' && name !== 'quiet') throw new UsageError(`unknown flag --${name}`);
  const out = args.flags.get('out');
  if (!out) throw new UsageError('merge needs --out FILE');
  let index: SweepIndex;
  try {
    index = JSON.parse(readFileSync(join(dir, 'sweep.json'), 'utf8')) as SweepIndex;
  } catch (err) {
    throw new UsageError(`cannot read ${join(dir, 'sweep.json')}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const runs = index.runs.map((r) => {
    const path = join(dir, r.file);
    try {
      return { ...r, result: JSON.parse(readFileSync(path, 'utf8')) as TrainResult };
    } catch (err) {
      // A run file cut short (a full disk, a killed copy): say which, and what it says.
      throw new UsageError(`cannot read ${path} (run ${r.index}, ${r.point}): ${err instanceof Error ? err.message : String(err)}; train that run again (sweep --shard …) or remove it from ${join(dir, 'sweep.json')}`);
    }
  });
  const extra = readdirSync(join(dir, 'runs')).filter((f) => f.endsWith('.json')).length - runs.length;
  if (extra > 0 && args.flags.get('quiet') !== 'true') process.stderr.write(`note: ${extra} run file(s) in ${dir}/runs are not in sweep.json yet (a shard still writing?)\n`);
  const packed: PackedSweep = { format: 'grokscope-sweep/1', sweep: index.sweep, base: index.base, runs };
  const json = JSON.stringify(packed);
  writeFileSync(out, out.endsWith('.gz') ? gzipSync(json) : json);
  if (args.flags.get('quiet') !== 'true') process.stderr.write(`packed ${runs.length} runs of ${index.sweep} into ${out}\n`);
  return packed;
}

