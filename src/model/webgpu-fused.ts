/**
 * Fused WebGPU kernels for the training step, registered with tfjs's WebGPU backend: they run on
 * its device, read and write its buffers, and are recorded into its command encoder between
 * tfjs's own kernels, so no value leaves the GPU. Each is ONE compute dispatch where the general
 * path runs many small kernels (a GPU charges per dispatch, ~25–70 µs on real hardware):
 *
 * - `GrokscopeAdamW`: the whole flat AdamW update (decay, both moments, bias correction, step),
 *   optionally on a Grokfast-filtered gradient, writing weights and moments at once (3 outputs);
 * - `GrokscopeGrokfastEma`: Grokfast's μ ← α μ + (1 − α) g;
 * - `GrokscopePack` / `GrokscopeUnpack`: up to 7 gradients into one flat vector, and the flat
 *   weights back into up to 7 parameters (7 outputs, one pass);
 * - `GrokscopeCrossEntropy`: per-example loss and its gradient (softmax − onehot)/N in one pass.
 *
 * tfjs's `runWebGPUProgram` makes one output per dispatch, so these record their dispatch
 * themselves, the way it does (webgpu-dispatch.ts). A WebGPU stage binds at most 8 storage
 * buffers by default, which sets the input/output counts above. webgpu-step.ts and
 * webgpu-attention.ts hold the kernels of the 1-block step (fused-step.ts).
 * The arithmetic is the general path's, op for op (same order, same float32 constants), so the
 * two agree to float32 rounding (test/browser/fused.test.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import { dispatch, registerOnce, type Uniform } from './webgpu-dispatch.ts';

const ADAMW = 'GrokscopeAdamW';
const GROKFAST = 'GrokscopeGrokfastEma';
const UNPACK = 'GrokscopeUnpack';
const PACK = 'GrokscopePack';
const CROSS_ENTROPY = 'GrokscopeCrossEntropy';

function register(): void {
  // AdamW (adamw.ts), op for op: m1 = m·β1 + g·(1−β1); v1 = v·β2 + g²·(1−β2);
  // θ ← θ·decay − (m1 / (√v1 / √(1−β2^(t+1)) + ε))·stepSize. With μ: g ← g + μ·λ_g first.
  // The gradient is one flat `g`, or two halves `ga` (the first nA values) and `gb` as packed.
  registerOnce(ADAMW, (b, inp, a) => {
    const withMu = inp.mu !== undefined;
    const split = inp.gb !== undefined;
    const names = [...(split ? ['ga', 'gb'] : ['g']), ...(withMu ? ['mu'] : []), 'w', 'm', 'v'];
    const n = tf.util.sizeFromShape(inp.w.shape);
    const f = (name: string): Uniform => ({ name, type: 'f32', value: a[name] as number });
    return dispatch(
      b,
      `${ADAMW}${withMu ? '+mu' : ''}${split ? '+split' : ''}`,
      names.map((name) => ({ name, t: inp[name] })),
      [
        { name: 'wOut', shape: [n] },
        { name: 'mOut', shape: [n] },
        { name: 'vOut', shape: [n] },
      ],
      [f('beta1'), f('oneMinusBeta1'), f('beta2'), f('oneMinusBeta2'), f('eps'), f('decay'), f('stepSize'), f('sqrtBc2'), f('lambda'), { name: 'nA', type: 'u32', value: split ? tf.util.sizeFromShape(inp.ga.shape) : n }],
      n,
      `  ${split ? 'var grad = 0.0;\n  if (i < uniforms.nA) { grad = in_ga(i); } else { grad = in_gb(i - uniforms.nA); }' : 'var grad = in_g(i);'}
  ${withMu ? 'grad = grad + in_mu(i) * uniforms.lambda;' : ''}
  let m1 = in_m(i) * uniforms.beta1 + grad * uniforms.oneMinusBeta1;
  let v1 = in_v(i) * uniforms.beta2 + (grad * grad) * uniforms.oneMinusBeta2;
  let denom = sqrt(v1) / uniforms.sqrtBc2 + uniforms.eps;
  wOut[i] = in_w(i) * uniforms.decay - (m1 / denom) * uniforms.stepSize;
  mOut[i] = m1;
  vOut[i] = v1;`,
    );
  });
  // Grokfast-EMA (adamw.ts): μ ← μ·α + g·(1−α).
  registerOnce(GROKFAST, (b, inp, a) => {
    const n = tf.util.sizeFromShape(inp.g.shape);
    return dispatch(
      b,
      GROKFAST,
      [
        { name: 'g', t: inp.g },
        { name: 'mu', t: inp.mu },
      ],
      [{ name: 'muOut', shape: [n] }],
      [
        { name: 'alpha', type: 'f32', value: a.alpha as number },
        { name: 'oneMinusAlpha', type: 'f32', value: a.oneMinusAlpha as number },
      ],
      n,
      '  muOut[i] = in_mu(i) * uniforms.alpha + in_g(i) * uniforms.oneMinusAlpha;',
    );
  });
  // Up to 7 tensors → one flat vector, in order (the gradients for AdamW: tfjs's concat of 11 takes 3).
  registerOnce(PACK, (b, inp) => {
    const parts = Object.keys(inp).sort().map((k) => inp[k]);
    const sizes = parts.map((t) => tf.util.sizeFromShape(t.shape));
    const offsets = sizes.map((_, k) => sizes.slice(0, k).reduce((x, y) => x + y, 0));
    const total = sizes.reduce((x, y) => x + y, 0);
    const lines = sizes.map((sz, k) => `  if (i >= ${offsets[k]}u && i < ${offsets[k] + sz}u) { flat[i] = in_p${k}(i - ${offsets[k]}u); }`);
    return dispatch(b, `${PACK}:${sizes.join(',')}`, parts.map((t, k) => ({ name: `p${k}`, t })), [{ name: 'flat', shape: [total] }], [], total, lines.join('\n'));
  });
  // Flat → up to 7 parameters: output k takes [offset_k, offset_k + size_k).
  registerOnce(UNPACK, (b, inp, a) => {
    const shapes = a.shapes as number[][];
    const sizes = shapes.map((s) => tf.util.sizeFromShape(s));
    const offsets = sizes.map((_, k) => sizes.slice(0, k).reduce((x, y) => x + y, a.offset as number));
    const total = sizes.reduce((x, y) => x + y, 0);
    const lines = sizes.map((s, k) => `  if (i >= ${offsets[k] - (a.offset as number)}u && i < ${offsets[k] - (a.offset as number) + s}u) { out${k}[i - ${offsets[k] - (a.offset as number)}u] = in_flat(i + ${a.offset as number}u); }`);
    return dispatch(
      b,
      `${UNPACK}:${a.offset as number}:${sizes.join(',')}`,
      [{ name: 'flat', t: inp.flat }],
      shapes.map((shape, k) => ({ name: `out${k}`, shape })),
      [],
      total,
      lines.join('\n'),
    );
  });

  // Cross-entropy (ops.ts crossEntropyPerExample and crossEntropyMean's gradient), one row per
  // thread: loss = m + log1p(expm1(−m) + Σ_{j≠y} exp(d_j − m)) with d_j = x_j − x_y and
  // m = max(0, max_j d_j); gradient (others_j − l_j Σ others)·(1/N) with others = p·(1 − l).
  registerOnce(CROSS_ENTROPY, (b, inp) => {
    const [n, v] = inp.logits.shape;
    return dispatch(
      b,
      CROSS_ENTROPY,
      [
        { name: 'logits', t: inp.logits },
        { name: 'labels', t: inp.labels },
      ],
      [
        { name: 'loss', shape: [n] },
        { name: 'grad', shape: [n, v] },
      ],
      [
        { name: 'v', type: 'u32', value: v },
        { name: 'scale', type: 'f32', value: 1 / n },
      ],
      n,
      `  let cols = uniforms.v;
  let base = i * cols;
  var xy = 0.0;
  var mx = in_logits(base);
  for (var j = 0u; j < cols; j++) {
    xy = xy + in_logits(base + j) * in_labels(base + j);
    mx = max(mx, in_logits(base + j));
  }
  let m = max(mx - xy, 0.0);
  var others = 0.0;
  var expSum = 0.0;
  for (var j = 0u; j < cols; j++) {
    let x = in_logits(base + j);
    others = others + exp((x - xy) - m) * (1.0 - in_labels(base + j));
    expSum = expSum + exp(x - mx);
  }
  let x1 = (exp(-m) - 1.0) + others;
  let u = x1 + 1.0;
  let d = u - 1.0;
  var l1p = x1;
  if (d != 0.0) { l1p = x1 * (log(u) / d); }
  loss[i] = m + l1p;
  var otherP = 0.0;
  for (var j = 0u; j < cols; j++) {
    let o = (exp(in_logits(base + j) - mx) / expSum) * (1.0 - in_labels(base + j));
    grad[base + j] = o;
    otherP = otherP + o;
  }
  for (var j = 0u; j < cols; j++) {
    grad[base + j] = (grad[base + j] - in_labels(base + j) * otherP) * uniforms.scale;
  }`,
    );
  });
}

let registered = false;

/** Whether the fused kernels can run: the active backend is tfjs's WebGPU. */
export function fusedAvailable(): boolean {
  return tf.getBackend() === 'webgpu';
}

