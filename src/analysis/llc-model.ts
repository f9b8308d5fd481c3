/**
 * The transformer as the LLC estimator's model (llc.ts): its parameters, and its training loss
 * (the loss the run trains on: softmax or StableMax cross-entropy) on a minibatch of its training
 * pairs. Dropout and the L1 penalty are training devices, not the model's loss: left out.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { Trainer } from '../model/trainer.ts';
import { disposePairBatch, makePairBatch } from '../model/transformer/forward.ts';
import { lossMean } from '../model/transformer/stablemax.ts';
import type { LlcModel } from './llc.ts';

export function transformerLlcModel(trainer: Trainer): LlcModel {
  const c = trainer.config;
  const { train, labels } = trainer.dataset;
  return {
    params: Object.values(trainer.paramTensors) as tf.Variable[],
    n: train.length,
    batch(indices) {
      const b = makePairBatch(c, indices ? Int32Array.from(indices, (i) => train[i]) : train, labels, true);
      return { loss: () => lossMean(c.loss, trainer.forward(b), b.labelsOneHot), dispose: () => disposePairBatch(b) };
    },
  };
}
