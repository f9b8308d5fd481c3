/**
 * A PyTorch run (src/files/torch/import.ts) as a grokscope run: its snapshots flattened in
 * parameter order, and its loss curves as the history (thinned to at most MAX_LOSS_ROWS rows, the
 * snapshot epochs always kept). The worker measures the last snapshot fully when the run opens,
 * and every snapshot's views when the scrubber reaches it.
 */
import { paramSpecs } from '../model/transformer/params.ts';
import { splitFromIndices, splitPairs } from '../task/pairs.ts';
import type { TorchRun } from './torch/import.ts';
import type { Checkpoint } from '../run/history-columns.ts';
import type { RunData } from './run-file.ts';

export const MAX_LOSS_ROWS = 4000;

/** A history row that carries only the losses a file recorded. */
function lossRow(epoch: number, trainLoss: number, testLoss: number, lr: number, weightDecay: number): Checkpoint {
  return {
    epoch, trainLoss, testLoss, trainAcc: NaN, testAcc: NaN, sumSquaredWeights: NaN, lr, weightDecay,
    restrictedLoss: NaN, restrictedAcc: NaN, excludedLoss: NaN, giniWE: NaN, giniWL: NaN, logitFVE: NaN,
    keyFreqsVersion: -1, normsWE: [], normsWL: [], cosCoefficients: [], excludedLossPerFreq: [], neuronsWellExplained: NaN,
  };
}

export function torchRunData(run: TorchRun, name: string): RunData {
  const last = run.snapshots.at(-1)!;
  const config = { ...last.checkpoint.config, epochs: Math.max(1, last.epoch) };
  const specs = paramSpecs(config);
  const snapshots = run.snapshots.map((s) => {
    const flat = new Float32Array(specs.reduce((n, p) => n + p.shape.reduce((a, b) => a * b, 1), 0));
    let o = 0;
    for (const p of specs) {
      flat.set(s.checkpoint.weights[p.name], o);
      o += s.checkpoint.weights[p.name].length;
    }
    return { epoch: s.epoch, weights: flat };
  });
  const history: Checkpoint[] = [];
  const tr = run.trainLosses ?? [];
  const te = run.testLosses ?? [];
  const n = Math.min(Math.max(tr.length, te.length), last.epoch + 1);
  // Keep every logged test loss: thin on a multiple of the test curve's stride.
  const testStride = Math.max(1, te.findIndex((x, i) => i > 0 && Number.isFinite(x)));
  const every = Math.ceil(Math.max(1, Math.ceil(n / MAX_LOSS_ROWS)) / testStride) * testStride;
  const keep = new Set(snapshots.map((s) => s.epoch));
  for (let e = 0; e < n; e++) {
    if (e % every !== 0 && e !== n - 1 && !keep.has(e)) continue;
    const a = tr[e] ?? NaN;
    const b = te[e] ?? NaN;
    if (Number.isFinite(a) || Number.isFinite(b)) history.push(lossRow(e, a, b, config.lr, config.weightDecay));
  }
  const trainIndices = run.trainIndices ? splitFromIndices(config.p, run.trainIndices).train : splitPairs(config.p, config.frac, config.seed, config.split).train;
  return { name, config, trainIndices, keyFreqs: null, history, snapshots, resume: null, backend: null, createdAt: new Date().toISOString() };
}
