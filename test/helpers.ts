/** Shared test helpers: a Node backend per test file, and small numeric comparisons. */
import * as tf from '@tensorflow/tfjs-core';
import { startNodeBackend } from '../src/cli/node/backends.ts';
import { DEFAULT_CONFIG, type TrainConfig } from '../src/config/schema.ts';
import type { Checkpoint } from '../src/run/history-columns.ts';

export async function useBackend(name: 'cpu' | 'wasm'): Promise<void> {
  const info = await startNodeBackend(name);
  if (info.name !== name) throw new Error(`wanted ${name}, got ${info.name}`);
}

/** A tiny model that trains in milliseconds. */
export function tinyConfig(changes: Partial<TrainConfig> = {}): TrainConfig {
  return { ...DEFAULT_CONFIG, p: 7, dModel: 8, nHeads: 2, dMlp: 16, frac: 0.5, ...changes };
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

export function numTensors(): number {
  return tf.memory().numTensors;
}

/** A checkpoint with plausible values at `epoch` (normsWL's last entry is the epoch), changed as asked. */
export function checkpointFixture(epoch: number, changes: Partial<Checkpoint> = {}): Checkpoint {
  return {
    epoch,
    trainLoss: 1,
    testLoss: 1,
    trainAcc: 0.5,
    testAcc: 0.1,
    sumSquaredWeights: 10,
    softmaxCollapse: 0,
    lr: 1e-3,
    weightDecay: 1,
    restrictedLoss: 2,
    restrictedAcc: 0.2,
    excludedLoss: 3,
    giniWE: 0.1,
    giniWL: 0.2,
    logitFVE: 0.3,
    keyFreqsVersion: 0,
    normsWE: [1, 2, 3],
    normsWL: [4, 5, epoch],
    cosCoefficients: [7, 8],
    excludedLossPerFreq: [],
    neuronsWellExplained: NaN,
    distanceIrrelevance: NaN,
    gradientSymmetricity: NaN,
    ...changes,
  };
}
