/**
 * AdamW with PyTorch semantics (ANALYSIS.md §3), and the optional Grokfast-EMA gradient filter.
 *
 * Update t = 0, 1, 2, … of parameter θ with gradient g:
 *   lr_t = lr · min(t / warmup, 1)                     (the authors' LambdaLR warm-up: update 0 has lr 0)
 *   θ ← θ · (1 − lr_t · λ)                             (decoupled decay, on every parameter)
 *   m ← β1 m + (1 − β1) g;   v ← β2 v + (1 − β2) g²
 *   θ ← θ − (lr_t / (1 − β1^(t+1))) · m / (√v / √(1 − β2^(t+1)) + ε)
 * lr and λ may change between updates (the slider); the moments are kept.
 */
import * as tf from '@tensorflow/tfjs-core';
import { concatLast, splitLast } from './transformer/last-axis.ts';
import { fusedAdamW, fusedGrokfastEma, fusedPack, fusedUnpack } from './webgpu/fused.ts';

export interface AdamWHyper {
  lr: number;
  weightDecay: number;
  beta1: number;
  beta2: number;
  eps: number;
  warmup: number;
}

/** The scalar coefficients of update t, computed in float64 on the host. */
export function adamWCoefficients(hp: AdamWHyper, t: number) {
  const lrT = hp.warmup > 0 ? hp.lr * Math.min(t / hp.warmup, 1) : hp.lr;
  return {
    lrT,
    decay: 1 - lrT * hp.weightDecay,
    stepSize: lrT / (1 - Math.pow(hp.beta1, t + 1)),
    sqrtBc2: Math.sqrt(1 - Math.pow(hp.beta2, t + 1)),
  };
}

/**
 * The moments of all parameters live in two flat vectors, and an update is one set of
 * elementwise ops over the concatenated gradients: ~20 kernels a step instead of ~14 per
 * parameter (154 for the mainline), which is what a GPU's per-dispatch cost charges for.
 * Elementwise, so the values are the same as updating each parameter on its own.
 */
export class AdamW {
  /** Number of updates applied so far; the next update is update `t`. */
  t = 0;
  /** First and second moments, flat, parameters in `params` order. */
  readonly m: tf.Variable;
  readonly v: tf.Variable;
  readonly size: number;
  private readonly names: string[];
  /** Each parameter's number of values, in `params` order. */
  readonly sizes: number[];
  /**
   * Fused (WebGPU): the flat weights the last fused update wrote, and the data ids it gave the
   * parameters; reused as the next update's input while the parameters still hold those data.
   */
  private flatW: tf.Tensor1D | null = null;
  private flatWIds: object[] = [];

  constructor(
    readonly params: Map<string, tf.Variable>,
    public hp: AdamWHyper,
  ) {
    this.names = [...params.keys()];
    this.sizes = this.names.map((n) => params.get(n)!.size);
    this.size = this.sizes.reduce((a, b) => a + b, 0);
    const size = this.size;
    // tidy frees the zeros; variables survive it.
    this.m = tf.tidy(() => tf.variable(tf.zeros([size]), false));
    this.v = tf.tidy(() => tf.variable(tf.zeros([size]), false));
  }

  /** Tensors by parameter name, as one flat vector in parameter order. */
  private flat(byName: (name: string) => tf.Tensor): tf.Tensor1D {
    return concatLast(this.names.map((n) => tf.reshape(byName(n), [-1]))) as tf.Tensor1D;
  }

  /** The gradients (by parameter name) as one flat vector in parameter order. */
  flatGrads(grads: Record<string, tf.Tensor>): tf.Tensor1D {
    for (const name of this.names) if (!grads[name]) throw new Error(`no gradient for ${name}`);
    return tf.tidy(() => this.flat((n) => grads[n]));
  }

  /** Applies update `t` in place with the given gradients (by parameter name), then t += 1. */
  step(grads: Record<string, tf.Tensor>): void {
    const g = this.flatGrads(grads);
    this.stepFlat(g);
    g.dispose();
  }

