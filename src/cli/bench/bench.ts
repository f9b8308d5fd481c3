/**
 * `npm run bench`: times training of a configuration (default: the paper's mainline) on every
 * backend it can run, the fast forward against the general one, and one checkpoint analysis.
 * Node runs wasm and cpu; `--browser` runs the same harness (src/worker/bench/bench.ts) inside the
 * page's worker in headless Chromium, on webgpu, webgl and wasm. Prints a table, or with --json
 * one JSON line per backend.
 */
import type { BackendInfo, BackendName } from '../../config/backends.ts';
import { DEFAULT_CONFIG, type TrainConfig } from '../../config/schema.ts';
import { epochFlops } from '../../model/flops.ts';
import { benchPaths } from '../../model/transformer/forward-path.ts';
import type { BenchResult } from '../../run/protocol.ts';
import { benchTraining } from '../../worker/bench/bench.ts';
import { benchLlc } from './llc.ts';
import { benchEvidence } from './evidence.ts';
import { UsageError, intFlag, type ParsedArgs } from '../node/args.ts';
import { startNodeBackend } from '../node/backends.ts';
import { benchModels } from './models.ts';
import { benchInPage, inBrowser } from './browser.ts';
import { benchFirstVisit, formatFirstVisit } from './first-visit.ts';

export const BENCH_FLAGS = new Set(['backends', 'blocks', 'block-ms', 'json', 'browser', 'no-general', 'no-analysis', 'analysis-only', 'evidence', 'models', 'first-visit', 'llc']);

/** One backend's figures: the fast path's (the default forward), and the general path's beside it. */
export interface BenchLine {
  backend: string;
  adapter: string;
  path: BenchResult['path'];
  msPerEpoch: number;
  epochsPerSec: number;
  epochsTimed: number;
  gflopPerEpoch: number;
  gflops: number;
  analysisMs: number;
  /** tfjs kernels one update runs; GPU dispatches one update records (webgpu only, else null). */
  kernelsPerEpoch: number;
  dispatchesPerEpoch: number | null;
  numTensorsDelta: number;
  blockMsPerEpoch: number[];
  /** The general forward on the same backend in the same run (1-block models), and its ratio. */
  general: { msPerEpoch: number; gflopPerEpoch: number; gflops: number; kernelsPerEpoch: number; numTensorsDelta: number } | null;
  fastSpeedup: number | null;
  /** The run's environment: Node or the browser. */
  host: string;
}

export interface BenchSettings {
  blocks: number;
  targetBlockMs: number;
  general: boolean;
  analysis: boolean;
  /** Only the analysis pass, no training (for backends too slow to train at this size). */
  analysisOnly: boolean;
}

function toLine(backend: BackendInfo, results: BenchResult[], host: string): BenchLine {
  const fast = results[0];
  const general = results.find((r) => r !== fast && r.path === 'general') ?? null;
  return {
    backend: backend.name,
    adapter: backend.adapter,
    path: fast.path,
    msPerEpoch: fast.msPerEpoch,
    epochsPerSec: 1000 / fast.msPerEpoch,
    epochsTimed: fast.epochsTimed,
    gflopPerEpoch: fast.gflopPerEpoch,
    gflops: fast.gflops,
    analysisMs: fast.analysisMs,
    kernelsPerEpoch: fast.kernelsPerEpoch,
    dispatchesPerEpoch: fast.dispatchesPerEpoch,
    numTensorsDelta: fast.numTensorsDelta + (general?.numTensorsDelta ?? 0),
    blockMsPerEpoch: fast.blockMsPerEpoch,
    general: general && { msPerEpoch: general.msPerEpoch, gflopPerEpoch: general.gflopPerEpoch, gflops: general.gflops, kernelsPerEpoch: general.kernelsPerEpoch, numTensorsDelta: general.numTensorsDelta },
    fastSpeedup: general ? general.msPerEpoch / fast.msPerEpoch : null,
    host,
  };
}

