/** The tfjs backends grokscope can run on, in the default order of preference (fastest first). */
export const BACKENDS = ['webgpu', 'webgl', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKENDS)[number];

/** The backend a run uses, and why the ones before it in the order were not used. */
export interface BackendInfo {
  name: BackendName;
  /** Human-readable device: the GPU adapter's name, or what runs the math on the CPU. */
  adapter: string;
  /** The backend asked for (?backend=), or null for the default order. */
  requested: BackendName | null;
  /** Why earlier backends in the order were skipped, e.g. "webgpu: no adapter". */
  skipped: string[];
  /** How it was chosen: asked for (?backend=), timed against the others, remembered from an
   * earlier timing on this device, or the first that started (Node, or when timing was impossible);
   * 'provisional': the backend in hand while the timing runs, the run moves once it ends (#25). */
  chosenBy?: BackendChoice;
  /** What was timed to choose it (on this visit, or the remembered timing). */
  measured?: BackendMeasurement[];
  /** How long starting and timing the backends took, when they were timed on this visit. */
  measureMs?: number;
}

/** One backend timed on the run's configuration when the worker starts (the fastest is used). */
export interface BackendMeasurement {
  name: BackendName;
  /** The device, as the backend's loader named it. */
  adapter: string;
  /** A GPU emulated on the CPU (SwiftShader, llvmpipe, lavapipe, a WebGPU fallback adapter). */
  software: boolean;
  /** Updates a second of the configuration measured, or NaN when it was not timed. */
  epochsPerSec: number;
  /** Timed on its first update alone (kernel compilation included): it was already far slower. */
  atMost?: boolean;
  /** Why it was not timed (it did not start, or a hardware GPU made it pointless). */
  note?: string;
}

/** How the backend of a run was chosen. */
export type BackendChoice = 'request' | 'measurement' | 'cache' | 'order' | 'provisional';

/**
 * Names of GPUs that are emulated on the CPU: Chromium's SwiftShader (WebGL and WebGPU), Mesa's
 * llvmpipe and lavapipe, Windows' Basic Render Driver, and what a WebGPU fallback adapter reports.
 */
const SOFTWARE_GPU = /swiftshader|llvmpipe|lavapipe|softpipe|basic render driver|software (adapter|renderer|rasterizer)|fallback adapter/i;

export function isSoftwareAdapter(adapter: string): boolean {
  return SOFTWARE_GPU.test(adapter);
}

/** The wasm backend's device line: SIMD, and how many threads its matrix products run on. */
export function describeWasm(simd: boolean, threads: number, isolated: boolean): string {
  const parts = [simd ? 'SIMD' : 'no SIMD', threads > 1 ? `${threads} threads` : isolated ? '1 thread' : '1 thread: the page is not cross-origin isolated'];
  return `WebAssembly on the CPU (${parts.join(', ')})`;
}

