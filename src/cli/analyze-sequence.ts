/**
 * `analyze FILE` of an authors' saved run of an appendix task (App. D.3; files/torch/sequence-import.ts):
 * the model's measures on freshly generated problems — test loss and per-token accuracy, with
 * digits5's loss per answer digit, repeat's previous-token and induction scores per head, skip3's
 * attention to the token ≥ 10. The problems are those a `train --task` run of the same seed tests on
 * (task/sequence.ts, stream 'sequence-test'), so a low loss also says our encoding is the authors'.
 */
import * as tf from '@tensorflow/tfjs-core';
import { SEQUENCE_TASKS } from '../task/sequence.ts';
import { readFloats } from '../files/safetensors/safetensors.ts';
import type { SequenceImport } from '../files/torch/sequence-import.ts';
import { defaultSequenceConfig, measureOnFreshProblems } from '../model/sequence/trainer.ts';
import { InputError } from './node/read-input.ts';
import { UsageError } from './node/args.ts';

/** The test set a sequence analysis draws: how many problems, from which seed. */
export function sequenceTestSet(seq: SequenceImport, flags: Map<string, string>, seedText: string | null): { size: number; seed: number } {
  const sizeText = flags.get('test-size');
  const size = sizeText === undefined ? defaultSequenceConfig(seq.task).testSize : Number(sizeText);
  if (!Number.isInteger(size) || size < 1 || size > 100_000) throw new UsageError(`--test-size must be a whole number from 1 to 100,000, got "${sizeText}"`);
  const seed = seedText === null ? 0 : Number(seedText);
  if (!Number.isInteger(seed) || seed < 0) throw new UsageError(`--seed must be a whole number ≥ 0, got "${seedText}"`);
  return { size, seed };
}

const lastFinite = (xs: number[] | null) => xs?.findLast(Number.isFinite) ?? null;

export function analyzeSequence(path: string, seq: SequenceImport, testSet: { size: number; seed: number }): Record<string, unknown> {
  if (!seq.weights) throw new InputError(`${path} holds loss curves only (${seq.description}): there is no model to measure; inspect prints its curves`);
  const spec = SEQUENCE_TASKS[seq.task];
  const params = new Map<string, tf.Tensor>([...seq.weights].map(([name, t]) => [name, tf.tensor(readFloats(t), t.shape)]));
  try {
    const { measures, predictionsCounted } = measureOnFreshProblems(seq.task, params, testSet.size, testSet.seed);
    return {
      file: path,
      source: 'PyTorch file',
      task: seq.task,
      read: seq.description,
      data: seq.data === Infinity ? 'inf' : seq.data,
      ...seq.configs,
      testSet: { problems: testSet.size, seed: testSet.seed, predictionsCounted, drawn: `task/sequence.ts, stream 'sequence-test' of seed ${testSet.seed} (what train --task ${seq.task} --seed ${testSet.seed} tests on)` },
      paper: spec.paper,
      fileTrainLoss: lastFinite(seq.trainLosses),
      fileTestLoss: lastFinite(seq.testLosses),
      ...measures,
    };
  } finally {
    tf.dispose([...params.values()]);
  }
}
