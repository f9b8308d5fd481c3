/**
 * AdamW (adamw.ts, PyTorch semantics, ANALYSIS.md §3) and Grokfast-EMA for M models at once: the
 * moments are `[M, S]` (each model's parameters flat, in paramSpecs order), and every model has its
 * own lr, λ, β1, β2, warm-up and Grokfast α, λ_g. The per-model coefficients of update t are
 * computed in float64 on the host exactly as `adamWCoefficients` and uploaded as `[M, 1]` columns,
 * so each row gets the float32 numbers its single run would.
 */
import * as tf from '@tensorflow/tfjs-core';
import { adamWCoefficients, type AdamWHyper } from '../adamw.ts';
import { concatLast, splitLast } from '../transformer/last-axis.ts';
import { fusedAdamW, fusedGrokfastEma, fusedUnpack } from '../webgpu/fused.ts';

export class BatchedAdamW {
  /** Updates applied so far (the same for every model). */
  t = 0;
  readonly m: tf.Variable;
  readonly v: tf.Variable;
  /** Grokfast's μ `[M, S]`, made at the first update that filters. */
  private mu: tf.Variable | null = null;
  /** Each parameter's number of values per model, in paramSpecs order. */
  readonly sizes: number[];
  readonly size: number;
  /** Fused (WebGPU): the flat weights the last fused update wrote, and the data ids it gave the parameters. */
  private flatW: tf.Tensor2D | null = null;
  private flatWIds: object[] = [];

  constructor(
    private readonly params: tf.Variable[],
    readonly models: number,
    /** Per model; lr and weightDecay may change between updates. */
    public hp: AdamWHyper[],
    /** Per model Grokfast α and λ_g (λ_g 0: off for that model). */
    public grokfast: { alpha: number; lambda: number }[],
  ) {
    this.sizes = params.map((p) => p.size / models);
    this.size = this.sizes.reduce((a, b) => a + b, 0);
    const shape = [models, this.size];
    this.m = tf.tidy(() => tf.variable(tf.zeros(shape), false));
    this.v = tf.tidy(() => tf.variable(tf.zeros(shape), false));
  }

  /** Tensors `[M, …]` as one `[M, S]` matrix, parameters side by side. */
  flat(ts: tf.Tensor[]): tf.Tensor2D {
    return tf.tidy(() => concatLast(ts.map((t) => tf.reshape(t, [this.models, -1]))) as tf.Tensor2D);
  }

  private column(values: number[]): tf.Tensor2D {
    return tf.tensor2d(values, [this.models, 1]);
  }

  /** Applies update t to every model with flat gradients `[M, S]`, then t += 1. */
  stepFlat(g: tf.Tensor2D): void {
    const ks = this.hp.map((hp) => adamWCoefficients(hp, this.t));
    tf.tidy(() => {
      let grad: tf.Tensor = g;
      if (this.grokfast.some((x) => x.lambda > 0)) {
        // Grokfast-EMA (Lee et al. 2024, Alg. 2): μ starts at the first gradient; λ_g = 0 adds 0·μ.
        const alpha = this.column(this.grokfast.map((x) => x.alpha));
        const mu = this.mu;
        if (!mu) this.mu = tf.keep(tf.variable(tf.clone(g), false));
        else mu.assign(tf.add(tf.mul(mu, alpha), tf.mul(g, this.column(this.grokfast.map((x) => 1 - x.alpha)))));
        grad = tf.add(g, tf.mul(this.mu!, this.column(this.grokfast.map((x) => x.lambda))));
      }
      const b1 = this.column(this.hp.map((h) => h.beta1));
      const b1c = this.column(this.hp.map((h) => 1 - h.beta1));
      const b2 = this.column(this.hp.map((h) => h.beta2));
      const b2c = this.column(this.hp.map((h) => 1 - h.beta2));
      const p = this.flat(this.params);
      const m1 = tf.add(tf.mul(this.m, b1), tf.mul(grad, b1c));
      const v1 = tf.add(tf.mul(this.v, b2), tf.mul(tf.square(grad), b2c));
      const denom = tf.add(tf.div(tf.sqrt(v1), this.column(ks.map((k) => k.sqrtBc2))), this.hp[0].eps);
      const decayed = tf.mul(p, this.column(ks.map((k) => k.decay)));
      const next = splitLast(tf.sub(decayed, tf.mul(tf.div(m1, denom), this.column(ks.map((k) => k.stepSize)))), this.sizes);
      this.params.forEach((param, i) => param.assign(tf.reshape(next[i], param.shape)));
      this.m.assign(m1);
      this.v.assign(v1);
    });
    this.t += 1;
  }

  /**
   * Every model's weights `[M, S]` (owned here: do not dispose): the last fused update's output
   * while the parameters still hold what it gave them, else concatenated anew (as AdamW's).
   */
  flatWeights(): tf.Tensor2D {
    if (this.flatW && this.params.every((p, i) => p.dataId === this.flatWIds[i])) return this.flatW;
    this.flatW?.dispose();
    this.flatW = tf.keep(this.flat(this.params));
    this.flatWIds = this.params.map((p) => p.dataId);
    return this.flatW;
  }

  /**
   * `stepFlat` as fused WebGPU kernels (webgpu/fused.ts), the dispatches of one model's update for
   * all M: Grokfast's EMA (one dispatch, when any model filters), AdamW (one), and the new weights
   * handed back 7 parameters a dispatch. Same values as `stepFlat`.
   */
  stepFused(g: tf.Tensor2D): void {
    const ks = this.hp.map((hp) => adamWCoefficients(hp, this.t));
    const filtering = this.grokfast.some((x) => x.lambda > 0);
    tf.tidy(() => {
      if (filtering) {
        const mu = this.mu;
        if (!mu) this.mu = tf.keep(tf.variable(tf.clone(g), false));
        else mu.assign(fusedGrokfastEma(g, mu as tf.Tensor, this.grokfast.map((x) => x.alpha)));
      }
      const w = this.flatWeights();
      const [w1, m1, v1] = fusedAdamW({
        g,
        mu: filtering ? this.mu! : undefined,
        w,
        m: this.m,
        v: this.v,
        eps: this.hp[0].eps,
        models: this.hp.map((hp, i) => ({ ...hp, ...ks[i], lambda: this.grokfast[i].lambda })),
      });
      const parts = fusedUnpack(w1, this.params.map((p) => p.shape), this.models, this.size);
      this.params.forEach((p, i) => p.assign(parts[i]));
      this.m.assign(m1);
      this.v.assign(v1);
      w.dispose();
      this.flatW = tf.keep(w1);
      this.flatWIds = this.params.map((p) => p.dataId);
    });
    this.t += 1;
  }

  /** Restores every model's moments, `[M·S]` row-major (each model flat in paramSpecs order). */
  loadFlat(t: number, m: Float32Array, v: Float32Array): void {
    tf.tidy(() => {
      this.m.assign(tf.tensor2d(m, [this.models, this.size]));
      this.v.assign(tf.tensor2d(v, [this.models, this.size]));
    });
    this.mu?.dispose();
    this.mu = null;
    this.t = t;
  }

  dispose(): void {
    this.m.dispose();
    this.v.dispose();
    this.mu?.dispose();
    this.mu = null;
    this.flatW?.dispose();
    this.flatW = null;
  }
}
