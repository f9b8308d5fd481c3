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
}
