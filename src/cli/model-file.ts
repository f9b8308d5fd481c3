/**
 * Model files for `analyze` and `train --init`: a safetensors checkpoint, a torch.save file (the
 * paper authors' checkpoints and runs, TransformerLens state dicts and Grokking-demo runs), or a
 * folder of the authors' per-epoch .pth files (read as one run; its last snapshot is the model).
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { CheckpointData } from '../files/safetensors/checkpoint.ts';
import { unflattenWeights } from '../model/transformer/params.ts';
import { readImportFile, type ImportedFile } from '../files/import-file.ts';
import { combineTorchRuns } from '../files/torch/combine.ts';
import { readTorchRun, type TorchRun } from '../files/torch/import.ts';
import { isTorchFile } from '../files/torch/magic.ts';
import { readSequenceTorch, type SequenceImport } from '../files/torch/sequence-import.ts';
import { MAX_RUN_BYTES } from '../files/run-file.ts';
import { UsageError } from './node/args.ts';
import { InputError, readInput } from './node/read-input.ts';

export interface ModelFile {
  checkpoint: CheckpointData;
  /** Where the weights came from, in words. */
  source: string;
  /** What a torch file held besides the model (curves, snapshots), or null for safetensors. */
  torch: TorchRun | null;
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
  // Every path read the same way: a file refused by its size, a pipe as it streams.
  const first = await readInput(paths[0], MAX_RUN_BYTES);
  if (paths.length === 1 && !isTorchFile(first)) return fromImportFile(await readImportFile(first, { name: paths[0] }), epochFlag);
  if (epochFlag !== undefined) throw new UsageError('--epoch applies to run files');
  const parts = [{ name: paths[0], run: readTorchRun(first, paths[0]) }];
  for (const p of paths.slice(1)) parts.push({ name: p, run: readTorchRun(await readInput(p, MAX_RUN_BYTES), p) });
  const run = combineTorchRuns(parts);
  const last = run.snapshots.at(-1)!;
  return { checkpoint: last.checkpoint, source: `PyTorch ${paths.length > 1 ? `run of ${paths.length} files` : 'file'}, epoch ${last.checkpoint.epoch}`, torch: run };
}

/** The weights to analyze from a checkpoint or a run file. */
function fromImportFile(file: ImportedFile, epochFlag: string | undefined): ModelFile {
  if (file.kind === 'checkpoint') {
    if (epochFlag !== undefined) throw new UsageError('--epoch applies to run files; a checkpoint has one epoch');
    return { checkpoint: file.checkpoint, source: 'checkpoint', torch: null };
  }
  if (file.kind === 'sweep') throw new InputError('this is a packed sweep: it holds the histories of many runs, not model weights');
  if (file.kind === 'sequence') throw new InputError(`this is the authors' ${file.sequence.task} run (App. D.3): give analyze its path (a file, not a pipe) to measure it on fresh problems`);
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

/**
 * An authors' file of an appendix task (files/torch/sequence-import.ts), or null for any other
 * path. Only a regular file is tried: a pipe is read once, by readModelFile.
 */
export function readSequenceFile(path: string): SequenceImport | null {
  const st = statSync(path, { throwIfNoEntry: false });
  if (!st?.isFile() || st.size > MAX_RUN_BYTES) return null;
  const bytes = new Uint8Array(readFileSync(path));
  return isTorchFile(bytes) ? readSequenceTorch(bytes, basename(path)) : null;
}
