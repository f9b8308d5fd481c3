/**
 * The page script of test/browser/fused.test.ts (bundled by the test, served on the preview's
 * origin): trains the same small model with and without the fused WebGPU kernels on the
 * software adapter, and hands back what both produced and the dispatches one update recorded.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-webgpu';
import { DEFAULT_CONFIG, type TrainConfig } from '../../src/config/schema.ts';
import { BatchedTrainer } from '../../src/model/batched/batched-trainer.ts';
import { Trainer } from '../../src/model/trainer.ts';
import { countDispatches as countDispatchesOrNull } from '../../src/worker/bench/bench.ts';
import { relErr } from '../compare.ts';

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

/** Compute dispatches `f` records (the bench's counter; this page runs on webgpu only). */
async function countDispatches(f: () => Promise<void>): Promise<number> {
  const n = await countDispatchesOrNull(f);
  if (n === null) throw new Error(`dispatches are counted on webgpu, not ${tf.getBackend()}`);
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

export interface BatchedCheck {
  fusedStep: boolean;
  /** Per model, after `steps` updates: its batched weights and moments against its single fused run. */
  errors: { loss: number; w: number; m: number; v: number }[];
  /** Whether the updates moved every model's loss. */
  moved: boolean;
  /** Dispatches of one batched update of that many seeds of the first model, and tensors left behind. */
  dispatches: { models: number; dispatches: number; numTensorsDelta: number }[];
}

/**
 * The batched fused step (BatchedTrainer on webgpu) against each model's single fused run. With
 * `matMulProgram`, tfjs's matmul uses that program for every product (else it picks one by the
 * product's batch size, which changes its summation order).
 */
async function batchedCheck(overs: Partial<TrainConfig>[], steps: number, counts: number[], matMulProgram?: number): Promise<BatchedCheck> {
  await tf.setBackend('webgpu');
  await tf.ready();
  const before = tf.env().get('WEBGPU_MATMUL_PROGRAM_TYPE');
  if (matMulProgram !== undefined) tf.env().set('WEBGPU_MATMUL_PROGRAM_TYPE', matMulProgram);
  try {
    const configs = overs.map((o) => ({ ...DEFAULT_CONFIG, ...o }));
    const batched = new BatchedTrainer(configs);
    const batchedLosses: number[][] = [];
    for (let t = 0; t < steps; t++) {
      batched.trainStep();
      batchedLosses.push(Array.from(await batched.lastTrainLoss!.data()));
    }
    const states = await batched.readState();
    const fusedStep = batched.fusedStep;
    batched.dispose();
    const errors: BatchedCheck['errors'] = [];
    let moved = true;
    for (const [i, c] of configs.entries()) {
      const single = new Trainer(c);
      let loss = 0;
      for (let t = 0; t < steps; t++) {
        single.trainStep();
        const l = (await single.lastTrainLoss!.data())[0];
        loss = Math.max(loss, Math.abs(l - batchedLosses[t][i]) / Math.abs(l));
      }
      const s = await single.readState();
      single.dispose();
      moved &&= batchedLosses[steps - 1][i] !== batchedLosses[0][i];
      errors.push({ loss, w: relErr(states[i].weights, s.weights), m: relErr(states[i].m, s.m), v: relErr(states[i].v, s.v) });
    }
    const dispatches: BatchedCheck['dispatches'] = [];
    for (const models of counts) {
      const t = new BatchedTrainer(Array.from({ length: models }, (_, i) => ({ ...configs[0], seed: i })));
      try {
        t.trainStep();
        await t.lastTrainLoss!.data();
        const tensors = tf.memory().numTensors;
        const n = await countDispatches(async () => {
          t.trainStep();
          await t.lastTrainLoss!.data();
        });
        dispatches.push({ models, dispatches: n, numTensorsDelta: tf.memory().numTensors - tensors });
      } finally {
        t.dispose();
      }
    }
    return { fusedStep, errors, moved, dispatches };
  } finally {
    tf.env().set('WEBGPU_MATMUL_PROGRAM_TYPE', before);
  }
}

(window as unknown as { fusedCheck: typeof fusedCheck }).fusedCheck = fusedCheck;
(window as unknown as { batchedCheck: typeof batchedCheck }).batchedCheck = batchedCheck;
