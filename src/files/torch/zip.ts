/**
 * The zip container torch.save writes (PyTorch ≥ 1.6, "archive/data.pkl" plus one entry per
 * storage): entries are stored uncompressed, so reading one is a slice of the file. The central
 * directory is the source of truth (ZIP64 records included, for files past 4 GiB); compressed
 * entries are refused with a message, never inflated. Nothing here allocates before sizes check.
 */
import { SafetensorsError } from '../safetensors/safetensors.ts';

export class TorchFileError extends SafetensorsError {
  override name = 'TorchFileError';
}

function fail(message: string): never {
  throw new TorchFileError(message);
}

export interface ZipEntry {
  name: string;
  /** 0 = stored, 8 = deflate. */
  method: number;
  size: number;
  /** Offset of the entry's local header. */
  headerOffset: number;
}

/** Local file header, central directory, end of central directory (and their ZIP64 forms). */
const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_EOCD = 0x06054b50;
const SIG_EOCD64 = 0x06064b50;
const SIG_EOCD64_LOCATOR = 0x07064b50;

function u64(view: DataView, at: number): number {
  const v = view.getBigUint64(at, true);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) fail(`the zip archive states a size or offset of ${v} bytes, past any file: it is damaged or made up`);
  return Number(v);
}

export class ZipReader {
  readonly entries = new Map<string, ZipEntry>();
  private view: DataView;

  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const view = this.view;
    // The end record sits in the last 22 + 65535 bytes (its comment may be up to 64 KiB).
    let eocd = -1;
    for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 22 - 65535); i--) {
      if (view.getUint32(i, true) === SIG_EOCD) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) fail('the zip archive has no end record (truncated or not a zip file)');
    let count = view.getUint16(eocd + 10, true);
    let cdSize = view.getUint32(eocd + 12, true);
    let cdOffset = view.getUint32(eocd + 16, true);
    if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
      const loc = eocd - 20;
      if (loc < 0 || view.getUint32(loc, true) !== SIG_EOCD64_LOCATOR) fail('the zip archive is ZIP64 but has no ZIP64 locator');
      const at = u64(view, loc + 8);
      if (at + 56 > bytes.length || view.getUint32(at, true) !== SIG_EOCD64) fail('the ZIP64 end record is missing or truncated');
      count = u64(view, at + 32);
      cdSize = u64(view, at + 40);
      cdOffset = u64(view, at + 48);
    }
    if (cdOffset + cdSize > bytes.length) fail('the zip archive is truncated: its directory lies past the end of the file');
    let at = cdOffset;
    for (let i = 0; i < count; i++) {
      if (at + 46 > bytes.length || view.getUint32(at, true) !== SIG_CENTRAL) fail(`the zip directory is corrupt at entry ${i}`);
      const method = view.getUint16(at + 10, true);
      let size = view.getUint32(at + 24, true);
      let usize = view.getUint32(at + 20, true);
      const nameLen = view.getUint16(at + 28, true);
      const extraLen = view.getUint16(at + 30, true);
      const commentLen = view.getUint16(at + 32, true);
      let headerOffset = view.getUint32(at + 42, true);
      const name = new TextDecoder().decode(bytes.subarray(at + 46, at + 46 + nameLen));
      // ZIP64 extra field (id 1): the 64-bit values of the fields that were saturated, in order.
      let x = at + 46 + nameLen;
      const xEnd = x + extraLen;
      while (x + 4 <= xEnd) {
        const id = view.getUint16(x, true);
        const len = view.getUint16(x + 2, true);
        if (id === 1) {
          let p = x + 4;
          if (size === 0xffffffff) (size = u64(view, p)), (p += 8);
          if (usize === 0xffffffff) (usize = u64(view, p)), (p += 8);
          if (headerOffset === 0xffffffff) headerOffset = u64(view, p);
        }
        x += 4 + len;
      }
      this.entries.set(name, { name, method, size: method === 0 ? usize : size, headerOffset });
      at = xEnd + commentLen;
    }
  }

  /** The bytes of an entry (a view into the file). */
  read(name: string): Uint8Array {
    const e = this.entries.get(name);
    if (!e) fail(`the archive has no entry "${name}"`);
    if (e.method !== 0) {
      fail(`entry "${name}" is compressed (zip method ${e.method}); torch.save writes entries uncompressed — load it in Python and torch.save it again`);
    }
    const h = e.headerOffset;
    if (h + 30 > this.bytes.length || this.view.getUint32(h, true) !== SIG_LOCAL) fail(`entry "${name}" has no local header`);
    const start = h + 30 + this.view.getUint16(h + 26, true) + this.view.getUint16(h + 28, true);
    if (start + e.size > this.bytes.length) fail(`the archive is truncated: entry "${name}" ends past the end of the file`);
    return this.bytes.subarray(start, start + e.size);
  }
}
