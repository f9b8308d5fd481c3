/**
 * The transformer as the LLC estimator's model (llc.ts): its parameters, and its training loss
 * (the loss the run trains on: softmax or StableMax cross-entropy) on a minibatch of its training
 * pairs. Dropout and the L1 penalty are training devices, not the model's loss: left out.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Trainer } from '../model/trainer.ts';
import { disposePairBatch, makePairBatch, type Params } from '../model/transformer/forward.ts';
import { paramSpecs, unflattenWeights } from '../model/transformer/params.ts';
import { lossMean } from '../model/transformer/stablemax.ts';
import type { LlcModel } from './llc.ts';

function modelOn(trainer: Trainer, params: Params): LlcModel {
  const c = trainer.config;
  const { train, labels } = trainer.dataset;
  return {
    params: Object.values(params) as tf.Variable[],
    n: train.length,
    batch(indices) {
      const b = makePairBatch(c, indices ? Int32Array.from(indices, (i) => train[i]) : train, labels, true);
      return { loss: () => lossMean(c.loss, trainer.forward(b, {}, params), b.labelsOneHot), dispose: () => disposePairBatch(b) };
    },
  };
}

/** The trainer's own weights (the chains move them and put them back). */
export function transformerLlcModel(trainer: Trainer): LlcModel {
  return modelOn(trainer, trainer.paramTensors);
}

/**
 * A snapshot's weights (flat, as RunAnalysis keeps them) in variables of their own, so chains can
 * run on it while the trainer trains on: the run's configuration and training pairs, other weights.
 */
export function snapshotLlcModel(trainer: Trainer, weights: Float32Array): LlcModel & { dispose(): void } {
  const named = unflattenWeights(trainer.config, weights);
  const params: Params = Object.fromEntries(paramSpecs(trainer.config).map((s) => [s.name, tf.tidy(() => tf.variable(tf.tensor(named[s.name], s.shape, 'float32'), true))]));
  let disposed = false;
  const dispose = () => {
    if (!disposed) tf.dispose(Object.values(params));
    disposed = true;
  };
  return { ...modelOn(trainer, params), dispose };
}
