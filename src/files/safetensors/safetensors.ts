/**
 * The safetensors format (huggingface/safetensors, documented in its README): an 8-byte
 * little-endian header length N, N bytes of UTF-8 JSON mapping each tensor name to
 * {dtype, shape, data_offsets: [begin, end]} (plus an optional "__metadata__" of string values),
 * then the data buffer, which the tensors cover exactly, row-major and little-endian.
 *
 * This file holds the generic reader/writer; checkpoint.ts and run-file.ts give it meaning.
 * Every problem in a file becomes a SafetensorsError with a plain message: nothing else throws,
 * and nothing large is allocated before sizes are checked.
 */
import { cutText } from '../../run/format.ts';

export class SafetensorsError extends Error {
  override name = 'SafetensorsError';
}

export const DTYPE_BYTES = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 } as const;
export type Dtype = keyof typeof DTYPE_BYTES;

export interface RawTensor {
  dtype: Dtype;
  shape: number[];
  /** The tensor's bytes, little-endian (a view into the file when read). */
  bytes: Uint8Array;
}

/** A header longer than this is not a model checkpoint (the format's own reader caps it at 100 MB). */
export const MAX_HEADER_BYTES = 100 * 1024 * 1024;

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function fail(message: string): never {
  throw new SafetensorsError(message);
}

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Serializes tensors (in the given order) and string metadata. */
export function writeSafetensors(tensors: [string, RawTensor][], metadata: Record<string, string> = {}): Uint8Array {
  if (!LITTLE_ENDIAN) throw new Error('safetensors writing needs a little-endian platform');
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, t] of tensors) {
    const expected = elementCount(t.shape) * DTYPE_BYTES[t.dtype];
    if (t.bytes.byteLength !== expected) throw new Error(`tensor "${cutText(name)}" has ${t.bytes.byteLength} bytes, its shape needs ${expected}`);
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + expected] };
    offset += expected;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  // Pad the header with spaces so the data starts 8-byte aligned.
  const padded = Math.ceil((8 + json.length) / 8) * 8 - 8;
  if (padded !== json.length) {
    const p = new Uint8Array(padded).fill(0x20);
    p.set(json);
    json = p;
  }
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const [, t] of tensors) {
    out.set(t.bytes, at);
    at += t.bytes.byteLength;
  }
  return out;
}

export interface ParsedSafetensors {
  tensors: Map<string, RawTensor>;
  metadata: Record<string, string>;
}

