/**
 * Model files for `analyze` and `train --init`: a safetensors checkpoint, a torch.save file (the
 * paper authors' checkpoints and runs, TransformerLens state dicts and Grokking-demo runs), or a
 * folder of the authors' per-epoch .pth files (read as one run; its last snapshot is the model).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { CheckpointData } from '../model/checkpoint.ts';
import { combineTorchRuns, readTorchRun, type TorchRun } from '../model/torch/import.ts';
import { isTorchFile } from '../model/torch/torch-file.ts';
import { UsageError } from './args.ts';
import { readWeights } from './evidence.ts';

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

/** `epochFlag`: for a run file, the snapshot nearest this epoch (default: its last). */
export function readModelFile(path: string, epochFlag?: string): ModelFile {
  let paths = [path];
  if (statSync(path, { throwIfNoEntry: false })?.isDirectory()) {
    paths = readdirSync(path).filter((f) => f.endsWith('.pth') || f.endsWith('.pt')).map((f) => join(path, f));
    if (paths.length === 0) throw new Error(`${path} is a folder without .pth files`);
  }
  if (paths.length === 1) {
    const bytes = readBytes(paths[0]);
    if (!isTorchFile(bytes)) {
      const { source, ...checkpoint } = readWeights(bytes, epochFlag);
      return { checkpoint, source, torch: null };
    }
  }
  if (epochFlag !== undefined) throw new UsageError('--epoch applies to run files');
  const run = combineTorchRuns(paths.map((p) => ({ name: p, run: readTorchRun(readBytes(p), p) })));
  const last = run.snapshots.at(-1)!;
  return { checkpoint: last.checkpoint, source: `PyTorch ${paths.length > 1 ? `run of ${paths.length} files` : 'file'}, epoch ${last.checkpoint.epoch}`, torch: run };
}