function pathsFor(config: TrainConfig, s: BenchSettings): BenchResult['path'][] {
  const paths = benchPaths(config);
  return s.analysisOnly || !s.general ? paths.slice(0, 1) : paths;
}

/** Node: each backend in turn, in this process. */
async function benchNode(config: TrainConfig, backends: BackendName[], s: BenchSettings, report: (l: BenchLine) => void): Promise<void> {
  for (const name of backends) {
    if (name !== 'wasm' && name !== 'cpu') throw new UsageError(`Node runs the wasm and cpu backends; for ${name} use --browser`);
    const info = await startNodeBackend(name);
    const results: BenchResult[] = [];
    for (const path of pathsFor(config, s)) {
      results.push(await benchTraining({ config, path, blocks: s.blocks, targetBlockMs: s.targetBlockMs, analysis: s.analysis && results.length === 0, analysisOnly: s.analysisOnly }));
    }
    report(toLine(info, results, `Node ${process.versions.node}`));
  }
}

/** Chromium: the same harness inside the page's worker, once per backend (browser.ts). */
async function benchBrowser(config: TrainConfig, backends: BackendName[], s: BenchSettings, report: (l: BenchLine) => void, log: (s: string) => void): Promise<void> {
  await inBrowser(backends, log, async (page, backend, version) => {
    const answer = await benchInPage(page, { config, paths: pathsFor(config, s), blocks: s.blocks, targetBlockMs: s.targetBlockMs, analysis: s.analysis, analysisOnly: s.analysisOnly });
    if (answer.results.length === 0) throw new Error(`${backend.name}: no result`);
    report(toLine(answer.backend, answer.results, `Chromium ${version}`));
  });
}

const fmt = (x: number, digits = 1) => (Number.isFinite(x) ? x.toFixed(digits) : '—');

export function formatTable(lines: BenchLine[]): string {
  const header = ['backend', 'path', 'ms/epoch', 'epochs/s', 'GFLOP/epoch', 'GFLOP/s', 'kernels', 'dispatches', 'analysis ms', 'tensors Δ', 'where'];
  const rows: string[][] = [];
  for (const l of lines) {
    rows.push([l.backend, l.path, fmt(l.msPerEpoch), fmt(l.epochsPerSec, 2), fmt(l.gflopPerEpoch, 2), fmt(l.gflops, l.gflops < 1 ? 2 : 1), fmt(l.kernelsPerEpoch, 0), l.dispatchesPerEpoch === null ? '—' : String(l.dispatchesPerEpoch), fmt(l.analysisMs, 0), String(l.numTensorsDelta), l.adapter.includes(l.host) ? l.adapter : `${l.host}, ${l.adapter}`]);
    if (l.general) {
      rows.push(['', 'general', fmt(l.general.msPerEpoch), fmt(1000 / l.general.msPerEpoch, 2), fmt(l.general.gflopPerEpoch, 2), fmt(l.general.gflops, l.general.gflops < 1 ? 2 : 1), fmt(l.general.kernelsPerEpoch, 0), '', '', String(l.general.numTensorsDelta), `fast path ${fmt(l.fastSpeedup ?? NaN, 2)}× faster`]);
    }
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : c.padStart(widths[i]))).join('  ');
  return [line(header), ...rows.map(line)].join('\n');
}

