/**
 * Model files for `analyze` and `train --init`: a safetensors checkpoint, a torch.save file (the
 * paper authors' checkpoints and runs, TransformerLens state dicts and Grokking-demo runs), or a
 * folder of the authors' per-epoch .pth files (read as one run; its last snapshot is the model).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { CheckpointData } from '../files/safetensors/checkpoint.ts';
import { unflattenWeights } from '../model/transformer/params.ts';
import { readImportFile, type ImportedFile } from '../files/import-file.ts';
import { combineTorchRuns, readTorchRun, type TorchRun } from '../files/torch/import.ts';
import { isTorchFile } from '../files/torch/magic.ts';
import { UsageError } from './node/args.ts';
import { inflateNode } from './node/inflate.ts';

export interface ModelFile {
  checkpoint: CheckpointData;
  /** Where the weights came from, in words. */
  source: string;
  /** What a torch file held besides the model (curves, snapshots), or null for safetensors. */
  torch: TorchRun | null;
}

function readBytes(path: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (err) {
    throw new Error(`cannot read ${path}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/**
 * Reads a model file with the page's own reader (gzip streamed with a limit, every dimension
 * checked). `epochFlag`: for a run file, the snapshot nearest this epoch (default: its latest
 * weights, the resume state when it has one).
 */
export async function readModelFile(path: string, epochFlag?: string): Promise<ModelFile> {
  let paths = [path];
  if (statSync(path, { throwIfNoEntry: false })?.isDirectory()) {
    paths = readdirSync(path).filter((f) => f.endsWith('.pth') || f.endsWith('.pt')).map((f) => join(path, f));
    if (paths.length === 0) throw new Error(`${path} is a folder without .pth files`);
  }
  if (paths.length === 1) {
    const bytes = readBytes(paths[0]);
    if (!isTorchFile(bytes)) return fromImportFile(await readImportFile(bytes, { inflate: inflateNode, name: paths[0] }), epochFlag);
  }
  if (epochFlag !== undefined) throw new UsageError('--epoch applies to run files');
  const run = combineTorchRuns(paths.map((p) => ({ name: p, run: readTorchRun(readBytes(p), p) })));
  const last = run.snapshots.at(-1)!;
  return { checkpoint: last.checkpoint, source: `PyTorch ${paths.length > 1 ? `run of ${paths.length} files` : 'file'}, epoch ${last.checkpoint.epoch}`, torch: run };
}

/** The weights to analyze from a checkpoint or a run file. */
function fromImportFile(file: ImportedFile, epochFlag: string | undefined): ModelFile {
  if (file.kind === 'checkpoint') {
    if (epochFlag !== undefined) throw new UsageError('--epoch applies to run files; a checkpoint has one epoch');
    return { checkpoint: file.checkpoint, source: 'checkpoint', torch: null };
  }
  const { run } = file;
  let pick: { epoch: number; weights: Float32Array } | undefined;
  if (epochFlag !== undefined) {
    if (!/^\d+$/.test(epochFlag)) throw new UsageError(`--epoch must be a whole number, got "${epochFlag}"`);
    const want = Number(epochFlag);
    pick = run.snapshots.reduce<typeof pick>((best, x) => (!best || Math.abs(x.epoch - want) < Math.abs(best.epoch - want) ? x : best), undefined);
  } else {
    pick = run.resume ? { epoch: run.resume.t, weights: run.resume.weights } : run.snapshots.at(-1);
  }
  if (!pick) throw new Error('this run file holds no weights to analyze');
  const which = epochFlag !== undefined ? `snapshot at epoch ${pick.epoch} (of ${run.snapshots.map((x) => x.epoch).join(', ')})` : `latest weights, epoch ${pick.epoch}`;
  return {
    checkpoint: { config: run.config, weights: unflattenWeights(run.config, pick.weights), epoch: pick.epoch, trainIndices: run.trainIndices },
    source: `run file "${run.name}", ${which}`,
    torch: null,
  };
}
