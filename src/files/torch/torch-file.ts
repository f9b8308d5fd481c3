/**
 * torch.save files (PyTorch ≥ 1.6 zip archives): the pickled object tree, read safely
 * (pickle.ts), with every tensor's values copied out of its storage entry into a contiguous
 * little-endian RawTensor. A legacy (pre-1.6) file is recognised and refused with what to do.
 */
import { DTYPE_BYTES, elementCount, type RawTensor } from '../safetensors/safetensors.ts';
import { readPickle, storageFromPid, TorchTensor, type PyValue } from './pickle.ts';
import { isLegacyTorch, isZip } from './magic.ts';
import { TorchFileError, ZipReader } from './zip.ts';

function fail(message: string): never {
  throw new TorchFileError(message);
}

export interface TorchFile {
  root: PyValue;
  /** A tensor's values, contiguous in row-major order. */
  tensor(t: TorchTensor): RawTensor;
}

/**
 * Values all tensors of one file may take once copied out, counted as float32 (the model's
 * precision): a file is at most 512 MB, and a tensor is never larger than its storage, so a real
 * file stays well inside this; a pickle that names one tensor many times (its memo) does not.
 */
export const MAX_TENSOR_BYTES = 768 * 1024 * 1024;

const fmt = (n: number) => n.toLocaleString('en-US');

export function readTorchFile(bytes: Uint8Array, opts: { maxTensorBytes?: number } = {}): TorchFile {
  if (isLegacyTorch(bytes)) fail('this is a legacy (pre-1.6) torch file; load it in Python and re-save it with torch ≥ 1.6 (torch.save writes the zip format by default)');
  if (!isZip(bytes)) fail('this is not a torch.save file (no zip archive)');
  const zip = new ZipReader(bytes);
  const pkl = [...zip.entries.keys()].find((n) => /^[^/]+\/data\.pkl$/.test(n));
  if (!pkl) fail('the archive has no data.pkl: it is a zip file but not one torch.save wrote');
  const prefix = pkl.slice(0, -'data.pkl'.length);
  if (zip.entries.has(`${prefix}byteorder`)) {
    const order = new TextDecoder().decode(zip.read(`${prefix}byteorder`).subarray(0, 16));
    if (order !== 'little') fail(`the file's tensors are ${order}-endian; re-save it on a little-endian machine`);
  }
  const root = readPickle(zip.read(pkl), storageFromPid);
  const storages = new Map<string, Uint8Array>();
  // One copy per tensor object (a memo may name the same tensor many times), within a budget.
  const copies = new WeakMap<TorchTensor, RawTensor>();
  const budget = opts.maxTensorBytes ?? MAX_TENSOR_BYTES;
  let spent = 0;
  return {
    root,
    tensor(t: TorchTensor): RawTensor {
      const cached = copies.get(t);
      if (cached) return cached;
      const { dtype, key, numel } = t.storage;
      const size = DTYPE_BYTES[dtype];
      const n = elementCount(t.shape);
      const shape = `[${t.shape.slice(0, 8).join(', ')}${t.shape.length > 8 ? ', …' : ''}]`;
      // Checked before anything is allocated: the shape against its strides and its storage.
      if (!Number.isSafeInteger(n)) fail(`a tensor of shape ${shape} has more elements than can be counted`);
      if (n > numel) {
        fail(`a tensor of shape ${shape} has ${fmt(n)} elements but its storage holds ${fmt(numel)}: a broadcast (stride ${t.stride.slice(0, 8).join(', ')}) view, which no saved model is; it was not expanded`);
      }
      let last = t.offset;
      for (let d = 0; d < t.shape.length; d++) if (t.shape[d] > 0) last += (t.shape[d] - 1) * t.stride[d];
      if (n > 0 && last + 1 > numel) fail(`a tensor of shape ${shape} reads past the end of its storage ${key} (${fmt(numel)} elements)`);
      spent += n * 4;
      if (spent > budget) fail(`the file's tensors take more than ${Math.round(budget / 1024 / 1024)} MB once read (a pickle that names its tensors over and over?); it was not read further`);
      let data = storages.get(key);
      if (!data) {
        data = zip.read(`${prefix}data/${key}`);
        if (data.byteLength < numel * size) fail(`storage ${key} holds ${fmt(data.byteLength)} bytes, fewer than its ${fmt(numel)} elements need`);
        storages.set(key, data);
      }
      let contiguous = true;
      for (let d = t.shape.length - 1, expect = 1; d >= 0; d--) {
        if (t.shape[d] !== 1 && t.stride[d] !== expect) contiguous = false;
        expect *= t.shape[d];
      }
      let out: RawTensor;
      if (contiguous) out = { dtype, shape: [...t.shape], bytes: data.slice(t.offset * size, (t.offset + n) * size) };
      else {
        // Walk the strided view (a saved tensor may be a transpose or a slice of its storage).
        const copy = new Uint8Array(n * size);
        const rank = t.shape.length;
        const idx = new Array<number>(rank).fill(0);
        for (let i = 0; i < n; i++) {
          let src = t.offset;
          for (let d = 0; d < rank; d++) src += idx[d] * t.stride[d];
          copy.set(data.subarray(src * size, (src + 1) * size), i * size);
          for (let d = rank - 1; d >= 0; d--) {
            if (++idx[d] < t.shape[d]) break;
            idx[d] = 0;
          }
        }
        out = { dtype, shape: [...t.shape], bytes: copy };
      }
      copies.set(t, out);
      return out;
    },
  };
}
