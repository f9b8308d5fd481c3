/**
 * The page script of test/browser/fused.test.ts (bundled by the test, served on the preview's
 * origin): trains the same small model with and without the fused WebGPU kernels on the
 * software adapter, and hands back what both produced and the dispatches one update recorded.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-webgpu';
import { DEFAULT_CONFIG, type TrainConfig } from '../../src/config/schema.ts';
import { Trainer } from '../../src/model/trainer.ts';

export interface FusedRun {
  /** Training loss of each update's weights (before it). */
  losses: number[];
  /** After the first update, by parameter: m = (1 − β1)·g, the first gradient (scaled). */
  firstM: Record<string, number[]>;
  /** After every update, by parameter: weights and both moments. */
  weights: Record<string, number[]>;
  m: Record<string, number[]>;
  v: Record<string, number[]>;
  /** Compute dispatches one more update recorded, and tensors it left behind. */
  dispatches: number;
  numTensorsDelta: number;
}

type Encoder = { dispatchWorkgroups(...args: unknown[]): void };

async function countDispatches(f: () => Promise<void>): Promise<number> {
  const proto = (globalThis as unknown as { GPUComputePassEncoder: { prototype: Encoder } }).GPUComputePassEncoder.prototype;
  const original = proto.dispatchWorkgroups;
  let n = 0;
  proto.dispatchWorkgroups = function (this: Encoder, ...args: unknown[]) {
    n++;
    return original.apply(this, args);
  };
  try {
    await f();
  } finally {
    proto.dispatchWorkgroups = original;
  }
  return n;
}

function plain(byName: Record<string, Float32Array>): Record<string, number[]> {
  return Object.fromEntries(Object.entries(byName).map(([k, x]) => [k, Array.from(x)]));
}

async function run(config: TrainConfig, fused: boolean, steps: number): Promise<FusedRun> {
  const trainer = new Trainer(config, { fused });
  const losses: number[] = [];
  let firstM: Record<string, number[]> = {};
  try {
    for (let i = 0; i < steps; i++) {
      trainer.trainStep();
      losses.push((await trainer.lastTrainLoss!.data())[0]);
      if (i === 0) firstM = plain((await trainer.readOptimizerState()).m);
    }
    const weights = plain(await trainer.readWeights());
    const { m, v } = await trainer.readOptimizerState();
    const before = tf.memory().numTensors;
    const dispatches = await countDispatches(async () => {
      trainer.trainStep();
      await trainer.lastTrainLoss!.data();
    });
    return { losses, firstM, weights, m: plain(m), v: plain(v), dispatches, numTensorsDelta: tf.memory().numTensors - before };
  } finally {
    trainer.dispose();
  }
}

async function fusedCheck(over: Partial<TrainConfig>, steps: number): Promise<{ backend: string; unfused: FusedRun; fused: FusedRun }> {
  await tf.setBackend('webgpu');
  await tf.ready();
  const config = { ...DEFAULT_CONFIG, ...over };
  const unfused = await run(config, false, steps);
  const fused = await run(config, true, steps);
  return { backend: tf.getBackend(), unfused, fused };
}

(window as unknown as { fusedCheck: typeof fusedCheck }).fusedCheck = fusedCheck;
