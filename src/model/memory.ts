/**
 * How much memory a configuration needs, counted from its shapes, so an impossible one (P too large
 * for the device) is refused before training starts, with a message that names the limit.
 *
 * The largest tensors are the evaluation's activations over all P² pairs: the MLP neurons
 * [P², d_mlp] (×3 positions on the general path), the logits [P², d_vocab_out], and the analysis'
 * 2-D Fourier transform of the neurons, also [P², d_mlp].
 */
import { dims, type TrainConfig } from '../config/schema.ts';
import { numParams } from './transformer/params.ts';

export interface MemoryNeeds {
  /** Bytes of the largest single tensor. */
  largestTensorBytes: number;
  /** What that tensor is, for the message. */
  largestTensor: string;
  /** A rough total of what training and analysis keep alive at once. */
  totalBytes: number;
}

export function memoryNeeds(c: TrainConfig): MemoryNeeds {
  const { nPairs, dVocabOut } = dims(c);
  const positions = c.nLayers === 1 ? 1 : 3;
  const neurons = 4 * nPairs * c.dMlp * positions;
  const logits = 4 * nPairs * dVocabOut;
  const qkv = 4 * nPairs * 3 * c.dModel * 3 * positions;
  const candidates: [string, number][] = [
    [`the MLP activations of all ${nPairs.toLocaleString('en-US')} pairs ([${nPairs}${positions > 1 ? ' × 3' : ''}, ${c.dMlp}] float32)`, neurons],
    [`the logits of all pairs ([${nPairs}, ${dVocabOut}] float32)`, logits],
    [`the attention inputs of all pairs`, qkv],
  ];
  candidates.sort((a, b) => b[1] - a[1]);
  // Weights with Adam's two moments and a rollback copy; a few activation-sized tensors alive at once.
  const totalBytes = 4 * numParams(c) * 6 + 4 * neurons + 2 * logits + qkv;
  return { largestTensor: candidates[0][0], largestTensorBytes: candidates[0][1], totalBytes };
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
    maxTotalBytes: 2 * 1024 ** 3,
    maxTotalName: 'its 32-bit heap, 2 GB in practice',
  },
  cpu: {
    backend: 'the JavaScript CPU backend',
    maxTensorBytes: 2 * 1024 ** 3,
    maxTensorName: 'the largest typed array',
    maxTotalBytes: 4 * 1024 ** 3,
    maxTotalName: 'a browser tab’s memory, roughly',
  },
};
