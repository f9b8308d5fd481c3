/**
 * Every file the page can import, read by one function that the page's Import button and
 * `npm run cli -- inspect` both use. A file is first un-gzipped (streamed, with a limit, by the one
 * inflater of src/files/inflate.ts), then its
 * kind is decided from its whole header — never from its first few kilobytes — by a small
 * registry: each kind says whether bytes are its own and how to read them, so another format is
 * one more entry in FILE_KINDS.
 */
import { decodeCheckpoint, type CheckpointData } from './safetensors/checkpoint.ts';
import { isTorchFile } from './torch/magic.ts';
import { MAX_HEADER_BYTES, SafetensorsError, readSafetensors } from './safetensors/safetensors.ts';
import { MAX_INFLATED_BYTES, inflate, isGzip, type HeadCheck } from './inflate.ts';
import { isZip } from './torch/magic.ts';
import { MAX_RUN_BYTES, RUN_FORMAT, decodeRun, type RunData } from './run-file.ts';
import { SWEEP_FORMAT, looksLikeJson, readPackedSweep, type PackedSweep } from './packed-sweep.ts';
import type { SequenceImport } from './torch/sequence-import.ts';

/** What the page does with a file: open a whole run, or start a new run from model weights. */
export type ImportedFile =
  /** `note`: for another tool's run (PyTorch), what was read, in words; its curves are its own. */
  | { kind: 'run'; label: string; run: RunData; note?: string }
  | { kind: 'checkpoint'; label: string; checkpoint: CheckpointData }
  /** A packed sweep: histories of many runs, shown in the sweep views. */
  | { kind: 'sweep'; label: string; sweep: PackedSweep }
  /** The authors' saved run of an appendix task (App. D.3): its model or its loss curves. */
  | { kind: 'sequence'; label: string; sequence: SequenceImport };

/** The metadata and tensor names of a safetensors file, or null if its header cannot be read. */
export interface SafetensorsPeek {
  metadata: Record<string, unknown>;
  names: string[];
}

export interface FileKind {
  id: string;
  /** How the page names the kind to the person ("grokscope run file"). */
  label: string;
  matches(bytes: Uint8Array, header: SafetensorsPeek | null): boolean;
  /** Reads and checks the file; throws a SafetensorsError with a message for the person. */
  read(bytes: Uint8Array, name: string): ImportedFile | Promise<ImportedFile>;
}

/** Reads a safetensors header alone (no tensor data), for deciding what the file is. */
export function peekSafetensors(bytes: Uint8Array): SafetensorsPeek | null {
  if (bytes.byteLength < 8) return null;
  const n = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(0, true);
  if (n > BigInt(Math.min(MAX_HEADER_BYTES, bytes.byteLength - 8))) return null;
  try {
    const header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + Number(n)))) as unknown;
    if (typeof header !== 'object' || header === null || Array.isArray(header)) return null;
    const { __metadata__: meta, ...rest } = header as Record<string, unknown>;
    return { metadata: typeof meta === 'object' && meta !== null && !Array.isArray(meta) ? (meta as Record<string, unknown>) : {}, names: Object.keys(rest) };
  } catch {
    return null;
  }
}

const isRunHeader = (h: SafetensorsPeek | null) => typeof h?.metadata.format === 'string' && h.metadata.format.startsWith('grokscope-run/');

export const TORCH_LABEL = "PyTorch file (torch.save: the paper authors' or TransformerLens')";

/** The authors' sweep files (authors-sweeps.ts), or null. */
export async function authorsSweepFile(bytes: Uint8Array): Promise<PackedSweep | null> {
  const [{ readTorchFile }, { authorsSweep }] = await Promise.all([import('./torch/torch-file.ts'), import('./authors-sweeps.ts')]);
  try {
    return authorsSweep(readTorchFile(bytes).root);
  } catch (err) {
    throw new SafetensorsError(err instanceof Error ? err.message : String(err));
  }
}

/**
 * A torch file that is not a grokscope-task run: one of the authors' sweep files, or their saved
 * run of an appendix task; null when it is neither (the run reader's refusal then stands).
 */
export async function otherTorchFile(bytes: Uint8Array, name: string): Promise<ImportedFile | null> {
  const sweep = await authorsSweepFile(bytes);
  if (sweep) return { kind: 'sweep', label: `${TORCH_LABEL}: a sweep`, sweep };
  const { readSequenceTorch } = await import('./torch/sequence-import.ts');
  let sequence: SequenceImport | null;
  try {
    sequence = readSequenceTorch(bytes, name);
  } catch (err) {
    throw new SafetensorsError(err instanceof Error ? err.message : String(err));
  }
  return sequence ? { kind: 'sequence', label: `${TORCH_LABEL}: the authors' ${sequence.task} run (App. D.3)`, sequence } : null;
}

