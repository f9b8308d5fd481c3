/**
 * What the page's import worker does with the files a person gives it (src/worker/import.worker.ts):
 * reads them completely, off the page's main thread, with every reader's limits, and answers with
 * what they are — a run, model weights, a packed sweep — or why they are refused. Several files are
 * one run only when they are the PyTorch files of one run; otherwise the first is read and the
 * others are named as not opened.
 */
import { TORCH_LABEL, otherTorchFile, readImportFile, plainError, type ImportedFile } from './import-file.ts';
import { MAX_RUN_BYTES } from './run-file.ts';
import { SafetensorsError } from './safetensors/safetensors.ts';
import { isTorchFile } from './torch/magic.ts';

/** One file to read: its name and its bytes, still on disk (a File or Blob). */
export interface ImportSource {
  name: string;
  blob: Blob;
}

export type ImportAnswer =
  | { ok: true; file: ImportedFile; torch: boolean; opened: string[]; ignored: string[] }
  | { ok: false; message: string; torch: boolean; names: string[] };

const mb = (n: number) => `${Math.round(n / 1e6).toLocaleString('en-US')} MB`;

function tooLarge(name: string, size: number): SafetensorsError {
  return new SafetensorsError(`${name.slice(0, 80)} is ${mb(size)}, more than the ${MAX_RUN_BYTES / 1024 / 1024} MB this page reads`);
}

async function bytesOf(src: ImportSource): Promise<Uint8Array> {
  if (src.blob.size > MAX_RUN_BYTES) throw tooLarge(src.name, src.blob.size);
  return new Uint8Array(await src.blob.arrayBuffer());
}

/** The PyTorch files of one run, read as one run. */
async function readTorchFiles(files: ImportSource[]): Promise<ImportedFile> {
  const total = files.reduce((n, f) => n + f.blob.size, 0);
  if (total > MAX_RUN_BYTES) throw new SafetensorsError(`the ${files.length} files are ${mb(total)} together, more than the ${MAX_RUN_BYTES / 1024 / 1024} MB this page reads`);
  const parts = [];
  for (const f of files) parts.push({ name: f.name, bytes: await bytesOf(f) });
  // The PyTorch reader (safe pickle, zip) loads on first use.
  const { torchImport } = await import('./torch-run.ts');
  try {
    return { kind: 'run', label: TORCH_LABEL, ...torchImport(parts) };
  } catch (err) {
    // One file that is not a run: perhaps an authors' sweep or appendix-task file (as readImportFile reads it).
    const other = parts.length === 1 ? await otherTorchFile(parts[0].bytes, parts[0].name) : null;
    if (other) return other;
    throw err;
  }
}

/** Reads what a person dropped or chose; never throws. */
export async function readFiles(files: ImportSource[]): Promise<ImportAnswer> {
  const names = files.map((f) => f.name);
  let torch = false;
  try {
    if (files.length === 0) throw new SafetensorsError('no file was given');
    const heads = await Promise.all(files.map(async (f) => new Uint8Array(await f.blob.slice(0, 8).arrayBuffer())));
    torch = heads.every(isTorchFile) || files.every((f) => /\.(pth|pt)$/i.test(f.name));
    if (torch) return { ok: true, file: await readTorchFiles(files), torch, opened: names, ignored: [] };
    const file = await readImportFile(await bytesOf(files[0]), { name: files[0].name });
    return { ok: true, file, torch: file.label === TORCH_LABEL, opened: [names[0]], ignored: names.slice(1) };
  } catch (err) {
    return { ok: false, message: plainError(err).message, torch, names };
  }
}

/** The buffers an answer can hand over instead of copying (weights, moments, the split). */
export function transferables(answer: ImportAnswer): ArrayBuffer[] {
  if (!answer.ok) return [];
  const arrays: ArrayBufferView[] = [];
  const f = answer.file;
  if (f.kind === 'run') {
    arrays.push(f.run.trainIndices);
    for (const s of f.run.snapshots) arrays.push(s.weights);
    if (f.run.resume) arrays.push(f.run.resume.weights, f.run.resume.m, f.run.resume.v);
  } else if (f.kind === 'checkpoint') {
    for (const w of Object.values(f.checkpoint.weights)) arrays.push(w);
    if (f.checkpoint.trainIndices) arrays.push(f.checkpoint.trainIndices);
  }
  return [...new Set(arrays.map((a) => a.buffer))].filter((b): b is ArrayBuffer => b instanceof ArrayBuffer);
}
