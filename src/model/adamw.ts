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

export class AdamW {
  /** Number of updates applied so far; the next update is update `t`. */
  t = 0;
  readonly m: Map<string, tf.Variable> = new Map();
  readonly v: Map<string, tf.Variable> = new Map();

  constructor(
    readonly params: Map<string, tf.Variable>,
    public hp: AdamWHyper,
  ) {
    for (const [name, p] of params) {
      // tidy frees the zeros; variables survive it.
      this.m.set(name, tf.tidy(() => tf.variable(tf.zerosLike(p), false, `${p.name}/adam.m`)));
      this.v.set(name, tf.tidy(() => tf.variable(tf.zerosLike(p), false, `${p.name}/adam.v`)));
    }
  }

  /** Applies update `t` in place with the given gradients (by parameter name), then t += 1. */
  step(grads: Record<string, tf.Tensor>): void {
    const k = adamWCoefficients(this.hp, this.t);
    const { beta1, beta2, eps } = this.hp;
    tf.tidy(() => {
      for (const [name, p] of this.params) {
        const g = grads[name];
        if (!g) throw new Error(`no gradient for ${name}`);
        const m = this.m.get(name)!;
        const v = this.v.get(name)!;
        const m1 = tf.add(tf.mul(m, beta1), tf.mul(g, 1 - beta1));
        const v1 = tf.add(tf.mul(v, beta2), tf.mul(tf.square(g), 1 - beta2));
        const denom = tf.add(tf.div(tf.sqrt(v1), k.sqrtBc2), eps);
        const decayed = k.decay === 1 ? p : tf.mul(p, k.decay);
        p.assign(tf.sub(decayed, tf.mul(tf.div(m1, denom), k.stepSize)));
        m.assign(m1);
        v.assign(v1);
      }
    });
    this.t += 1;
  }

  /** Host copies of the moments, for persistence. */
  async readState(): Promise<{ t: number; m: Record<string, Float32Array>; v: Record<string, Float32Array> }> {
    const m: Record<string, Float32Array> = {};
    const v: Record<string, Float32Array> = {};
    for (const [name, t] of this.m) m[name] = (await t.data()) as Float32Array;
    for (const [name, t] of this.v) v[name] = (await t.data()) as Float32Array;
    return { t: this.t, m, v };
  }

  /** Restores moments saved by `readState`. */
  loadState(state: { t: number; m: Record<string, Float32Array>; v: Record<string, Float32Array> }): void {
    for (const [name, p] of this.params) {
      const m = state.m[name];
      const v = state.v[name];
      if (!m || !v || m.length !== p.size || v.length !== p.size) throw new Error(`optimizer state for ${name} is missing or the wrong size`);
      tf.tidy(() => {
        this.m.get(name)!.assign(tf.tensor(m, p.shape));
        this.v.get(name)!.assign(tf.tensor(v, p.shape));
      });
    }
    this.t = state.t;
  }

  dispose(): void {
    for (const t of this.m.values()) t.dispose();
    for (const t of this.v.values()) t.dispose();
  }
}

/**
 * Grokfast-EMA (Lee et al. 2024, Algorithm 2): keeps μ ← α μ + (1 − α) g (μ starts at the first
 * gradient) and feeds the optimizer g + λ_g · μ, amplifying the slow components of the gradient.
 */
export class GrokfastEma {
  private readonly mu: Map<string, tf.Variable> = new Map();

  constructor(
    public alpha: number,
    public lambda: number,
  ) {}

  /** Returns the filtered gradients (new tensors; the caller disposes both sets). */
  filter(grads: Record<string, tf.Tensor>): Record<string, tf.Tensor> {
    const out: Record<string, tf.Tensor> = {};
    for (const [name, g] of Object.entries(grads)) {
      let mu = this.mu.get(name);
      if (!mu) {
        const g0 = g;
        mu = tf.tidy(() => tf.variable(tf.clone(g0), false));
        this.mu.set(name, mu);
      } else {
        const alpha = this.alpha;
        const muV = mu;
        tf.tidy(() => muV.assign(tf.add(tf.mul(muV, alpha), tf.mul(g, 1 - alpha))));
      }
      const muV = mu;
      out[name] = tf.tidy(() => tf.add(g, tf.mul(muV, this.lambda)));
    }
    return out;
  }

  dispose(): void {
    for (const t of this.mu.values()) t.dispose();
    this.mu.clear();
  }
}
