/**
 * Backend loaders for the browser worker. Each backend's code is a separate chunk imported only
 * when it is tried, so a browser with WebGPU never downloads WebGL or WASM code.
 */
import wasmSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import wasmUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import { describeWasm, type BackendName } from '../../config/backends.ts';
import { setBackendOrThrow, type BackendLoader } from '../../model/backend/select.ts';

/** Minimal WebGPU typings for what we read (the full @webgpu/types are not needed). */
interface GpuAdapterInfoLike {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
  isFallbackAdapter?: boolean;
}
interface GpuAdapterLike {
  info?: GpuAdapterInfoLike;
  /** Where older browsers put it (newer ones: info.isFallbackAdapter). */
  isFallbackAdapter?: boolean;
  requestAdapterInfo?: () => Promise<GpuAdapterInfoLike>;
}
interface GpuLike {
  requestAdapter(opts?: { powerPreference?: string }): Promise<GpuAdapterLike | null>;
}

export function describeAdapter(info: GpuAdapterInfoLike | undefined): string {
  if (!info) return 'unknown GPU';
  const parts = [info.vendor, info.architecture, info.device].filter((s) => s && s.length > 0);
  const name = info.description && info.description.length > 0 ? info.description : parts.join(' ');
  return name.length > 0 ? name : 'unknown GPU';
}

const webgpu: BackendLoader = async () => {
  const gpu = (globalThis.navigator as unknown as { gpu?: GpuLike }).gpu;
  if (!gpu) throw new Error('this browser has no WebGPU (navigator.gpu is missing)');
  // The same request tfjs makes, so the name is that of the adapter it will use.
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) throw new Error('the browser offers no WebGPU adapter (WebGPU disabled or unsupported GPU)');
  const info = adapter.info ?? (await adapter.requestAdapterInfo?.());
  await import('@tensorflow/tfjs-backend-webgpu');
  await setBackendOrThrow('webgpu');
  // The words 'fallback adapter' mark it as software for the choice by measurement.
  const fallback = adapter.isFallbackAdapter === true || info?.isFallbackAdapter === true;
  return `${describeAdapter(info)}${fallback ? ' (fallback adapter)' : ''}`;
};

const webgl: BackendLoader = async () => {
  const tf = await import('@tensorflow/tfjs-core');
  await import('@tensorflow/tfjs-backend-webgl');
  await setBackendOrThrow('webgl');
  const gl = (tf.backend() as unknown as { gpgpu?: { gl?: WebGLRenderingContext } }).gpgpu?.gl;
  if (!gl) return 'WebGL';
  const ext = gl.getExtension('WEBGL_debug_renderer_info');
  return String(gl.getParameter(ext ? ext.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
};

/**
 * XNNPACK threads for the threaded wasm binary: every core on a machine of 2 (measured here,
 * 2 threads train the mainline 1.4× faster than 1), one left for the page on larger ones.
 */
export function wasmThreadCount(logicalCores: number): number {
  const cores = Math.max(1, Math.floor(logicalCores) || 1);
  return cores <= 2 ? cores : cores - 1;
}

/**
 * tfjs's wasm caps its thread pool at half of navigator.hardwareConcurrency (it assumes two
 * hyper-threads a core), read once as its module starts; this shows it `cores` while it starts.
 */
async function withLogicalCores<T>(cores: number, start: () => Promise<T>): Promise<T> {
  const nav = globalThis.navigator as Navigator | undefined;
  if (!nav) return start();
  Object.defineProperty(nav, 'hardwareConcurrency', { value: cores, configurable: true });
  try {
    return await start();
  } finally {
    delete (nav as unknown as Record<string, unknown>).hardwareConcurrency; // the prototype's getter again
  }
}

const wasm: BackendLoader = async () => {
  const tfWasm = await import('@tensorflow/tfjs-backend-wasm');
  tfWasm.setWasmPaths({
    'tfjs-backend-wasm.wasm': wasmUrl,
    'tfjs-backend-wasm-simd.wasm': wasmSimdUrl,
    'tfjs-backend-wasm-threaded-simd.wasm': wasmThreadedUrl,
  });
  const threads = wasmThreadCount(globalThis.navigator?.hardwareConcurrency ?? 1);
  tfWasm.setThreadsCount(threads);
  await withLogicalCores(2 * threads, () => setBackendOrThrow('wasm'));
  const tf = await import('@tensorflow/tfjs-core');
  const simd = (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) === true;
  // tfjs runs its threaded binary only where SharedArrayBuffer can be posted: a cross-origin
  // isolated page (the headers of vite dev/preview, or public/isolation-sw.js on static hosts).
  const running = (await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT')) === true && simd ? tfWasm.getThreadsCount() : 1;
  return describeWasm(simd, running, globalThis.crossOriginIsolated === true);
};

const cpu: BackendLoader = async () => {
  await import('@tensorflow/tfjs-backend-cpu');
  await setBackendOrThrow('cpu');
  return 'plain JavaScript on the CPU';
};

export const browserLoaders: Record<BackendName, BackendLoader> = { webgpu, webgl, wasm, cpu };
