/**
 * Concatenating and splitting along the last axis, as tight copies on wasm. tfjs-wasm does both
 * in JavaScript, one typed-array view per row, and its Slice first copies the whole input off the
 * heap (readSync) for every piece: the attention's 3-way scores ([N, h, 3]: a row of 1), the
 * tables' score and value columns, and the optimizer's flat vectors (11 pieces) cost more in
 * copies than in arithmetic there (8 small models batched: ~5 of ~19 ms an update). Elsewhere
 * these are tf.concat and tf.split. Pure copies: the values are tf's, and so are the gradients
 * (each op's gradient is the other).
 */
import * as tf from '@tensorflow/tfjs-core';

const CONCAT = 'GrokscopeConcatLast';
const SPLIT = 'GrokscopeSplitLast';

/** The parts of tfjs-backend-wasm's BackendWasm these kernels use. */
interface WasmHeap {
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo;
  wasm: { HEAPU8: Uint8Array };
}

/** A float32 view of a tensor on the heap (taken after every allocation: the heap may grow). */
function view(b: WasmHeap, t: tf.TensorInfo): Float32Array {
  if (t.dtype !== 'float32') throw new Error(`last-axis copies take float32, got ${t.dtype}`);
  return new Float32Array(b.wasm.HEAPU8.buffer, b.dataIdMap.get(t.dataId)!.memoryOffset, tf.util.sizeFromShape(t.shape));
}

/** Copies `width` values a row; a loop for short rows, where a view per row costs more than the copy. */
function copyRows(rows: number, width: number, from: Float32Array, fromStride: number, fromStart: number, to: Float32Array, toStride: number, toStart: number): void {
  if (width >= 16) {
    for (let r = 0; r < rows; r++) to.set(from.subarray(fromStart + r * fromStride, fromStart + r * fromStride + width), toStart + r * toStride);
    return;
  }
  for (let r = 0; r < rows; r++) {
    const f = fromStart + r * fromStride;
    const o = toStart + r * toStride;
    for (let j = 0; j < width; j++) to[o + j] = from[f + j];
  }
}

const last = (shape: number[]) => shape[shape.length - 1];

let registered = false;

function register(): void {
  if (registered) return;
  registered = true;
  tf.registerKernel({
    kernelName: CONCAT,
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend }) => {
      const b = backend as unknown as WasmHeap;
      const xs = Object.values(inputs) as tf.TensorInfo[];
      const width = xs.reduce((s, x) => s + last(x.shape), 0);
      const out = b.makeOutput([...xs[0].shape.slice(0, -1), width], 'float32');
      const o = view(b, out);
      const rows = o.length / width;
      let col = 0;
      for (const x of xs) {
        copyRows(rows, last(x.shape), view(b, x), last(x.shape), 0, o, width, col);
        col += last(x.shape);
      }
      return out;
    },
  });
  tf.registerKernel({
    kernelName: SPLIT,
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const b = backend as unknown as WasmHeap;
      const { x } = inputs as { x: tf.TensorInfo };
      const sizes = attrs!.sizes as number[];
      const width = last(x.shape);
      const outs = sizes.map((s) => b.makeOutput([...x.shape.slice(0, -1), s], 'float32'));
      const from = view(b, x);
      const rows = from.length / width;
      let col = 0;
      outs.forEach((out, k) => {
        copyRows(rows, sizes[k], from, width, col, view(b, out), sizes[k], 0);
        col += sizes[k];
      });
      return outs;
    },
  });
  tf.registerGradient({
    kernelName: CONCAT,
    gradFunc: (dy, saved, attrs) => {
      const parts = splitLast(dy as tf.Tensor, attrs!.sizes as number[]);
      return Object.fromEntries(parts.map((p, k) => [inputName(k), () => p]));
    },
  });
  tf.registerGradient({
    kernelName: SPLIT,
    gradFunc: (dys) => ({ x: () => concatLast(dys as tf.Tensor[]) }),
  });
}

/** Input names in order (the engine keeps the map's order; padded so they also sort in order). */
const inputName = (k: number) => `x${String(k).padStart(3, '0')}`;

/** `tf.concat(xs, -1)`: tensors of one shape but the last axis, side by side along it. */
export function concatLast<T extends tf.Tensor>(xs: T[]): T {
  if (tf.getBackend() !== 'wasm' || xs.length === 1) return tf.concat(xs, -1) as T;
  register();
  const inputs = Object.fromEntries(xs.map((x, k) => [inputName(k), x]));
  return tf.engine().runKernel(CONCAT, inputs, { sizes: xs.map((x) => last(x.shape)) } as unknown as tf.NamedAttrMap) as T;
}

/** `tf.split(x, sizes, -1)`: the last axis cut into pieces of these sizes. */
export function splitLast<T extends tf.Tensor>(x: T, sizes: number[]): T[] {
  if (sizes.reduce((s, k) => s + k, 0) !== last(x.shape)) throw new Error(`pieces of ${sizes.join(' + ')} do not make the last axis of [${x.shape.join(', ')}]`);
  if (tf.getBackend() !== 'wasm') return tf.split(x, sizes, -1) as T[];
  register();
  return tf.engine().runKernel(SPLIT, { x }, { sizes } as unknown as tf.NamedAttrMap) as unknown as T[];
}

/** `tf.stack(xs, -1)`: tensors of one shape side by side along a new last axis. */
export function stackLast(xs: tf.Tensor[]): tf.Tensor {
  return concatLast(xs.map((x) => tf.reshape(x, [...x.shape, 1])));
}