export async function benchCommand(args: ParsedArgs): Promise<BenchLine[]> {
  const { decoded, flags } = args;
  for (const name of flags.keys()) if (!BENCH_FLAGS.has(name)) throw new UsageError(`unknown flag --${name}`);
  if (decoded.issues.length > 0) throw new UsageError(decoded.issues.map((i) => `--${i.key}: ${i.message}`).join('\n'));
  if (decoded.backend) throw new UsageError('choose backends with --backends wasm,cpu (or --browser --backends webgpu,webgl,wasm)');
  const browser = flags.get('browser') === 'true';
  const json = flags.get('json') === 'true';
  const known: BackendName[] = ['webgpu', 'webgl', 'wasm', 'cpu'];
  const backends = (flags.get('backends') ?? (browser ? 'webgpu,webgl,wasm' : 'wasm')).split(',').map((b) => b.trim()) as BackendName[];
  for (const b of backends) if (!known.includes(b)) throw new UsageError(`--backends: unknown backend "${b}" (one of ${known.join(', ')})`);
  const settings: BenchSettings = {
    blocks: intFlag(flags, 'blocks', 5),
    targetBlockMs: intFlag(flags, 'block-ms', 1000),
    general: flags.get('no-general') !== 'true',
    analysis: flags.get('no-analysis') !== 'true',
    analysisOnly: flags.get('analysis-only') === 'true',
  };
  const config = decoded.config;
  if (flags.get('evidence') === 'true') {
    for (const b of backends) {
      const line = await benchEvidence(config, b);
      process.stdout.write(json ? `${JSON.stringify(line)}\n` : `${b}: heavy pass ${fmt(line.heavyMs, 0)} ms, evidence pass ${fmt(line.evidenceMs, 0)} ms (${fmt(line.ratio, 2)}×), with an intervention and an input ${fmt(line.evidenceWithInterventionMs, 0)} ms (${fmt(line.ratioWithIntervention, 2)}×); tensors Δ ${line.numTensorsDelta}\n`);
    }
    return [];
  }
  if (flags.get('llc') === 'true') {
    for (const b of backends) {
      const l = await benchLlc(config, b);
      process.stdout.write(json ? `${JSON.stringify(l)}\n` : `${b}: one LLC estimate with the defaults (${l.draws} draws) ${fmt(l.seconds, 1)} s, ${fmt(l.msPerDraw, 1)} ms a draw; an epoch of training ${fmt(l.msPerEpoch, 0)} ms, so one estimate costs ${fmt(l.epochsPerEstimate, 0)} epochs\n`);
    }
    return [];
  }
  const log = (s: string) => process.stderr.write(`${s}\n`);
  if (flags.get('first-visit') === 'true') {
    const visit = await benchFirstVisit(log);
    process.stdout.write(json ? `${JSON.stringify(visit)}\n` : `${formatFirstVisit(visit)}\n`);
    return [];
  }
  if (flags.has('models')) {
    await benchModels(config, intFlag(flags, 'models', 8), backends, browser, settings, json, log);
    return [];
  }
  log(`grokscope bench: P=${config.p}, ${config.frac * 100}% train (${Math.floor(config.frac * config.p * config.p)} pairs, full batch), d_model ${config.dModel}, ${config.nLayers} block(s); ${settings.analysisOnly ? 'one checkpoint analysis (median of 3)' : `${settings.blocks} blocks of ~${settings.targetBlockMs} ms per path`}`);
  const lines: BenchLine[] = [];
  const report = (l: BenchLine) => {
    lines.push(l);
    if (json) process.stdout.write(`${JSON.stringify(l)}\n`);
  };
  if (browser) await benchBrowser(config, backends, settings, report, log);
  else await benchNode(config, backends, settings, report);
  if (!json && lines.length > 0) {
    process.stdout.write(`${formatTable(lines)}\n`);
    // The issue's target is the paper's mainline, whatever configuration was timed.
    const gflop = epochFlops(DEFAULT_CONFIG).train / 1e9;
    process.stdout.write(
      `\nReading it: ms/epoch is the median of ${settings.blocks} timed blocks of full-batch updates (forward, backward, AdamW).` +
        `\nGFLOP/epoch counts the matrix products from the shapes (src/model/flops.ts); GFLOP/s = achieved.` +
        `\nkernels: tfjs kernels one update runs (tf.profile); dispatches: GPU compute passes it records (webgpu).` +
        `\nThe mainline update is ${fmt(gflop, 2)} GFLOP: grokking it (~10k epochs) in a minute needs ~170 epochs/s, i.e. ${fmt(gflop * 170, 0)} GFLOP/s; 300 epochs/s needs ${fmt(gflop * 300, 0)} GFLOP/s.\n`,
    );
  }
  return lines;
}
