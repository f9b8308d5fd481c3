/**
 * Which forward trains a model: the fast one (src/model/transformer/fast.ts) for 1 block, the general one
 * otherwise. Free of tfjs, so the page can reason about it (FLOPs, the benchmark) too.
 */
import type { TrainConfig } from '../../config/schema.ts';

export type ForwardPath = 'fast' | 'general';

export function defaultForwardPath(c: TrainConfig): ForwardPath {
  return c.nLayers === 1 ? 'fast' : 'general';
}

/** The paths the benchmark times: the default one first, and the general one beside the fast. */
export function benchPaths(c: TrainConfig): ForwardPath[] {
  return defaultForwardPath(c) === 'fast' ? ['fast', 'general'] : ['general'];
}
