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

export function readTorchFile(bytes: Uint8Array): TorchFile {
  if (isLegacyTorch(bytes)) fail('this is a legacy (pre-1.6) torch file; load it in Python and re-save it with torch ≥ 1.6 (torch.save writes the zip format by default)');
  if (!isZip(bytes)) fail('this is not a torch.save file (no zip archive)');
  const zip = new ZipReader(bytes);
  const pkl = [...zip.entries.keys()].find((n) => /^[^/]+\/data\.pkl$/.test(n));
  if (!pkl) fail('the archive has no data.pkl: it is a zip file but not one torch.save wrote');
  const prefix = pkl.slice(0, -'data.pkl'.length);
  if (zip.entries.has(`${prefix}byteorder`)) {
    const order = new TextDecoder().decode(zip.read(`${prefix}byteorder`));
    if (order !== 'little') fail(`the file's tensors are ${order}-endian; re-save it on a little-endian machine`);
  }
  const root = readPickle(zip.read(pkl), storageFromPid);
  const storages = new Map<string, Uint8Array>();
  return {
    root,
    tensor(t: TorchTensor): RawTensor {
      const { dtype, key, numel } = t.storage;
      const size = DTYPE_BYTES[dtype];
      let data = storages.get(key);
      if (!data) {
        data = zip.read(`${prefix}data/${key}`);
        if (data.byteLength < numel * size) fail(`storage ${key} holds ${data.byteLength} bytes, fewer than its ${numel} elements need`);
        storages.set(key, data);
      }
      const n = elementCount(t.shape);
      const out = new Uint8Array(n * size);
      // Walk the strided view (a saved tensor may be a transpose or a slice of its storage).
      let last = t.offset;
      for (let d = 0; d < t.shape.length; d++) if (t.shape[d] > 0) last += (t.shape[d] - 1) * t.stride[d];
      if (n > 0 && (last + 1) * size > data.byteLength) fail(`a tensor of shape [${t.shape.join(', ')}] reads past the end of storage ${key}`);
      let contiguous = true;
      for (let d = t.shape.length - 1, expect = 1; d >= 0; d--) {
        if (t.shape[d] !== 1 && t.stride[d] !== expect) contiguous = false;
        expect *= t.shape[d];
      }
      if (contiguous) return { dtype, shape: [...t.shape], bytes: data.slice(t.offset * size, (t.offset + n) * size) };
      const rank = t.shape.length;
      const idx = new Array<number>(rank).fill(0);
      for (let i = 0; i < n; i++) {
        let src = t.offset;
        for (let d = 0; d < rank; d++) src += idx[d] * t.stride[d];
        out.set(data.subarray(src * size, (src + 1) * size), i * size);
        for (let d = rank - 1; d >= 0; d--) {
          if (++idx[d] < t.shape[d]) break;
          idx[d] = 0;
        }
      }
      return { dtype, shape: [...t.shape], bytes: out };
    },
  };
}
