/**
 * A PyTorch run (src/files/torch/import.ts) as a grokscope run: its snapshots flattened in
 * parameter order, and its loss curves as the history (thinned to at most MAX_LOSS_ROWS rows, the
 * snapshot epochs always kept). The worker measures the last snapshot fully when the run opens,
 * and every snapshot's views when the scrubber reaches it. What is built here is what the page
 * saves, so it passes the run file's own checks: a file's epoch past the page's largest epoch
 * limit makes a run that is finished, not one that cannot be reopened.
 */
import { FIELDS } from '../config/schema.ts';
import { paramSpecs } from '../model/transformer/params.ts';
import { splitFromIndices, splitPairs } from '../task/pairs.ts';
import { combineTorchRuns } from './torch/combine.ts';
import { readTorchRun, type TorchRun } from './torch/import.ts';
import type { Checkpoint } from '../run/history-columns.ts';
import { checkedConfig, type RunData } from './run-file.ts';

export const MAX_LOSS_ROWS = 4000;

/** A history row that carries only the losses a file recorded. */
function lossRow(epoch: number, trainLoss: number, testLoss: number, lr: number, weightDecay: number): Checkpoint {
  return {
    epoch, trainLoss, testLoss, trainAcc: NaN, testAcc: NaN, sumSquaredWeights: NaN, softmaxCollapse: NaN, lr, weightDecay,
    restrictedLoss: NaN, restrictedAcc: NaN, excludedLoss: NaN, giniWE: NaN, giniWL: NaN, logitFVE: NaN,
    keyFreqsVersion: -1, normsWE: [], normsWL: [], cosCoefficients: [], excludedLossPerFreq: [], neuronsWellExplained: NaN, distanceIrrelevance: NaN, gradientSymmetricity: NaN,
  };
}

export function torchRunData(run: TorchRun, name: string): RunData {
  const last = run.snapshots.at(-1)!;
  const limit = FIELDS.epochs.kind === 'int' ? FIELDS.epochs.max : 1_000_000;
  const config = checkedConfig({ ...run.config, epochs: Math.min(limit, Math.max(1, last.epoch)) }, "the PyTorch run's configuration");
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
  // Losses a file states at its own epoch (the authors' per-epoch files), merged in epoch order.
  const points = run.lossPoints.filter((pt) => pt.epoch <= last.epoch && pt.epoch >= n && (Number.isFinite(pt.train) || Number.isFinite(pt.test)));
  if (points.length > 0) {
    for (const pt of points) history.push(lossRow(pt.epoch, pt.train, pt.test, config.lr, config.weightDecay));
    history.sort((x, y) => x.epoch - y.epoch);
  }
  const trainIndices = run.trainIndices ? splitFromIndices(config.p, run.trainIndices).train : splitPairs(config.p, config.frac, config.seed, config.split).train;
  return { name, config, trainIndices, keyFreqs: null, history, snapshots, resume: null, backend: null, createdAt: new Date().toISOString() };
}

/**
 * One or more torch.save files of one run (the authors' per-epoch files, or one file) as a run,
 * with what was read in words.
 */
export function torchImport(parts: { name: string; bytes: Uint8Array }[]): { run: RunData; note: string } {
  const torch = combineTorchRuns(parts.map((p) => ({ name: p.name, run: readTorchRun(p.bytes, p.name) })));
  const names = parts.map((p) => p.name).join(', ');
  const run = torchRunData(torch, parts.length === 1 ? parts[0].name.slice(0, 200) : `${parts.length} files: ${names.slice(0, 80)}`);
  const curves = run.history.length > 0 ? ` Loss curves: ${run.history.length} rows.` : '';
  return { run, note: `Read ${torch.description}. Split: ${torch.splitSource}.${curves} The views at each snapshot are measured when you scrub to it.` };
}
