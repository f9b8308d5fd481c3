/**
 * What the tables over a sweep's runs (src/run/seed-tables.ts: Tables 3–6) take of one run at its
 * final weights, measured in the sweep worker as `analyze` measures a run file: the §4 evidence
 * pass (EvidencePass) on the final weights, with the run's own K, beside its last history row
 * (a heavy one: Table 5's Gini, logit FVE and neuron count).
 */
import type { RunFinalMeasures } from '../../run/seed-tables.ts';
import { Analyzer } from '../../analysis/analyzer.ts';
import { Trainer } from '../../model/trainer.ts';
import { unflattenWeights } from '../../model/transformer/params.ts';
import { EvidencePass } from '../analysis/evidence-pass.ts';
import type { BatchRunResult } from './runner.ts';

export async function measureFinal(r: BatchRunResult): Promise<RunFinalMeasures> {
  const last = r.history.at(-1);
  // The last row is heavy unless the sweep was stopped: then the last heavy one (neurons, §5.4).
  const heavy = r.history.findLast((h) => Number.isFinite(h.neuronsWellExplained));
  if (!last || !heavy) throw new Error('a run without checkpoints has no final measures');
  const keyFreqs = [...r.keyFreqs.active];
  const trainer = new Trainer(r.config, { weights: unflattenWeights(r.config, r.state.weights), trainIndices: r.trainIndices, fused: false });
  const analyzer = new Analyzer(trainer.config, trainer.dataset);
  const pass = new EvidencePass(trainer, analyzer);
  try {
    const prepared = pass.prepare(last.epoch, { epoch: null, ablations: [], pair: null }, keyFreqs);
    const values = (await prepared.tensor.data()) as Float32Array;
    prepared.tensor.dispose();
    const e = prepared.finish(values);
    return {
      epoch: last.epoch,
      testLoss: e.before.testLoss,
      testAcc: e.before.testAcc,
      allLoss: e.before.allLoss,
      allAcc: e.before.allAcc,
      keyFreqs,
      giniWE: last.giniWE,
      giniWL: last.giniWL,
      logitFVE: e.logitFVE,
      neuronsExplained: heavy.neuronsWellExplained / r.config.dMlp,
      directionFVE: e.directionFVE,
      lossOnlyKeyFreqs: e.lossOnlyKeyFreqs,
      lossKeyFreqsRemoved: e.lossKeyFreqsRemoved,
      lossSkipAblated: e.lossSkipAblated,
      accSkipAblated: e.accSkipAblated,
    };
  } finally {
    pass.dispose();
    analyzer.dispose();
    trainer.dispose();
  }
}