  /** Applies update `t` with a flat gradient (see `flatGrads`), then t += 1. */
  stepFlat(g: tf.Tensor1D): void {
    if (g.size !== this.size) throw new Error(`a flat gradient of ${g.size} values for ${this.size} parameters`);
    const k = adamWCoefficients(this.hp, this.t);
    const { beta1, beta2, eps } = this.hp;
    tf.tidy(() => {
      const p = this.flat((n) => this.params.get(n)!);
      const m1 = tf.add(tf.mul(this.m, beta1), tf.mul(g, 1 - beta1));
      const v1 = tf.add(tf.mul(this.v, beta2), tf.mul(tf.square(g), 1 - beta2));
      const denom = tf.add(tf.div(tf.sqrt(v1), k.sqrtBc2), eps);
      const decayed = k.decay === 1 ? p : tf.mul(p, k.decay);
      const next = splitLast(tf.sub(decayed, tf.mul(tf.div(m1, denom), k.stepSize)), this.sizes);
      this.names.forEach((name, i) => {
        const param = this.params.get(name)!;
        param.assign(tf.reshape(next[i], param.shape));
      });
      this.m.assign(m1);
      this.v.assign(v1);
    });
    this.t += 1;
  }

  /**
   * `stepFlat` as fused WebGPU kernels (webgpu/fused.ts): one dispatch for the update of every
   * weight and both moments (on g + λ_g·μ when Grokfast's `mu` is given), and one per 7
   * parameters to hand the new weights back. Same values as `stepFlat`.
   */
  stepFused(g: tf.Tensor1D | [tf.Tensor1D, tf.Tensor1D], grokfast?: { mu: tf.Tensor1D; lambda: number }): void {
    const gSize = Array.isArray(g) ? g[0].size + g[1].size : g.size;
    if (gSize !== this.size) throw new Error(`a flat gradient of ${gSize} values for ${this.size} parameters`);
    const k = adamWCoefficients(this.hp, this.t);
    const params = this.names.map((n) => this.params.get(n)!);
    tf.tidy(() => {
      const w = this.flatWeights();
      const [w1, m1, v1] = fusedAdamW({
        g,
        mu: grokfast?.mu,
        w,
        m: this.m,
        v: this.v,
        eps: this.hp.eps,
        models: [{ ...this.hp, ...k, lambda: grokfast?.lambda }],
      });
      const parts = fusedUnpack(w1, params.map((p) => p.shape));
      params.forEach((p, i) => p.assign(parts[i]));
      this.m.assign(m1);
      this.v.assign(v1);
      w.dispose();
      this.flatW = tf.keep(w1);
      this.flatWIds = params.map((p) => p.dataId);
    });
    this.t += 1;
  }

  /**
   * The weights flat in parameter order (owned here: do not dispose): the last fused update's
   * output while the parameters still hold what it gave them, else concatenated anew.
   */
  flatWeights(): tf.Tensor1D {
    const params = this.names.map((n) => this.params.get(n)!);
    if (this.flatW && params.every((p, i) => p.dataId === this.flatWIds[i])) return this.flatW;
    this.flatW?.dispose();
    this.flatW = tf.keep(tf.tidy(() => this.flat((n) => this.params.get(n)!)));
    this.flatWIds = params.map((p) => p.dataId);
    return this.flatW;
  }

  /**
   * `stepFused` from gradients by name, packed by fused kernels into two halves (7 parameters a
   * dispatch; tfjs's concat of 11 takes 3). Without Grokfast, whose EMA needs one flat vector.
   */
  stepFusedByName(grads: Record<string, tf.Tensor>): void {
    for (const name of this.names) if (!grads[name]) throw new Error(`no gradient for ${name}`);
    if (this.names.length > 14) {
      const g = this.flatGrads(grads);
      this.stepFused(g);
      g.dispose();
      return;
    }
    const parts = this.names.map((n) => grads[n]);
    const first = fusedPack(parts.slice(0, 7));
    const second = parts.length > 7 ? fusedPack(parts.slice(7)) : null;
    this.stepFused(second ? [first, second] : first);
    tf.dispose(second ? [first, second] : [first]);
  }

