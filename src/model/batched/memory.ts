/**
 * The memory check of memory.ts for N models trained together: every activation and weight of a
 * batch has a leading model axis, so the largest tensor and the total grow N-fold. A batch that
 * cannot fit is refused before anything starts, and `largestBatch` says how many models would fit.
 */
import type { TrainConfig } from '../../config/schema.ts';
import { memoryNeeds, type DeviceLimits } from '../memory.ts';

const mb = (n: number) => `${Math.round(n / 1024 / 1024).toLocaleString('en-US')} MB`;

/** A refusal naming the limit for `models` models of this shape, or null when they fit. */
export function checkBatchMemory(c: TrainConfig, models: number, limits: DeviceLimits): string | null {
  const one = memoryNeeds(c);
  if (one.largestTensorBytes * models > limits.maxTensorBytes) {
    return `${models} models of P = ${c.p}, d_mlp = ${c.dMlp} need ${mb(one.largestTensorBytes * models)} for ${one.largestTensor} of every model, but ${limits.backend} allows at most ${mb(limits.maxTensorBytes)} per tensor (${limits.maxTensorName}). Train fewer models at once.`;
  }
  // Training holds every model's tensors at once; the analysis pass measures one model at a time.
  const total = one.trainBytes * models + (one.totalBytes - one.trainBytes);
  if (total > limits.maxTotalBytes) {
    return `${models} models of P = ${c.p}, d_model = ${c.dModel}, d_mlp = ${c.dMlp} need about ${mb(total)}, but ${limits.backend} can use at most ${mb(limits.maxTotalBytes)} (${limits.maxTotalName}). Train fewer models at once.`;
  }
  return null;
}

/** The most models of this shape (up to `wanted`) that fit the limits; 0 if not even one. */
export function largestBatch(c: TrainConfig, wanted: number, limits: DeviceLimits): number {
  for (let n = wanted; n > 0; n--) if (checkBatchMemory(c, n, limits) === null) return n;
  return 0;
}
