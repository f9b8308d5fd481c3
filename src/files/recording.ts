/**
 * A run file laid out for a static host (GitHub Pages: no server code), so that a visitor sees the
 * curves at once and the snapshots arrive as the views need them:
 *
 *   recording.json      the manifest: which head file, which pieces file, each piece's epoch, byte
 *                       range and CRC-32
 *   head.grokrun.gz     a complete run file (config, history, split, the last snapshot): the curves
 *                       draw from it, and the run's latest weights are in hand
 *   snapshots.bin       every other snapshot, its float16 (or float32) values back to back, read
 *                       piece by piece with HTTP Range requests, or streamed whole when the
 *                       server ignores Range
 *
 * joinRecording puts the pieces back: the run equals the whole file's (round trip tested).
 */
import { fromHalf, toHalf } from './safetensors/safetensors.ts';
import { encodeRun, type RunData, type RunSnapshot } from './run-file.ts';
import { numParams } from '../model/transformer/params.ts';

export const RECORDING_FORMAT = 'grokscope-recording/1';

export interface RecordingPiece {
  epoch: number;
  /** Byte range [offset, offset + length) in the pieces file. */
  offset: number;
  length: number;
  crc32: number;
}

export interface RecordingManifest {
  format: typeof RECORDING_FORMAT;
  name: string;
  /** The head run file, relative to the manifest. */
  head: string;
  /** The pieces file, relative to the manifest. */
  pieces: string;
  dtype: 'F16' | 'F32';
  /** Values in each piece (the model's parameter count). */
  values: number;
  snapshots: RecordingPiece[];
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (the gzip/zip polynomial): a piece that arrived damaged is told apart from one that did not. */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function pieceBytes(weights: Float32Array, dtype: 'F16' | 'F32'): Uint8Array {
  if (dtype === 'F32') return new Uint8Array(weights.slice().buffer);
  const h = new Uint16Array(weights.length);
  for (let i = 0; i < weights.length; i++) h[i] = toHalf(weights[i]);
  return new Uint8Array(h.buffer);
}

/**
 * Splits a run into a head run file (uncompressed bytes; the caller gzips it), the pieces file and
 * the manifest. The last snapshot stays in the head: the run's latest weights and its integrity
 * check (the recorded loss recomputed on them) need nothing more.
 */
export function splitRecording(run: RunData, names: { head: string; pieces: string } = { head: 'head.grokrun.gz', pieces: 'snapshots.bin' }): { head: Uint8Array; pieces: Uint8Array; manifest: RecordingManifest } {
  const dtype = run.snapshotDtype ?? 'F32';
  const last = run.snapshots.at(-1);
  const rest = run.snapshots.slice(0, -1);
  const head = encodeRun({ ...run, snapshots: last ? [last] : [] }, { snapshotDtype: dtype });
  const parts = rest.map((s) => pieceBytes(s.weights, dtype));
  const pieces = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  const snapshots: RecordingPiece[] = [];
  let offset = 0;
  parts.forEach((p, i) => {
    pieces.set(p, offset);
    snapshots.push({ epoch: rest[i].epoch, offset, length: p.length, crc32: crc32(p) });
    offset += p.length;
  });
  return { head, pieces, manifest: { format: RECORDING_FORMAT, name: run.name, head: names.head, pieces: names.pieces, dtype, values: numParams(run.config), snapshots } };
}

/** The manifest, checked before anything is fetched by it; throws a message naming what is wrong. */
export function checkManifest(raw: unknown): RecordingManifest {
  const m = raw as RecordingManifest;
  if (typeof m !== 'object' || m === null) throw new Error('the recording manifest is not an object');
  if (m.format !== RECORDING_FORMAT) throw new Error(`the recording manifest is of format "${String(m.format).slice(0, 40)}"; this page reads "${RECORDING_FORMAT}"`);
  for (const k of ['head', 'pieces'] as const) {
    if (typeof m[k] !== 'string' || !/^[\w.-]{1,100}$/.test(m[k])) throw new Error(`the recording manifest's ${k} file name is invalid`);
  }
  if (m.dtype !== 'F16' && m.dtype !== 'F32') throw new Error(`the recording's snapshots are ${String(m.dtype).slice(0, 10)}; expected F16 or F32`);
  if (!Number.isSafeInteger(m.values) || m.values <= 0) throw new Error("the recording manifest's parameter count is invalid");
  if (!Array.isArray(m.snapshots) || m.snapshots.length > 100_000) throw new Error("the recording manifest's snapshot list is invalid");
  const bytes = m.values * (m.dtype === 'F16' ? 2 : 4);
  m.snapshots.forEach((s, i) => {
    const ok = Number.isSafeInteger(s.epoch) && s.epoch >= 0 && (i === 0 || s.epoch > m.snapshots[i - 1].epoch) && Number.isSafeInteger(s.offset) && s.offset >= 0 && s.length === bytes && Number.isInteger(s.crc32);
    if (!ok) throw new Error(`the recording manifest's snapshot ${i} is invalid`);
  });
  return { format: m.format, name: String(m.name ?? '').slice(0, 200), head: m.head, pieces: m.pieces, dtype: m.dtype, values: m.values, snapshots: m.snapshots.map((s) => ({ ...s })) };
}

/** One piece's bytes as a snapshot; throws a message when it is damaged (wrong size, CRC, NaN). */
export function readPiece(manifest: RecordingManifest, piece: RecordingPiece, bytes: Uint8Array): RunSnapshot {
  if (bytes.length !== piece.length) throw new Error(`the snapshot at epoch ${piece.epoch} arrived with ${bytes.length} bytes, not ${piece.length}`);
  if (crc32(bytes) !== piece.crc32) throw new Error(`the snapshot at epoch ${piece.epoch} is damaged (its CRC-32 does not match the manifest)`);
  const copy = bytes.slice();
  let weights: Float32Array;
  if (manifest.dtype === 'F32') weights = new Float32Array(copy.buffer);
  else {
    const h = new Uint16Array(copy.buffer);
    weights = new Float32Array(h.length);
    for (let i = 0; i < h.length; i++) weights[i] = fromHalf(h[i]);
  }
  if (!weights.every(Number.isFinite)) throw new Error(`the snapshot at epoch ${piece.epoch} holds NaN or infinite weights`);
  return { epoch: piece.epoch, weights };
}

/** The head's run with the snapshots that arrived, in epoch order (the head's own kept). */
export function joinRecording(head: RunData, arrived: readonly RunSnapshot[]): RunData {
  const byEpoch = new Map(head.snapshots.map((s) => [s.epoch, s]));
  for (const s of arrived) if (!byEpoch.has(s.epoch)) byEpoch.set(s.epoch, s);
  return { ...head, snapshots: [...byEpoch.values()].sort((a, b) => a.epoch - b.epoch) };
}

/** The next piece to fetch: the missing one nearest the epoch on show (the latest when following live). */
export function nextPiece(pieces: readonly RecordingPiece[], have: ReadonlySet<number>, epoch: number): RecordingPiece | null {
  let best: RecordingPiece | null = null;
  for (const p of pieces) {
    if (have.has(p.epoch)) continue;
    if (!best || Math.abs(p.epoch - epoch) < Math.abs(best.epoch - epoch)) best = p;
  }
  return best;
}

/**
 * The snapshots the story's views need (#25: only as many as they need): walking them in epoch
 * order, one is kept when what its views draw has moved by `step` or more since the last kept one:
 * train or test accuracy, the Gini of W_E or W_L (§5.1's sparsity, the Fourier views), or the
 * share of ‖W_L‖ at each frequency (total variation between the two profiles, the spectrum and the
 * neurons' frequencies). The first and the last are always kept; measures come from the history.
 */
export function storySnapshotEpochs(run: RunData, step: number): number[] {
  const at = new Map(run.history.map((c) => [c.epoch, c]));
  const epochs = run.snapshots.map((s) => s.epoch);
  const share = (norms: number[]) => {
    const total = norms.reduce((n, x) => n + x, 0);
    return norms.map((x) => (total > 0 ? x / total : 0));
  };
  const moved = (a: RunData['history'][number], b: RunData['history'][number]) => {
    const pa = share(a.normsWL);
    const pb = share(b.normsWL);
    const tv = pa.reduce((n, x, i) => n + Math.abs(x - (pb[i] ?? 0)), 0) / 2;
    return Math.max(Math.abs(a.trainAcc - b.trainAcc), Math.abs(a.testAcc - b.testAcc), Math.abs(a.giniWE - b.giniWE), Math.abs(a.giniWL - b.giniWL), tv);
  };
  const kept: number[] = [];
  let last: RunData['history'][number] | undefined;
  epochs.forEach((epoch, i) => {
    const c = at.get(epoch);
    // A snapshot without its checkpoint in the history cannot be judged: kept.
    if (!c || !last || i === epochs.length - 1 || moved(c, last) >= step) {
      kept.push(epoch);
      if (c) last = c;
    }
  });
  return kept;
}