/** The kinds the page reads, tried in order. */
export const FILE_KINDS: FileKind[] = [
  {
    id: 'torch',
    label: TORCH_LABEL,
    matches: (bytes) => isTorchFile(bytes),
    // The PyTorch reader (safe pickle, zip) loads on first use, not with the page.
    read: async (bytes, name) => {
      const { torchImport } = await import('./torch-run.ts');
      try {
        return { kind: 'run', label: TORCH_LABEL, ...torchImport([{ name, bytes }]) };
      } catch (err) {
        // Not a run: perhaps one of the authors' sweep files or appendix-task runs.
        const other = await otherTorchFile(bytes, name);
        if (other) return other;
        throw err;
      }
    },
  },
  {
    id: 'run',
    label: `grokscope run file (${RUN_FORMAT})`,
    matches: (_bytes, h) => isRunHeader(h),
    read: (bytes) => {
      const run = decodeRun(bytes);
      // Opened, it would show a fresh run at epoch 0 and drop the history it came with.
      if (run.snapshots.length === 0 && !run.resume) {
        throw new SafetensorsError(`this run file holds no weights (no snapshots and no resume state), only the history of its ${run.history.length.toLocaleString('en-US')} checkpoint${run.history.length === 1 ? '' : 's'}: there is no model to show or train on`);
      }
      return { kind: 'run', label: `grokscope run file (${RUN_FORMAT})`, run };
    },
  },
  {
    id: 'sweep',
    label: `packed sweep (${SWEEP_FORMAT}, from the CLI's merge)`,
    matches: (bytes) => looksLikeJson(bytes),
    read: (bytes) => ({ kind: 'sweep', label: `packed sweep (${SWEEP_FORMAT})`, sweep: readPackedSweep(decodeText(bytes)) }),
  },
  {
    id: 'checkpoint',
    label: 'model weights (safetensors)',
    matches: (_bytes, h) => h !== null && !isRunHeader(h),
    read: (bytes) => ({ kind: 'checkpoint', label: 'model weights (safetensors)', checkpoint: decodeCheckpoint(bytes) }),
  },
];

function decodeText(bytes: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new SafetensorsError('it starts like JSON but is not UTF-8 text');
  }
}

/** What a refused file is told it should have been. */
export function knownKinds(): string {
  return FILE_KINDS.map((k) => k.label).join(', ');
}

/**
 * What the first inflated bytes of an importable file must be: a safetensors header (which states
 * the file's size: the file is held to it), a zip archive (a PyTorch file) or JSON (a packed
 * sweep). Anything else is
 * refused before more is inflated, so a gzip bomb of zeros costs its first chunk.
 */
export const importHeadCheck: HeadCheck = (head) => {
  if (head.length < 8) return { need: 8 };
  if (isZip(head) || looksLikeJson(head)) return 'unknown';
  const n = new DataView(head.buffer, head.byteOffset, 8).getBigUint64(0, true);
  const notOurs = (why: string) => new SafetensorsError(`this is not a file the page reads (it reads: ${knownKinds()}): ${why}; it was not decompressed further`);
  if (n === 0n || n > BigInt(MAX_HEADER_BYTES)) throw notOurs(`its first bytes are neither a safetensors header (a header of ${n.toLocaleString('en-US')} bytes), a zip archive nor JSON`);
  if (head.length < 8 + Number(n)) return { need: 8 + Number(n) };
  let end = 0;
  try {
    const header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(head.subarray(8, 8 + Number(n)))) as Record<string, { data_offsets?: unknown }>;
    for (const [name, t] of Object.entries(header)) {
      if (name === '__metadata__' || !Array.isArray(t?.data_offsets)) continue;
      const e = Number(t.data_offsets[1]);
      if (Number.isFinite(e)) end = Math.max(end, e);
    }
  } catch {
    throw notOurs('its header is not valid');
  }
  return { size: 8 + Number(n) + end };
};

/**
 * Reads any importable file (gzip or not) and checks it. Throws a SafetensorsError whose message
 * says, in one line, why the file is refused.
 */
export async function readImportFile(raw: Uint8Array, opts: { maxInflated?: number; name?: string } = {}): Promise<ImportedFile> {
  if (raw.byteLength > MAX_RUN_BYTES) throw new SafetensorsError(`the file is ${(raw.byteLength / 1e6).toFixed(0)} MB, more than the ${MAX_RUN_BYTES / 1024 / 1024} MB this page reads`);
  let bytes = raw;
  if (isGzip(raw)) bytes = await inflate(raw, opts.maxInflated ?? MAX_INFLATED_BYTES, importHeadCheck);
  const header = peekSafetensors(bytes);
  const kind = FILE_KINDS.find((k) => k.matches(bytes, header));
  if (!kind) {
    // Say what is wrong with it as safetensors too: a damaged header is the common case.
    let reason = 'its header is not valid';
    try {
      readSafetensors(bytes, { maxBytes: MAX_INFLATED_BYTES });
    } catch (err) {
      reason = err instanceof Error ? err.message : String(err);
    }
    throw new SafetensorsError(`this is not a file the page reads (it reads: ${knownKinds()}): ${reason}`);
  }
  try {
    return await kind.read(bytes, opts.name ?? 'the file');
  } catch (err) {
    throw plainError(err);
  }
}

/**
 * A refusal in words: the readers' own errors pass as they are; an engine's RangeError ("Invalid
 * array length") means the file describes something too large to hold.
 */
export function plainError(err: unknown): Error {
  if (err instanceof SafetensorsError) return err;
  if (err instanceof RangeError) return new SafetensorsError(`the file describes data too large to hold in memory (${String(err.message).slice(0, 80)})`);
  return err instanceof Error ? err : new SafetensorsError(String(err));
}