/** Parses and checks a safetensors file; `maxBytes` refuses larger files before reading them. */
export function readSafetensors(bytes: Uint8Array, opts: { maxBytes?: number } = {}): ParsedSafetensors {
  if (!(bytes instanceof Uint8Array)) fail('the file is not binary data');
  const maxBytes = opts.maxBytes ?? Infinity;
  if (bytes.byteLength > maxBytes) fail(`the file is ${bytes.byteLength} bytes, more than the ${maxBytes} allowed`);
  if (bytes.byteLength < 8) fail(`the file is ${bytes.byteLength} bytes long, too short for a safetensors header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getBigUint64(0, true);
  if (headerLength > BigInt(MAX_HEADER_BYTES)) fail(`the header claims ${headerLength} bytes, more than the format allows`);
  const n = Number(headerLength);
  if (8 + n > bytes.byteLength) fail(`the file is truncated: its header needs ${n} bytes but only ${bytes.byteLength - 8} follow`);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n)));
  } catch {
    fail('the header is not valid UTF-8 JSON');
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail('the header is not a JSON object');
  const dataStart = 8 + n;
  const dataLength = bytes.byteLength - dataStart;
  const metadata: Record<string, string> = {};
  const entries: { name: string; dtype: Dtype; shape: number[]; begin: number; end: number }[] = [];
  for (const [name, value] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) fail('"__metadata__" is not an object');
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        if (typeof v !== 'string') fail(`metadata "${cutText(k)}" is not a string`);
        metadata[k] = v;
      }
      continue;
    }
    const e = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown } | null;
    if (typeof e !== 'object' || e === null) fail(`tensor "${cutText(name)}" has no description`);
    if (typeof e.dtype !== 'string' || !(e.dtype in DTYPE_BYTES)) fail(`tensor "${cutText(name)}" has an unknown dtype ${JSON.stringify(e.dtype)}`);
    if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) fail(`tensor "${cutText(name)}" has an invalid shape`);
    const offsets = e.data_offsets;
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
      fail(`tensor "${cutText(name)}" has invalid data_offsets`);
    }
    const [begin, end] = offsets as number[];
    const dtype = e.dtype as Dtype;
    const shape = e.shape as number[];
    if (end < begin) fail(`tensor "${cutText(name)}" ends before it begins`);
    if (end > dataLength) fail(`the file is truncated: tensor "${cutText(name)}" ends at byte ${end} of a ${dataLength}-byte data buffer`);
    const expected = elementCount(shape) * DTYPE_BYTES[dtype];
    if (end - begin !== expected) fail(`tensor "${cutText(name)}" has ${end - begin} bytes, but ${dtype} [${shape.join(', ')}] needs ${expected}`);
    entries.push({ name, dtype, shape, begin, end });
  }
  // The tensors must tile the data buffer exactly: sorted by offset, no gaps, no overlaps.
  entries.sort((a, b) => a.begin - b.begin);
  let cursor = 0;
  for (const e of entries) {
    if (e.begin < cursor) fail(`tensor "${e.name}" overlaps the one before it`);
    if (e.begin > cursor) fail(`the data buffer has a gap before tensor "${e.name}"`);
    cursor = e.end;
  }
  if (cursor !== dataLength) fail(`the file has ${dataLength - cursor} bytes after its last tensor (oversized or corrupt)`);
  const tensors = new Map<string, RawTensor>();
  for (const e of entries) tensors.set(e.name, { dtype: e.dtype, shape: e.shape, bytes: bytes.subarray(dataStart + e.begin, dataStart + e.end) });
  return { tensors, metadata };
}

/** Copies bytes into an aligned buffer (file offsets need not be aligned for the element type). */
function aligned(bytes: Uint8Array): ArrayBuffer {
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return copy.buffer;
}

export function f32Tensor(shape: number[], values: Float32Array): RawTensor {
  return { dtype: 'F32', shape, bytes: new Uint8Array(values.buffer, values.byteOffset, values.byteLength) };
}

export function f64Tensor(shape: number[], values: Float64Array): RawTensor {
  return { dtype: 'F64', shape, bytes: new Uint8Array(values.buffer, values.byteOffset, values.byteLength) };
}

export function i64Tensor(values: ArrayLike<number>): RawTensor {
  const big = BigInt64Array.from(Array.from(values, (v) => BigInt(v)));
  return { dtype: 'I64', shape: [values.length], bytes: new Uint8Array(big.buffer) };
}

/** Half-precision storage (for compact snapshots): round to nearest even. */
export function f16Tensor(shape: number[], values: Float32Array): RawTensor {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = toHalf(values[i]);
  return { dtype: 'F16', shape, bytes: new Uint8Array(out.buffer) };
}

/** A tensor's values as float32 (from F32, F16, BF16 or F64). */
export function readFloats(t: RawTensor): Float32Array {
  switch (t.dtype) {
    case 'F32':
      return new Float32Array(aligned(t.bytes));
    case 'F64':
      return Float32Array.from(new Float64Array(aligned(t.bytes)));
    case 'F16': {
      const h = new Uint16Array(aligned(t.bytes));
      const out = new Float32Array(h.length);
      for (let i = 0; i < h.length; i++) out[i] = fromHalf(h[i]);
      return out;
    }
    case 'BF16': {
      const h = new Uint16Array(aligned(t.bytes));
      const bits = new Uint32Array(h.length);
      for (let i = 0; i < h.length; i++) bits[i] = h[i] << 16;
      return new Float32Array(bits.buffer);
    }
    default:
      fail(`expected a floating-point tensor, got ${t.dtype}`);
  }
}

/** A tensor's values as float64 (exact for F64; F32/F16/BF16 widened). */
export function readDoubles(t: RawTensor): Float64Array {
  return t.dtype === 'F64' ? new Float64Array(aligned(t.bytes)) : Float64Array.from(readFloats(t));
}

/** A tensor's values as integers (from I64, I32, I16, I8 or U8); I64 beyond 2^53 fails. */
export function readInts(t: RawTensor): number[] {
  const buf = aligned(t.bytes);
  switch (t.dtype) {
    case 'I64':
      return Array.from(new BigInt64Array(buf), (v) => {
        if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) fail('an integer is out of range');
        return Number(v);
      });
    case 'I32':
      return Array.from(new Int32Array(buf));
    case 'I16':
      return Array.from(new Int16Array(buf));
    case 'I8':
      return Array.from(new Int8Array(buf));
    case 'U8':
      return Array.from(new Uint8Array(buf));
    default:
      fail(`expected an integer tensor, got ${t.dtype}`);
  }
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** float32 → IEEE half bits, rounding to nearest even, with overflow to ±Inf and subnormals. */
export function toHalf(value: number): number {
  f32[0] = value;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0); // Inf / NaN
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00; // overflow → Inf
  if (e <= 0) {
    if (e < -10) return sign; // underflow → ±0
    // Subnormal: shift the mantissa (with its implicit 1) right, rounding to nearest even.
    const m = mant | 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    const rest = m & ((1 << shift) - 1);
    let r = m >>> shift;
    if (rest > half || (rest === half && r & 1)) r++;
    return sign | r;
  }
  let r = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && r & 1)) r++; // may carry into the exponent: still right
  return sign | r;
}

export function fromHalf(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}
