/**
 * Several torch.save files of one run (the authors' {epoch}.pth files, init.pth, final.pth) read
 * as one run (src/files/torch/import.ts reads each).
 */
import { TorchFileError } from './zip.ts';
import { withSplit, type LossPoint, type TorchRun, type TorchSnapshot } from './import.ts';

function fail(message: string): never {
  throw new TorchFileError(message);
}

/**
 * Several torch files of one run (the authors' {epoch}.pth files, init.pth, final.pth) as one run:
 * snapshots by epoch, the loss curves of the file that has them (else each file's own losses), the
 * split from init.pth's train_data when present.
 */
export function combineTorchRuns(parts: { name: string; run: TorchRun }[]): TorchRun {
  if (parts.length === 0) fail('no files to combine');
  if (parts.length === 1) return parts[0].run;
  const first = parts[0].run;
  const byEpoch = new Map<number, TorchSnapshot>();
  let trainIndices: Int32Array | null = null;
  let splitSource = first.splitSource;
  let curves: TorchRun | null = null;
  for (const { name, run } of parts) {
    const c = run.config;
    if (c.p !== first.config.p || c.dModel !== first.config.dModel || c.dMlp !== first.config.dMlp || c.nHeads !== first.config.nHeads || c.nLayers !== first.config.nLayers) {
      fail(`${name} is a different model (P = ${c.p}, d_model ${c.dModel}) from ${parts[0].name} (P = ${first.config.p}, d_model ${first.config.dModel})`);
    }
    for (const s of run.snapshots) byEpoch.set(s.epoch, s);
    if (run.trainIndices) {
      trainIndices = run.trainIndices;
      splitSource = run.splitSource;
    }
    if (run.trainLosses && run.trainLosses.every(Number.isFinite) && (!curves || run.trainLosses.length > curves.trainLosses!.length)) curves = run;
  }
  const snapshots = [...byEpoch.values()].sort((a, b) => a.epoch - b.epoch);
  const last = snapshots.at(-1)!.epoch;
  // Without a whole curve, each file's own losses as points (never an array as long as the run).
  const points = new Map<number, LossPoint>();
  if (!curves) {
    for (const { run } of parts) {
      for (const pt of run.lossPoints) points.set(pt.epoch, pt);
      const n = Math.max(run.trainLosses?.length ?? 0, run.testLosses?.length ?? 0);
      for (let e = 0; e < n; e++) {
        const train = run.trainLosses?.[e] ?? NaN;
        const test = run.testLosses?.[e] ?? NaN;
        if (Number.isFinite(train) || Number.isFinite(test)) points.set(e, { epoch: e, train, test });
      }
    }
  }
  if (trainIndices) withSplit(snapshots, trainIndices);
  return {
    scheme: first.scheme,
    config: snapshots.at(-1)!.checkpoint.config,
    snapshots,
    trainLosses: curves?.trainLosses ?? null,
    testLosses: curves?.testLosses ?? null,
    lossPoints: [...points.values()].sort((a, b) => a.epoch - b.epoch),
    trainIndices,
    splitSource,
    description: `${parts.length} files of one run (${first.scheme === 'authors' ? "the paper authors' layout" : 'TransformerLens layout'}, P = ${first.config.p}): ${snapshots.length} snapshots, epochs ${snapshots[0].epoch}–${last}`,
  };
}

