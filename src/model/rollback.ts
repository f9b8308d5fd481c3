/**
 * What a run rolls back to when a loss turns NaN or Infinity (fault handling: NaN keeps the last
 * good checkpoint): a copy of the weights and Adam moments taken on the device at a checkpoint (a
 * candidate), confirmed once that checkpoint's metrics came back finite. Zero-copy: tfjs never
 * changes a tensor's data in place (assign swaps a variable's data), so clones keep the values of
 * their moment alive.
 */
import type * as tf from '@tensorflow/tfjs-core';

export interface KeptState {
  /** Updates applied when it was taken. */
  t: number;
  /** The parameters in order, then the two moments. */
  tensors: tf.Tensor[];
}

export class Rollback {
  private good: KeptState | null = null;
  private candidate: KeptState | null = null;

  /** Keeps `state` as the candidate, dropping an earlier unconfirmed one. */
  mark(state: KeptState): void {
    this.candidate?.tensors.forEach((t) => t.dispose());
    this.candidate = state;
  }

  /** The candidate becomes the state to roll back to. */
  confirm(): void {
    if (!this.candidate) return;
    this.good?.tensors.forEach((t) => t.dispose());
    this.good = this.candidate;
    this.candidate = null;
  }

  /** The last confirmed state (still owned here), or null. */
  get last(): KeptState | null {
    return this.good;
  }

  dispose(): void {
    this.good?.tensors.forEach((t) => t.dispose());
    this.candidate?.tensors.forEach((t) => t.dispose());
    this.good = null;
    this.candidate = null;
  }
}
