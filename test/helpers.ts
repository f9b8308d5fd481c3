/** Shared test helpers: a Node backend per test file, and small numeric comparisons. */
import * as tf from '@tensorflow/tfjs-core';
import { startNodeBackend } from '../src/cli/backends.ts';
import { DEFAULT_CONFIG, type TrainConfig } from '../src/config/schema.ts';

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
