/**
 * The benchmark harness, on whatever tfjs backend is active: the same code times Node (wasm, cpu;
 * `npm run bench`) and the browser's worker (webgpu, webgl, wasm; `npm run bench -- --browser`).
 *
 * A measurement: build the trainer, warm up (shader compilation, XNNPACK packing), calibrate the
 * block length to `targetBlockMs`, then time `blocks` blocks of back-to-back updates, each ended
 * by one read of the loss (which waits for the GPU). ms/epoch is the median block's.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { TrainConfig } from '../../config/schema.ts';
import { epochFlops } from '../../model/flops.ts';
import { Trainer, type ForwardPath } from '../../model/trainer.ts';
import type { BenchResult } from '../../run/protocol.ts';
import { RunAnalysis } from '../analysis/run-analysis.ts';

export interface BenchOptions {
  config: TrainConfig;
  path: ForwardPath;
  /** Timed blocks (the median is reported); at least 5 by default. */
  blocks?: number;
  /** Updates before timing starts. */
  warmupEpochs?: number;
  /** How long a block should take; its number of updates is calibrated to it. */
  targetBlockMs?: number;
  /** Also time one full checkpoint analysis (evaluation, §5 measures, heavy views). */
  analysis?: boolean;
  /** Time only the analysis (of the initial weights): for backends too slow to train at this size. */
  analysisOnly?: boolean;
  now?: () => number;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/**
 * GPU compute dispatches `run` records (counted by wrapping GPUComputePassEncoder.dispatchWorkgroups
 * while it records and flushes), or null off WebGPU.
 */
export async function countDispatches(run: () => Promise<void>): Promise<number | null> {
  type Encoder = { dispatchWorkgroups(...args: unknown[]): void };
  const proto = (globalThis as unknown as { GPUComputePassEncoder?: { prototype: Encoder } }).GPUComputePassEncoder?.prototype;
  if (tf.getBackend() !== 'webgpu' || proto === undefined) {
    await run();
    return null;
  }
  const original = proto.dispatchWorkgroups;
  let dispatches = 0;
  proto.dispatchWorkgroups = function (this: Encoder, ...args: unknown[]) {
    dispatches++;
    return original.apply(this, args);
  };
  try {
    await run();
    return dispatches;
  } finally {
    proto.dispatchWorkgroups = original;
  }
}

/**
 * The work of one update: tfjs kernels (tf.profile) and, on WebGPU, compute dispatches. Identity
 * is left out: tfjs runs it to keep a reference to a tensor (an input its autodiff saves, a
 * clone), which copies nothing, and how many it runs depends on which ops a backend's kernels
 * are (wasm's own last-axis copies save nothing; tf.concat saves its inputs).
 */
async function countWork(trainer: Trainer): Promise<{ kernels: number; dispatches: number | null }> {
  let kernels = NaN;
  const dispatches = await countDispatches(async () => {
    const profile = await tf.profile(() => {
      trainer.trainStep();
    });
    await sync(trainer);
    kernels = profile.kernels.filter((k) => k.name !== 'Identity').length;
  });
  return { kernels, dispatches };
}

/** Waits for every queued update: one small read. */
async function sync(trainer: Trainer): Promise<void> {
  await trainer.lastTrainLoss?.data();
}

export async function benchTraining(opts: BenchOptions): Promise<BenchResult> {
  const now = opts.now ?? (() => performance.now());
  const blocks = opts.analysisOnly ? 0 : Math.max(1, opts.blocks ?? 5);
  const before = tf.memory().numTensors;
  const trainer = new Trainer(opts.config, { forward: opts.path });
  let analysisMs = NaN;
  let epochsPerBlock = 0;
  let work: { kernels: number; dispatches: number | null } = { kernels: NaN, dispatches: null };
  const blockMsPerEpoch: number[] = [];
  try {
    if (blocks > 0) {
      // Warm up: the first updates compile shaders and pack weights; slow backends get fewer.
      const warmStart = now();
      for (let i = 0; i < (opts.warmupEpochs ?? 3) && (i === 0 || now() - warmStart < 5000); i++) {
        trainer.trainStep();
        await sync(trainer);
      }
      work = await countWork(trainer);
      // Calibrate: one timed update says how many make a block.
      let t = now();
      trainer.trainStep();
      await sync(trainer);
      const single = Math.max(now() - t, 0.01);
      epochsPerBlock = Math.min(1000, Math.max(1, Math.round((opts.targetBlockMs ?? 1000) / single)));
      for (let b = 0; b < blocks; b++) {
        t = now();
        for (let e = 0; e < epochsPerBlock; e++) trainer.trainStep();
        await sync(trainer);
        blockMsPerEpoch.push((now() - t) / epochsPerBlock);
      }
    }
    if (opts.analysis || opts.analysisOnly) analysisMs = await benchAnalysis(trainer, now);
  } finally {
    trainer.dispose();
  }
  const msPerEpoch = blocks > 0 ? median(blockMsPerEpoch) : NaN;
  const gflopPerEpoch = epochFlops(opts.config, opts.path).train / 1e9;
  return {
    backend: tf.getBackend(),
    path: opts.path,
    msPerEpoch,
    blockMsPerEpoch,
    epochsPerBlock,
    epochsTimed: blocks * epochsPerBlock,
    gflopPerEpoch,
    gflops: gflopPerEpoch / (msPerEpoch / 1000),
    analysisMs,
    kernelsPerEpoch: work.kernels,
    dispatchesPerEpoch: work.dispatches,
    numTensorsDelta: tf.memory().numTensors - before,
  };
}

/** Median of 3 full checkpoint analyses after one warm-up pass, read back as the session does. */
async function benchAnalysis(trainer: Trainer, now: () => number): Promise<number> {
  const analysis = new RunAnalysis(trainer, { snapshotBudgetBytes: 0 });
  const times: number[] = [];
  try {
    for (let i = 0; i < 4; i++) {
      const t = now();
      const prepared = analysis.prepareCheckpoint({ heavy: true, hyper: { lr: trainer.config.lr, weightDecay: trainer.config.weightDecay } });
      const values = (await prepared.tensor.data()) as Float32Array;
      prepared.tensor.dispose();
      prepared.finish(values);
      if (i > 0) times.push(now() - t);
    }
  } finally {
    analysis.dispose();
  }
  return median(times);
}
