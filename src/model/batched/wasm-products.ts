/**
 * The M models' matrix products `[M, n, k]·[M, k, m]` as one tfjs-wasm kernel that runs XNNPACK's
 * 2-D product once per model, on views into the operands' memory.
 *
 * Why: tfjs-wasm sends a BatchMatMul with batch > 1 to a naive loop (~10× slower per multiply-add
 * than XNNPACK), and splitting the operands into M tensors with tf.split / tf.stack costs more than
 * the products for small models (measured at P = 23, d_model 32, 8 models: SplitV, Concat, Pack
 * and Unpack took 21 of the update's 42 ms). Here each model's operands are registered with the
 * wasm module as tensors that point into the batched buffers (no copy), multiplied by the same
 * XNNPACK call a single run's 2-D product makes — hence the same float32 values — and written
 * straight into the model's rows of the output.
 */
import * as tf from '@tensorflow/tfjs-core';

export const PER_MODEL_MATMUL = 'GrokscopePerModelMatMul';

/** The parts of tfjs-backend-wasm's BackendWasm this file uses. */
interface WasmBackendLike {
  dataIdMap: { get(dataId: object): { id: number; memoryOffset: number } | undefined };
  dataIdNextNumber: number;
  makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo;
  wasm: {
    cwrap(name: string, ret: null, args: string[]): (...args: unknown[]) => void;
    tfjs: { registerTensor(id: number, size: number, memoryOffset: number): void; disposeData(id: number): void };
  };
}

type WasmBatchMatMul = (aId: number, aShape: Uint8Array, aRank: number, bId: number, bShape: Uint8Array, bRank: number, transposeA: boolean, transposeB: boolean, outId: number) => void;

const calls = new WeakMap<object, WasmBatchMatMul>();

function batchMatMulOf(backend: WasmBackendLike): WasmBatchMatMul {
  let f = calls.get(backend.wasm);
  if (!f) {
    f = backend.wasm.cwrap('BatchMatMul', null, ['number', 'array', 'number', 'number', 'array', 'number', 'number', 'number', 'number']) as WasmBatchMatMul;
    calls.set(backend.wasm, f);
  }
  return f;
}

const shapeBytes = (shape: number[]) => new Uint8Array(new Int32Array(shape).buffer);

function perModelMatMulWasm({ inputs, backend }: { inputs: tf.NamedTensorInfoMap; backend: unknown }): tf.TensorInfo {
  const wasm = backend as WasmBackendLike;
  const { a, b } = inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
  const [models, n, k] = a.shape;
  const [mb, kb, m] = b.shape;
  if (a.shape.length !== 3 || b.shape.length !== 3 || mb !== models || kb !== k) throw new Error(`per-model product of [${a.shape}] and [${b.shape}]`);
  if (a.dtype !== 'float32' || b.dtype !== 'float32') throw new Error('per-model product of non-float32 tensors');
  const out = wasm.makeOutput([models, n, m], 'float32');
  const base = (t: tf.TensorInfo) => wasm.dataIdMap.get(t.dataId)!.memoryOffset;
  const [aBase, bBase, outBase] = [base(a), base(b), base(out)];
  const product = batchMatMulOf(wasm);
  const aShape = shapeBytes([1, n, k]);
  const bShape = shapeBytes([1, k, m]);
  const register = (offset: number, size: number) => {
    const id = wasm.dataIdNextNumber++;
    wasm.wasm.tfjs.registerTensor(id, size, offset);
    return id;
  };
  for (let i = 0; i < models; i++) {
    // Views: ids the wasm module knows, over memory the batched tensors own (never freed here).
    const aId = register(aBase + 4 * i * n * k, n * k);
    const bId = register(bBase + 4 * i * k * m, k * m);
    const outId = register(outBase + 4 * i * n * m, n * m);
    product(aId, aShape, 3, bId, bShape, 3, false, false, outId);
    // Unregistering also drops the XNNPACK operator cached for the view of b.
    for (const id of [aId, bId, outId]) wasm.wasm.tfjs.disposeData(id);
  }
  return out;
}

let registered = false;

/** Registers the kernel with tfjs (once). */
export function registerPerModelMatMul(): void {
  if (registered) return;
  registered = true;
  tf.registerKernel({ kernelName: PER_MODEL_MATMUL, backendName: 'wasm', kernelFunc: perModelMatMulWasm as unknown as tf.KernelFunc });
}

/** `[M, n, k]·[M, k, m] → [M, n, m]` on wasm, each model's product through XNNPACK; no gradient. */
export function perModelMatMul(a: tf.Tensor3D, b: tf.Tensor3D): tf.Tensor3D {
  registerPerModelMatMul();
  return tf.engine().runKernel(PER_MODEL_MATMUL, { a, b } as unknown as tf.NamedTensorMap, {}) as tf.Tensor3D;
}
