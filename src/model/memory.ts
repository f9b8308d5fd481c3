/**
 * How much memory a configuration needs, counted from its shapes, so an impossible one (P too large
 * for the device) is refused before training starts, with a message that names the limit.
 *
 * The largest tensors are the evaluation's activations over all P² pairs: the MLP neurons
 * [P², d_mlp] (×3 positions on the general path), the logits [P², d_vocab_out], and the analysis'
 * 2-D Fourier transform of the neurons, also [P², d_mlp].
 *
 * The total counts, beyond training's tensors, the analysis pass over all pairs (§5.11's transform
 * of the neurons and its intermediates): measured on the WebAssembly heap of a CLI run with its
 * analysis (2 epochs, d_mlp 512), the peak was 429 MB at P = 113 and 1,237 MB at P = 173 — about
 * 20 copies of the [P², d_mlp] neurons — and P = 331 ran out of the 4 GB heap while P = 257 fit.
 */
import { dims, type TrainConfig } from '../config/schema.ts';
import { numParams } from './transformer/params.ts';

export interface MemoryNeeds {
  /** Bytes of the largest single tensor. */
  largestTensorBytes: number;
  /** What that tensor is, for the message. */
  largestTensor: string;
  /** A rough total of what training keeps alive at once (what a batched sweep multiplies). */
  trainBytes: number;
  /** trainBytes plus the analysis pass of a single run (its peak). */
  totalBytes: number;
}

/** Neuron-sized [P², d_mlp] float32 tensors the analysis pass holds at its peak (measured, see above). */
const ANALYSIS_COPIES = 16;

export function memoryNeeds(c: TrainConfig): MemoryNeeds {
  const { nPairs, dVocabOut } = dims(c);
  const positions = c.nLayers === 1 ? 1 : 3;
  const neurons = 4 * nPairs * c.dMlp * positions;
  const logits = 4 * nPairs * dVocabOut;
  // The general forward keeps q, k, v of all three positions per pair; the 1-block fast forward
  // (transformer/fast.ts) only per-token tables and the gathered rows of a and b, [N, 2(h + d_model)].
  const qkv = positions === 1 ? 4 * nPairs * 2 * (c.nHeads + c.dModel) : 4 * nPairs * 3 * c.dModel * 3 * positions;
  const candidates: [string, number][] = [
    [`the MLP activations of all ${nPairs.toLocaleString('en-US')} pairs ([${nPairs}${positions > 1 ? ' × 3' : ''}, ${c.dMlp}] float32)`, neurons],
    [`the logits of all pairs ([${nPairs}, ${dVocabOut}] float32)`, logits],
    [`the attention inputs of all pairs`, qkv],
  ];
  candidates.sort((a, b) => b[1] - a[1]);
  // Weights with Adam's two moments and a rollback copy; a few activation-sized tensors alive at once.
  const trainBytes = 4 * numParams(c) * 6 + 4 * neurons + 2 * logits + qkv;
  const analysisBytes = ANALYSIS_COPIES * 4 * nPairs * c.dMlp;
  return { largestTensor: candidates[0][0], largestTensorBytes: candidates[0][1], trainBytes, totalBytes: trainBytes + analysisBytes };
}

export interface DeviceLimits {
  backend: string;
  /** Largest single buffer (WebGPU: maxStorageBufferBindingSize / maxBufferSize). */
  maxTensorBytes: number;
  maxTensorName: string;
  /** All memory the backend can use (WASM: its 32-bit heap). */
  maxTotalBytes: number;
  maxTotalName: string;
}

const mb = (n: number) => `${Math.round(n / 1024 / 1024).toLocaleString('en-US')} MB`;

/** A refusal naming the limit, or null when the configuration fits. */
export function checkMemory(c: TrainConfig, limits: DeviceLimits): string | null {
  const needs = memoryNeeds(c);
  if (needs.largestTensorBytes > limits.maxTensorBytes) {
    return `P = ${c.p} with d_mlp = ${c.dMlp} needs ${mb(needs.largestTensorBytes)} for ${needs.largestTensor}, but ${limits.backend} allows at most ${mb(limits.maxTensorBytes)} per tensor (${limits.maxTensorName}). Choose a smaller P or d_mlp.`;
  }
  if (needs.totalBytes > limits.maxTotalBytes) {
    return `P = ${c.p}, d_model = ${c.dModel}, d_mlp = ${c.dMlp} needs about ${mb(needs.totalBytes)}, but ${limits.backend} can use at most ${mb(limits.maxTotalBytes)} (${limits.maxTotalName}). Choose a smaller model or P.`;
  }
  return null;
}

/** Limits of the CPU backends (plain JS arrays and the 32-bit WebAssembly heap). */
export const CPU_LIMITS: Record<'wasm' | 'cpu', DeviceLimits> = {
  wasm: {
    backend: 'WebAssembly',
    maxTensorBytes: 1024 ** 3,
    maxTensorName: 'a quarter of its 4 GB address space',
    maxTotalBytes: 4 * 1024 ** 3,
    maxTotalName: 'its 32-bit heap of 4 GB',
  },
  cpu: {
    backend: 'the JavaScript CPU backend',
    maxTensorBytes: 2 * 1024 ** 3,
    maxTensorName: 'the largest typed array',
    maxTotalBytes: 4 * 1024 ** 3,
    maxTotalName: 'a browser tab’s memory, roughly',
  },
};

const TAB_GPU = 'what a browser tab can ask of a GPU, roughly';

/**
 * Limits of the GPU backends: WebGPU's from what the device reports (tfjs asks the adapter for its
 * largest buffers; 128 MB, the WebGPU default, when nothing is reported), WebGL's rough bounds.
 */
export function gpuLimits(name: 'webgpu' | 'webgl', adapter: string, reported?: { maxStorageBufferBindingSize?: number; maxBufferSize?: number }): DeviceLimits {
  if (name === 'webgl') return { backend: 'WebGL', maxTensorBytes: 1024 ** 3, maxTensorName: 'the texture size WebGL can address', maxTotalBytes: 4 * 1024 ** 3, maxTotalName: TAB_GPU };
  const binding = reported?.maxStorageBufferBindingSize ?? 128 * 1024 * 1024;
  const buffer = reported?.maxBufferSize ?? binding;
  return {
    backend: `this GPU (${adapter})`,
    maxTensorBytes: Math.min(binding, buffer),
    maxTensorName: binding <= buffer ? 'maxStorageBufferBindingSize' : 'maxBufferSize',
    maxTotalBytes: 8 * 1024 ** 3,
    maxTotalName: TAB_GPU,
  };
}
