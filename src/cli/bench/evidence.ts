/**
 * `npm run bench -- --evidence`: the cost of one evidence pass (ANALYSIS.md §7, with an
 * intervention and one input) against the existing heavy pass (§5.9, 5.11, 5.12), on the same
 * weights and backend in the same run, as medians of a few warm repetitions and their ratio.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Analyzer, type LastPositionActivations } from '../../analysis/analyzer.ts';
import type { BackendName } from '../../config/backends.ts';
import type { TrainConfig } from '../../config/schema.ts';
import { Trainer } from '../../model/trainer.ts';
import { EvidencePass } from '../../worker/analysis/evidence-pass.ts';
import { startNodeBackend } from '../node/backends.ts';

export interface EvidenceBenchLine {
  backend: string;
  heavyMs: number;
  evidenceMs: number;
  evidenceWithInterventionMs: number;
  ratio: number;
  ratioWithIntervention: number;
  numTensorsDelta: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

async function time(run: () => tf.Tensor, reps: number): Promise<number> {
  const warm = run(); // kernels, weight packing
  await warm.data();
  warm.dispose();
  const ms: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    const t = run();
    await t.data();
    ms.push(performance.now() - t0);
    t.dispose();
  }
  return median(ms);
}

export async function benchEvidence(config: TrainConfig, backend: BackendName, reps = 5): Promise<EvidenceBenchLine> {
  const info = await startNodeBackend(backend);
  const trainer = new Trainer(config);
  const analyzer = new Analyzer(config, trainer.dataset);
  const pass = new EvidencePass(trainer, analyzer);
  const before = tf.memory().numTensors;
  const K = [1, 2, 3];
  const featured = new Int32Array([0, 1, 2, 3, 4, 5]);
  // The heavy pass as the worker runs it: the forward with its taps, then the heavy measures.
  const heavy = () =>
    tf.tidy(() => {
      let acts: LastPositionActivations | null = null;
      const logits = trainer.logitsAll({ tap: (_, a) => (acts = { pattern: tf.keep(a.pattern), mlpPost: tf.keep(a.mlpPost) }) });
      const out = analyzer.heavy(trainer.paramTensors, logits, acts!, featured);
      tf.dispose([acts!.pattern, acts!.mlpPost]);
      return out;
    });
  const evidence = (withIntervention: boolean) => () =>
    pass.prepare(0, { epoch: null, ablations: withIntervention ? [{ target: 'head', index: 0, mode: 'mean' }, { target: 'we', index: 1, mode: 'zero' }] : [], pair: withIntervention ? 5 : null }, K).tensor;
  const heavyMs = await time(heavy, reps);
  const evidenceMs = await time(evidence(false), reps);
  const evidenceWithInterventionMs = await time(evidence(true), reps);
  const numTensorsDelta = tf.memory().numTensors - before;
  pass.dispose();
  analyzer.dispose();
  trainer.dispose();
  return { backend: info.name, heavyMs, evidenceMs, evidenceWithInterventionMs, ratio: evidenceMs / heavyMs, ratioWithIntervention: evidenceWithInterventionMs / heavyMs, numTensorsDelta };
}