function ensureRegistered(): void {
  if (!registered) {
    register();
  }
  registered = true;
}

export interface FusedAdamWArgs {
  /** The flat gradient, whole or as two packed halves (`fusedPack`). */
  g: tf.Tensor1D | [tf.Tensor1D, tf.Tensor1D];
  /** Grokfast's μ (already updated) and λ_g, or absent. */
  mu?: tf.Tensor1D;
  lambda?: number;
  w: tf.Tensor;
  m: tf.Tensor;
  v: tf.Tensor;
  beta1: number;
  beta2: number;
  eps: number;
  decay: number;
  stepSize: number;
  sqrtBc2: number;
}

/** One AdamW update of flat weights: new [weights, m, v]. One dispatch. */
export function fusedAdamW(x: FusedAdamWArgs): [tf.Tensor1D, tf.Tensor1D, tf.Tensor1D] {
  ensureRegistered();
  const inputs: tf.NamedTensorMap = Array.isArray(x.g) ? { ga: x.g[0], gb: x.g[1], w: x.w, m: x.m, v: x.v } : { g: x.g, w: x.w, m: x.m, v: x.v };
  if (x.mu) inputs.mu = x.mu;
  const attrs = {
    beta1: x.beta1,
    oneMinusBeta1: 1 - x.beta1,
    beta2: x.beta2,
    oneMinusBeta2: 1 - x.beta2,
    eps: x.eps,
    decay: x.decay,
    stepSize: x.stepSize,
    sqrtBc2: x.sqrtBc2,
    lambda: x.lambda ?? 0,
  };
  return tf.engine().runKernel(ADAMW, inputs, attrs) as unknown as [tf.Tensor1D, tf.Tensor1D, tf.Tensor1D];
}

