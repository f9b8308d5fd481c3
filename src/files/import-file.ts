/**
 * Every file the page can import, read by one function that the page's Import button and
 * `npm run cli -- inspect` both use. A file is first un-gzipped (streamed, with a limit), then its
 * kind is decided from its whole header — never from its first few kilobytes — by a small
 * registry: each kind says whether bytes are its own and how to read them, so another format is
 * one more entry in FILE_KINDS.
 */
import { decodeCheckpoint, type CheckpointData } from './safetensors/checkpoint.ts';
import { isTorchFile } from './torch/magic.ts';
import { MAX_HEADER_BYTES, SafetensorsError, readSafetensors } from './safetensors/safetensors.ts';
import { MAX_INFLATED_BYTES, inflateWeb, isGzip, type Inflater } from './inflate.ts';
import { MAX_RUN_BYTES, RUN_FORMAT, decodeRun, type RunData } from './run-file.ts';

/** What the page does with a file: open a whole run, or start a new run from model weights. */
export type ImportedFile =
  /** `note`: for another tool's run (PyTorch), what was read, in words; its curves are its own. */
  | { kind: 'run'; label: string; run: RunData; note?: string }
  | { kind: 'checkpoint'; label: string; checkpoint: CheckpointData };

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

const TORCH_LABEL = "PyTorch file (torch.save: the paper authors' or TransformerLens')";

/** The kinds the page reads, tried in order. */
export const FILE_KINDS: FileKind[] = [
  {
    id: 'torch',
    label: TORCH_LABEL,
    matches: (bytes) => isTorchFile(bytes),
    // The PyTorch reader (safe pickle, zip) loads on first use, not with the page.
    read: async (bytes, name) => {
      const [{ readTorchRun }, { torchRunData }] = await Promise.all([import('./torch/import.ts'), import('./torch-run.ts')]);
      let torch;
      try {
        torch = readTorchRun(bytes, name);
      } catch (err) {
        throw new SafetensorsError(err instanceof Error ? err.message : String(err));
      }
      const run = torchRunData(torch, name);
      const curves = run.history.length > 0 ? ` Loss curves: ${run.history.length} rows.` : '';
      return { kind: 'run', label: TORCH_LABEL, run, note: `Read ${torch.description}. Split: ${torch.splitSource}.${curves} The views at each snapshot are measured when you scrub to it.` };
    },
  },
  {
    id: 'run',
    label: `grokscope run file (${RUN_FORMAT})`,
    matches: (_bytes, h) => isRunHeader(h),
    read: (bytes) => ({ kind: 'run', label: `grokscope run file (${RUN_FORMAT})`, run: decodeRun(bytes) }),
  },
  {
    id: 'checkpoint',
    label: 'model weights (safetensors)',
    matches: (_bytes, h) => h !== null && !isRunHeader(h),
    read: (bytes) => ({ kind: 'checkpoint', label: 'model weights (safetensors)', checkpoint: decodeCheckpoint(bytes) }),
  },
];

/** What a refused file is told it should have been. */
export function knownKinds(): string {
  return FILE_KINDS.map((k) => k.label).join(', ');
}

/**
 * Reads any importable file (gzip or not) and checks it. Throws a SafetensorsError whose message
 * says, in one line, why the file is refused. `inflate` decompresses gzip (the page's by default).
 */
export async function readImportFile(raw: Uint8Array, opts: { inflate?: Inflater; maxInflated?: number; name?: string } = {}): Promise<ImportedFile> {
  if (raw.byteLength > MAX_RUN_BYTES) throw new SafetensorsError(`the file is ${(raw.byteLength / 1e6).toFixed(0)} MB, more than the ${MAX_RUN_BYTES / 1024 / 1024} MB this page reads`);
  let bytes = raw;
  if (isGzip(raw)) bytes = await (opts.inflate ?? inflateWeb)(raw, opts.maxInflated ?? MAX_INFLATED_BYTES);
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
  return kind.read(bytes, opts.name ?? 'the file');
}
