/**
 * The active backend's memory limits for the memory checks (model/memory.ts, model/batched/memory.ts):
 * WebGPU reports its own; the CPU backends have fixed ones; WebGL and the rest get rough bounds.
 * Used by both workers: the run's (train.worker.ts) and the sweep's.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BackendName } from '../../config/backends.ts';
import { CPU_LIMITS, type DeviceLimits } from '../../model/memory.ts';

const TAB_GPU = 'what a browser tab can ask of a GPU, roughly';

export function deviceLimits(backend: { name: BackendName; adapter: string } | null): DeviceLimits | null {
  const name = backend?.name;
  if (name === 'wasm' || name === 'cpu') return CPU_LIMITS[name];
  if (name === 'webgpu') {
    const limits = (tf.backend() as unknown as { device?: { limits?: { maxStorageBufferBindingSize?: number; maxBufferSize?: number } } }).device?.limits;
    const binding = limits?.maxStorageBufferBindingSize ?? 128 * 1024 * 1024;
    const buffer = limits?.maxBufferSize ?? binding;
    return { backend: `this GPU (${backend!.adapter})`, maxTensorBytes: Math.min(binding, buffer), maxTensorName: binding <= buffer ? 'maxStorageBufferBindingSize' : 'maxBufferSize', maxTotalBytes: 8 * 1024 ** 3, maxTotalName: TAB_GPU };
  }
  if (name === 'webgl') return { backend: 'WebGL', maxTensorBytes: 1024 ** 3, maxTensorName: 'the texture size WebGL can address', maxTotalBytes: 4 * 1024 ** 3, maxTotalName: TAB_GPU };
  return null;
}
