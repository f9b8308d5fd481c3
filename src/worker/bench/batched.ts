/**
 * Throughput of batched training (src/model/batched): N models of one shape in one batched update
 * against the same N models trained one after another, in models·epochs/s, measured in the same
 * run with the blocks interleaved (batched, then each single model, round after round), so that a
 * noisy shared machine slows both alike. The ratio is the speed-up a sweep gets from batching.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { TrainConfig } from '../../config/schema.ts';
import { BatchedTrainer } from '../../model/batched/batched-trainer.ts';
import { Trainer } from '../../model/trainer.ts';
import type { BatchedBenchResult } from '../../run/protocol.ts';
import { countDispatches, median } from './bench.ts';

export interface BatchedBenchOptions {
  configs: TrainConfig[];
  /** Timed rounds (each: one batched block, then one block of every single model). */
  rounds?: number;
  /** Target duration of one single model's block; the batched block runs as many updates (of all N). */
  targetBlockMs?: number;
  now?: () => number;
}

/** The kernels of a matrix product (batched per model on wasm: wasm-products.ts). */
const PRODUCT_KERNELS = new Set(['BatchMatMul', '_FusedMatMul', 'GrokscopePerModelMatMul']);

/**
 * The time the matrix products of one batched update take (the sum of their kernels' times in
 * tf.profile, median of 3 updates), on the CPU backends, where a kernel's time is its wall time;
 * null on GPUs. N single runs take N times the products' work, so were everything else in the
 * batched update free, it would still be at most sequential / this faster (the `ceiling`).
 */
async function productTime(batched: BatchedTrainer): Promise<number | null> {
  if (tf.getBackend() !== 'wasm' && tf.getBackend() !== 'cpu') return null;
  const times: number[] = [];
  for (let r = 0; r < 3; r++) {
    const profile = await tf.profile(() => {
      batched.trainStep();
    });
    let ms = 0;
    for (const k of profile.kernels) if (PRODUCT_KERNELS.has(k.name)) ms += (await k.kernelTimeMs) as number;
    times.push(ms);
  }
  return median(times);
}

export async function benchBatched(opts: BatchedBenchOptions): Promise<BatchedBenchResult> {
  const now = opts.now ?? (() => performance.now());
  const rounds = Math.max(1, opts.rounds ?? 3);
  const before = tf.memory().numTensors;
  const n = opts.configs.length;
  const batched = new BatchedTrainer(opts.configs);
  const singles = opts.configs.map((c) => new Trainer(c));
  const batchedTimes: number[] = [];
  const singleTimes: number[][] = singles.map(() => []);
  let dispatches: { batched: number | null; single: number | null } = { batched: null, single: null };
  let productMs: number | null = null;
  try {
    const sync = async (t: { lastTrainLoss: tf.Tensor | null }) => void (await t.lastTrainLoss?.data());
    // Warm up every trainer (kernel set-up, XNNPACK packing), then calibrate on one single model.
    for (let i = 0; i < 2; i++) {
      batched.trainStep();
      await sync(batched);
      for (const s of singles) {
        s.trainStep();
        await sync(s);
      }
    }
    const dispatchesBatched = await countDispatches(async () => {
      batched.trainStep();
      await sync(batched);
    });
    const dispatchesSingle = await countDispatches(async () => {
      singles[0].trainStep();
      await sync(singles[0]);
    });
    dispatches = { batched: dispatchesBatched, single: dispatchesSingle };
    productMs = await productTime(batched);
    let t = now();
    singles[0].trainStep();
    singles[0].trainStep();
    await sync(singles[0]);
    const perUpdate = Math.max((now() - t) / 2, 0.01);
    const updates = Math.min(1000, Math.max(2, Math.round((opts.targetBlockMs ?? 1000) / perUpdate)));
    for (let r = 0; r < rounds; r++) {
      t = now();
      for (let e = 0; e < updates; e++) batched.trainStep();
      await sync(batched);
      batchedTimes.push((now() - t) / updates);
      for (const [i, s] of singles.entries()) {
        t = now();
        for (let e = 0; e < updates; e++) s.trainStep();
        await sync(s);
        singleTimes[i].push((now() - t) / updates);
      }
    }
  } finally {
    batched.dispose();
    singles.forEach((s) => s.dispose());
  }
  const batchedMs = median(batchedTimes);
  const singleMs = singleTimes.map(median);
  const sequentialMs = singleMs.reduce((a, b) => a + b, 0);
  return {
    backend: tf.getBackend(),
    models: n,
    batchedMsPerEpoch: batchedMs,
    singleMsPerEpoch: singleMs,
    batchedModelEpochsPerSec: (1000 * n) / batchedMs,
    sequentialModelEpochsPerSec: (1000 * n) / sequentialMs,
    speedup: sequentialMs / batchedMs,
    dispatchesBatched: dispatches.batched,
    dispatchesSingle: dispatches.single,
    batchedProductMs: productMs,
    ceiling: productMs === null ? null : sequentialMs / productMs,
    numTensorsDelta: tf.memory().numTensors - before,
  };
}