/** Grokfast's EMA step μ·α + g·(1−α). One dispatch. */
export function fusedGrokfastEma(g: tf.Tensor1D, mu: tf.Tensor1D, alpha: number): tf.Tensor1D {
  ensureRegistered();
  return single(tf.engine().runKernel(GROKFAST, { g, mu }, { alpha, oneMinusAlpha: 1 - alpha })) as tf.Tensor1D;
}

/** A kernel's only output (tfjs hands back the list a kernel function returned). */
function single(res: tf.Tensor | tf.Tensor[]): tf.Tensor {
  return Array.isArray(res) ? res[0] : res;
}

/** Tensors (at most 7) flattened and concatenated in order: one dispatch. */
export function fusedPack(parts: tf.Tensor[]): tf.Tensor1D {
  ensureRegistered();
  if (parts.length > 7) throw new Error('fusedPack packs at most 7 tensors');
  const inputs: tf.NamedTensorMap = {};
  // Names sort in order (p00, p01, …): the kernel reads them sorted.
  parts.forEach((t, k) => (inputs[`p${String(k).padStart(2, '0')}`] = t));
  return single(tf.engine().runKernel(PACK, inputs, {})) as tf.Tensor1D;
}

/** Splits flat values into tensors of `shapes` (in order), 7 per dispatch. */
export function fusedUnpack(flat: tf.Tensor1D, shapes: number[][]): tf.Tensor[] {
  ensureRegistered();
  const out: tf.Tensor[] = [];
  let offset = 0;
  for (let k = 0; k < shapes.length; k += 7) {
    const group = shapes.slice(k, k + 7);
    const res = tf.engine().runKernel(UNPACK, { flat }, { shapes: group, offset }) as unknown as tf.Tensor[];
    out.push(...(Array.isArray(res) ? res : [res]));
    offset += group.reduce((s, sh) => s + tf.util.sizeFromShape(sh), 0);
  }
  return out;
}

/** The fused cross-entropy kernel: per-example loss `[N]` and its gradient (softmax − onehot)/N. One dispatch. */
export function crossEntropyRowsFused(logits: tf.Tensor2D, labels: tf.Tensor2D): [tf.Tensor1D, tf.Tensor2D] {
  ensureRegistered();
  return tf.engine().runKernel(CROSS_ENTROPY, { logits, labels }, {}) as unknown as [tf.Tensor1D, tf.Tensor2D];
}

/**
 * `crossEntropyMean` (ops.ts) with the per-example loss and its gradient from one fused kernel:
 * 3 dispatches a step (kernel, mean, times dy) instead of ~25.
 */
export function crossEntropyMeanFused(logits: tf.Tensor2D, labels: tf.Tensor2D): tf.Scalar {
  const f = tf.customGrad((x: tf.Tensor | tf.GradSaveFunc, save: tf.Tensor | tf.GradSaveFunc) => {
    const [loss, grad] = crossEntropyRowsFused(x as tf.Tensor2D, labels);
    (save as tf.GradSaveFunc)([grad]);
    return {
      value: tf.mean(loss) as tf.Scalar,
      // The kernel already scaled by 1/N (as crossEntropyMean's dy/N with dy = 1, the same float).
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.mul(saved[0], dy),
    };
  });
  return f(logits) as tf.Scalar;
}
