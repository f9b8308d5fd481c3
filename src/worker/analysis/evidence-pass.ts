/**
 * One evidence pass (ANALYSIS.md §7) on a set of weights: the all-pairs forward with its taps, the
 * §7 measures, the checkpoint's outcome and correctness map, an intervention and the chosen input,
 * queued as GPU work with a single tensor to read. Used by the worker (evidence-scheduler.ts) and
 * the CLI's `analyze`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ablatedForward, interventionProblem, outcome, outcomeLength, probe, probeLength, unpackOutcome, unpackProbe } from '../../analysis/ablations.ts';
import type { Analyzer, LastPositionActivations } from '../../analysis/analyzer.ts';
import { EvidenceAnalyzer, neuronFrequencies } from '../../analysis/evidence.ts';
import { fourierBasis } from '../../analysis/fourier.ts';
import { dims } from '../../config/schema.ts';
import type { ForwardOptions, Params } from '../../model/transformer/forward.ts';
import { oneHotFloat } from '../../model/transformer/ops.ts';
import type { Trainer } from '../../model/trainer.ts';
import type { EvidenceRequest, EvidenceResult } from '../../run/evidence.ts';
import type { Prepared } from './run-analysis.ts';

export class EvidencePass {
  private readonly ev: EvidenceAnalyzer;
  private readonly F: tf.Tensor2D;
  private readonly labelsOut: tf.Tensor2D;
  private readonly labelIds: tf.Tensor1D;
  private readonly trainIdx: tf.Tensor1D;
  private readonly testIdx: tf.Tensor1D;

  constructor(
    private readonly trainer: Trainer,
    private readonly analyzer: Analyzer,
  ) {
    const { config, dataset } = trainer;
    this.ev = new EvidenceAnalyzer(config, dataset, analyzer);
    this.F = tf.tensor2d(fourierBasis(config.p), [config.p, config.p]);
    this.labelIds = tf.tensor1d(dataset.labels, 'int32');
    this.labelsOut = oneHotFloat(this.labelIds, dims(config).dVocabOut);
    this.trainIdx = tf.tensor1d(dataset.train, 'int32');
    this.testIdx = tf.tensor1d(dataset.test, 'int32');
  }

  /** The all-pairs forward, keeping the first block's attention and the last block's neurons. */
  private forward(params: Params): { logits: tf.Tensor2D; acts: LastPositionActivations } {
    let pattern: tf.Tensor3D | null = null;
    let mlpPost: tf.Tensor2D | null = null;
    const last = this.trainer.config.nLayers - 1;
    const tap: ForwardOptions['tap'] = (layer, a) => {
      if (layer === 0) pattern = tf.keep(a.pattern);
      if (layer === last) mlpPost = tf.keep(a.mlpPost);
    };
    const logits = this.trainer.logitsAll({ tap }, params);
    return { logits, acts: { pattern: pattern!, mlpPost: mlpPost! } };
  }

  /** Queues the pass on `params` (the trainer's own weights when omitted). */
  prepare(epoch: number, req: EvidenceRequest, keyFreqs: readonly number[], params: Params = this.trainer.paramTensors): Prepared<EvidenceResult> {
    const cfg = this.trainer.config;
    const K = [...keyFreqs];
    const problem = interventionProblem(cfg, req.ablations);
    const ablate = req.ablations.length > 0 && !problem;
    const pair = req.pair;
    const label = pair === null ? -1 : this.trainer.dataset.labels[pair];
    const tensor = tf.tidy(() => {
      const { logits, acts } = this.forward(params);
      const fractions = this.analyzer.neuronFrequencyFractions(acts.mlpPost);
      const freq = neuronFrequencies(fractions);
      const parts: tf.Tensor[] = [
        this.ev.evidence(params, logits, acts, K, fractions),
        tf.cast(freq, 'float32'),
        outcome(logits, this.labelsOut, this.labelIds, this.trainIdx, this.testIdx),
      ];
      let after = { logits, mlpPost: acts.mlpPost, pattern: acts.pattern };
      if (ablate) {
        after = ablatedForward(params, cfg, this.F, req.ablations, freq);
        parts.push(outcome(after.logits, this.labelsOut, this.labelIds, this.trainIdx, this.testIdx));
      }
      parts.push(this.analyzer.logitMeasures(after.logits, K));
      if (pair !== null) {
        parts.push(probe(params, cfg, { logits, mlpPost: acts.mlpPost, pattern: acts.pattern }, pair, label));
        if (ablate) parts.push(probe(params, cfg, after, pair, label));
      }
      tf.dispose([acts.pattern, acts.mlpPost]);
      return tf.concat(parts) as tf.Tensor1D;
    });
    return {
      tensor,
      finish: (values) => {
        const p = cfg.p;
        let o = 0;
        const measures = this.ev.unpack(values, K, o);
        o += this.ev.length(K.length);
        const neuronFreq = Int16Array.from(values.subarray(o, (o += cfg.dMlp)));
        const before = unpackOutcome(values, p, o);
        o += outcomeLength(p);
        const after = ablate ? unpackOutcome(values, p, o) : null;
        if (ablate) o += outcomeLength(p);
        const logit = this.analyzer.unpackLogitMeasures(values, K, o);
        o += this.analyzer.logitMeasuresLength(K.length);
        const probeAt = (at: number) => unpackProbe(values, cfg, pair!, label, at);
        const probeBefore = pair !== null ? probeAt(o) : null;
        const probeAfter = pair !== null && ablate ? probeAt(o + probeLength(cfg)) : null;
        return {
          ...measures,
          epoch,
          p,
          heads: cfg.nHeads,
          dMlp: cfg.dMlp,
          keyFreqs: K,
          neuronFreq,
          trainPairs: this.trainer.dataset.train.slice(),
          before,
          ablations: req.ablations.map((a) => ({ ...a })),
          after,
          interventionError: problem,
          cosCoefficients: logit.cosCoefficients,
          logitFVE: logit.logitFVE,
          probe: probeBefore,
          probeAfter,
        };
      },
    };
  }

  dispose(): void {
    this.ev.dispose();
    tf.dispose([this.F, this.labelsOut, this.labelIds, this.trainIdx, this.testIdx]);
  }
}
