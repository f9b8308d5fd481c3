/**
 * Backend loaders for Node (the CLI, the benchmark and the tests): wasm (default; SIMD, one
 * thread) and cpu (plain JavaScript). The same selection logic as the browser worker.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BackendInfo, BackendName } from '../../config/backends.ts';
import { selectBackend, setBackendOrThrow, type BackendLoader } from '../../model/backend/select.ts';

const wasm: BackendLoader = async () => {
  await import('@tensorflow/tfjs-backend-wasm');
  await setBackendOrThrow('wasm');
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  return `WebAssembly on the CPU${simd ? ' (SIMD)' : ''}, Node ${process.versions.node}`;
};

const cpu: BackendLoader = async () => {
  await import('@tensorflow/tfjs-backend-cpu');
  await setBackendOrThrow('cpu');
  return `plain JavaScript, Node ${process.versions.node}`;
};

export const nodeLoaders: Partial<Record<BackendName, BackendLoader>> = { wasm, cpu };

/** Node's order: wasm, then cpu (the GPU backends need a browser or a WebGPU binding). */
export function startNodeBackend(requested: BackendName | null): Promise<BackendInfo> {
  return selectBackend(requested, nodeLoaders);
}
