/**
 * The active backend's memory limits for the memory checks (model/memory.ts, model/batched/memory.ts):
 * WebGPU reports its own; the CPU backends have fixed ones; WebGL and the rest get rough bounds.
 * Used by both workers: the run's (train.worker.ts) and the sweep's.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BackendName } from '../../config/backends.ts';
import { CPU_LIMITS, gpuLimits, type DeviceLimits } from '../../model/memory.ts';

export function deviceLimits(backend: { name: BackendName; adapter: string } | null): DeviceLimits | null {
  const name = backend?.name;
  if (name === 'wasm' || name === 'cpu') return CPU_LIMITS[name];
  if (name === 'webgpu') {
    const limits = (tf.backend() as unknown as { device?: { limits?: { maxStorageBufferBindingSize?: number; maxBufferSize?: number } } }).device?.limits;
    return gpuLimits('webgpu', backend!.adapter, limits);
  }
  if (name === 'webgl') return gpuLimits('webgl', backend!.adapter);
  return null;
}