  /** Splits a flat host vector by parameter. */
  private byName(values: Float32Array): Record<string, Float32Array> {
    const out: Record<string, Float32Array> = {};
    let o = 0;
    this.names.forEach((name, i) => {
      out[name] = values.slice(o, o + this.sizes[i]);
      o += this.sizes[i];
    });
    return out;
  }

  /** Host copies of the moments by parameter name, for persistence. */
  async readState(): Promise<{ t: number; m: Record<string, Float32Array>; v: Record<string, Float32Array> }> {
    const t = this.t;
    const m = (await this.m.data()) as Float32Array;
    const v = (await this.v.data()) as Float32Array;
    return { t, m: this.byName(m), v: this.byName(v) };
  }

  /** Restores moments saved by `readState`. */
  loadState(state: { t: number; m: Record<string, Float32Array>; v: Record<string, Float32Array> }): void {
    const m = new Float32Array(this.size);
    const v = new Float32Array(this.size);
    let o = 0;
    this.names.forEach((name, i) => {
      const mi = state.m[name];
      const vi = state.v[name];
      if (!mi || !vi || mi.length !== this.sizes[i] || vi.length !== this.sizes[i]) throw new Error(`optimizer state for ${name} is missing or the wrong size`);
      m.set(mi, o);
      v.set(vi, o);
      o += this.sizes[i];
    });
    this.loadFlat(state.t, m, v);
  }

  /** Restores flat moments (parameters in `params` order). */
  loadFlat(t: number, m: Float32Array | tf.Tensor, v: Float32Array | tf.Tensor): void {
    tf.tidy(() => {
      this.m.assign(m instanceof tf.Tensor ? m : tf.tensor1d(m));
      this.v.assign(v instanceof tf.Tensor ? v : tf.tensor1d(v));
    });
    this.t = t;
  }

  dispose(): void {
    this.m.dispose();
    this.v.dispose();
    this.flatW?.dispose();
    this.flatW = null;
  }
}

/**
 * Grokfast-EMA (Lee et al. 2024, Algorithm 2): keeps μ ← α μ + (1 − α) g (μ starts at the first
 * gradient) and feeds the optimizer g + λ_g · μ, amplifying the slow components of the gradient.
 * Works on the flat gradient (`AdamW.flatGrads`): a handful of kernels a step.
 */
export class GrokfastEma {
  private mu: tf.Variable | null = null;

  constructor(
    public alpha: number,
    public lambda: number,
  ) {}

  /**
   * Advances μ with the fused WebGPU kernel (one dispatch) and returns it (owned by the filter),
   * for `AdamW.stepFused`, which adds λ_g·μ itself.
   */
  advanceFused(g: tf.Tensor1D): tf.Tensor1D {
    const mu = this.mu;
    if (!mu) this.mu = tf.tidy(() => tf.variable(tf.clone(g), false));
    else tf.tidy(() => mu.assign(fusedGrokfastEma(g, mu as tf.Tensor, [this.alpha])));
    return this.mu as tf.Tensor as tf.Tensor1D;
  }

  /** Returns the filtered gradient (a new tensor; the caller disposes both). */
  filter(g: tf.Tensor): tf.Tensor {
    const mu = this.mu;
    if (!mu) this.mu = tf.tidy(() => tf.variable(tf.clone(g), false));
    else {
      const alpha = this.alpha;
      tf.tidy(() => mu.assign(tf.add(tf.mul(mu, alpha), tf.mul(g, 1 - alpha))));
    }
    const muNow = this.mu!;
    return tf.tidy(() => tf.add(g, tf.mul(muNow, this.lambda)));
  }

  dispose(): void {
    this.mu?.dispose();
    this.mu = null;
  }
}
