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
 * themselves, the way it does (dispatch.ts). A WebGPU stage binds at most 8 storage
 * buffers by default, which sets the input/output counts above. step.ts and
 * attention.ts hold the kernels of the 1-block step (fused-step.ts).
 * The arithmetic is the general path's, op for op (same order, same float32 constants), so the
 * two agree to float32 rounding (test/browser/fused.test.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import { dispatch, registerOnce } from './dispatch.ts';

const ADAMW = 'GrokscopeAdamW';
const GROKFAST = 'GrokscopeGrokfastEma';
const UNPACK = 'GrokscopeUnpack';
const PACK = 'GrokscopePack';
const CROSS_ENTROPY = 'GrokscopeCrossEntropy';

function register(): void {
  // AdamW (adamw.ts), op for op: m1 = m·β1 + g·(1−β1); v1 = v·β2 + g²·(1−β2);
  // θ ← θ·decay − (m1 / (√v1 / √(1−β2^(t+1)) + ε))·stepSize. With μ: g ← g + μ·λ_g first.
  // M models side by side (`size` values each) with their own coefficients, two vec4 a model in
  // `hp`: (β1, 1−β1, β2, 1−β2) and (decay, stepSize, √(1−β2^(t+1)), λ_g).
  // The gradient is one flat `g`, or (one model) two halves `ga` (the first nA values) and `gb` as packed.
  registerOnce(ADAMW, (b, inp, a) => {
    const withMu = inp.mu !== undefined;
    const split = inp.gb !== undefined;
    const names = [...(split ? ['ga', 'gb'] : ['g']), ...(withMu ? ['mu'] : []), 'w', 'm', 'v'];
    const n = tf.util.sizeFromShape(inp.w.shape);
    const hp = a.hp as number[];
    return dispatch(
      b,
      `${ADAMW}${withMu ? '+mu' : ''}${split ? '+split' : ''}`,
      names.map((name) => ({ name, t: inp[name] })),
      [
        { name: 'wOut', shape: inp.w.shape },
        { name: 'mOut', shape: inp.w.shape },
        { name: 'vOut', shape: inp.w.shape },
      ],
      [
        { name: 'eps', type: 'f32', value: a.eps as number },
        { name: 'size', type: 'u32', value: n / (hp.length / 8) },
        { name: 'nA', type: 'u32', value: split ? tf.util.sizeFromShape(inp.ga.shape) : n },
        { name: 'hp', type: 'vec4f', values: hp },
      ],
      n,
      `  ${split ? 'var grad = 0.0;\n  if (i < uniforms.nA) { grad = in_ga(i); } else { grad = in_gb(i - uniforms.nA); }' : 'var grad = in_g(i);'}
  let model = i / uniforms.size;
  let h0 = uniforms.hp[2u * model];
  let h1 = uniforms.hp[2u * model + 1u];
  ${withMu ? 'grad = grad + in_mu(i) * h1.w;' : ''}
  let m1 = in_m(i) * h0.x + grad * h0.y;
  let v1 = in_v(i) * h0.z + (grad * grad) * h0.w;
  let denom = sqrt(v1) / h1.z + uniforms.eps;
  wOut[i] = in_w(i) * h1.x - (m1 / denom) * h1.y;
  mOut[i] = m1;
  vOut[i] = v1;`,
    );
  });
  // Grokfast-EMA (adamw.ts): μ ← μ·α + g·(1−α), M models of `size` values, (α, 1−α) a model.
  registerOnce(GROKFAST, (b, inp, a) => {
    const n = tf.util.sizeFromShape(inp.g.shape);
    const hp = a.hp as number[];
    return dispatch(
      b,
      GROKFAST,
      [
        { name: 'g', t: inp.g },
        { name: 'mu', t: inp.mu },
      ],
      [{ name: 'muOut', shape: inp.mu.shape }],
      [
        { name: 'size', type: 'u32', value: n / (hp.length / 4) },
        { name: 'hp', type: 'vec4f', values: hp },
      ],
      n,
      '  let h = uniforms.hp[i / uniforms.size];\n  muOut[i] = in_mu(i) * h.x + in_g(i) * h.y;',
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
  // Flat → up to 7 parameters: output k takes [offset_k, offset_k + size_k) of each of M models,
  // whose flat vectors lie `stride` values apart; its values model after model.
  registerOnce(UNPACK, (b, inp, a) => {
    const shapes = a.shapes as number[][];
    const models = a.models as number;
    const stride = a.stride as number;
    const sizes = shapes.map((s) => tf.util.sizeFromShape(s) / models);
    const offsets = sizes.map((_, k) => sizes.slice(0, k).reduce((x, y) => x + y, a.offset as number));
    const starts = sizes.map((_, k) => models * sizes.slice(0, k).reduce((x, y) => x + y, 0));
    const total = models * sizes.reduce((x, y) => x + y, 0);
    const lines = sizes.map((s, k) => {
      const j = `i - ${starts[k]}u`;
      return `  if (i >= ${starts[k]}u && i < ${starts[k] + models * s}u) { out${k}[${j}] = in_flat((${j}) / ${s}u * ${stride}u + ${offsets[k]}u + (${j}) % ${s}u); }`;
    });
    return dispatch(
      b,
      `${UNPACK}:${a.offset as number}:${models}:${stride}:${sizes.join(',')}`,
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
  // With `weights` (a row each: 1/N of its model's pairs, 0 on padding) the gradient is scaled by
  // the row's weight instead of 1/N, and so is its loss, so a model's loss is the sum of its rows.
  registerOnce(CROSS_ENTROPY, (b, inp) => {
    const [n, v] = inp.logits.shape;
    const weighted = inp.weights !== undefined;
    return dispatch(
      b,
      `${CROSS_ENTROPY}${weighted ? '+weights' : ''}`,
      [
        { name: 'logits', t: inp.logits },
        { name: 'labels', t: inp.labels },
        ...(weighted ? [{ name: 'weights', t: inp.weights }] : []),
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
      `  let scale = ${weighted ? 'in_weights(i)' : 'uniforms.scale'};
  let cols = uniforms.v;
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
  loss[i] = ${weighted ? '(m + l1p) * scale' : 'm + l1p'};
  var otherP = 0.0;
  for (var j = 0u; j < cols; j++) {
    let o = (exp(in_logits(base + j) - mx) / expSum) * (1.0 - in_labels(base + j));
    grad[base + j] = o;
    otherP = otherP + o;
  }
  for (var j = 0u; j < cols; j++) {
    grad[base + j] = (grad[base + j] - in_labels(base + j) * otherP) * scale;
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

/** One model's coefficients of an AdamW update (adamWCoefficients), and its Grokfast λ_g. */
export interface FusedAdamWModel {
  beta1: number;
  beta2: number;
  decay: number;
  stepSize: number;
  sqrtBc2: number;
  /** λ_g: the weight of μ added to the gradient (0 without Grokfast). */
  lambda?: number;
}

export interface FusedAdamWArgs {
  /** The flat gradient of every model (M·S values), or one model's as two packed halves (`fusedPack`). */
  g: tf.Tensor | [tf.Tensor1D, tf.Tensor1D];
  /** Grokfast's μ (already updated), or absent. */
  mu?: tf.Tensor;
  w: tf.Tensor;
  m: tf.Tensor;
  v: tf.Tensor;
  eps: number;
  /** Per model, in order: the flat vectors hold the models one after another. */
  models: FusedAdamWModel[];
}

/** One AdamW update of the flat weights of M models: new [weights, m, v], shaped as `w`. One dispatch. */
export function fusedAdamW<T extends tf.Tensor>(x: FusedAdamWArgs & { w: T }): [T, T, T] {
  ensureRegistered();
  if (Array.isArray(x.g) && x.models.length !== 1) throw new Error('packed gradient halves hold one model');
  const inputs: tf.NamedTensorMap = Array.isArray(x.g) ? { ga: x.g[0], gb: x.g[1], w: x.w, m: x.m, v: x.v } : { g: x.g, w: x.w, m: x.m, v: x.v };
  if (x.mu) inputs.mu = x.mu;
  const hp = x.models.flatMap((k) => [k.beta1, 1 - k.beta1, k.beta2, 1 - k.beta2, k.decay, k.stepSize, k.sqrtBc2, k.lambda ?? 0]);
  return tf.engine().runKernel(ADAMW, inputs, { eps: x.eps, hp } as unknown as tf.NamedAttrMap) as unknown as [T, T, T];
}

/** Grokfast's EMA step μ·α + g·(1−α) for M models (one α each; M·S values, models in order). One dispatch. */
export function fusedGrokfastEma<T extends tf.Tensor>(g: tf.Tensor, mu: T, alphas: number[]): T {
  ensureRegistered();
  const hp = alphas.flatMap((alpha) => [alpha, 1 - alpha, 0, 0]);
  return single(tf.engine().runKernel(GROKFAST, { g, mu }, { hp } as unknown as tf.NamedAttrMap)) as T;
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

/**
 * Splits flat values into tensors of `shapes` (in order), 7 per dispatch. With `models` > 1 the
 * flat values hold M models one after another, `stride` values apart, and each shape has the
 * model axis first: output k gathers each model's part k.
 */
export function fusedUnpack(flat: tf.Tensor, shapes: number[][], models = 1, stride = flat.size): tf.Tensor[] {
  ensureRegistered();
  const out: tf.Tensor[] = [];
  let offset = 0;
  for (let k = 0; k < shapes.length; k += 7) {
    const group = shapes.slice(k, k + 7);
    const res = tf.engine().runKernel(UNPACK, { flat }, { shapes: group, offset, models, stride } as unknown as tf.NamedAttrMap) as unknown as tf.Tensor[];
    out.push(...(Array.isArray(res) ? res : [res]));
    offset += group.reduce((s, sh) => s + tf.util.sizeFromShape(sh), 0) / models;
  }
  return out;
}

/**
 * The fused cross-entropy kernel: per-example loss `[N]` and its gradient (softmax − onehot)/N.
 * With `weights` `[N]`: the gradient scaled by each row's weight instead, and the loss too. One dispatch.
 */
export function crossEntropyRowsFused(logits: tf.Tensor2D, labels: tf.Tensor2D, weights?: tf.Tensor1D): [tf.Tensor1D, tf.Tensor2D] {
  ensureRegistered();
  const inputs: tf.NamedTensorMap = weights ? { logits, labels, weights } : { logits, labels };
  return tf.engine().runKernel(CROSS_ENTROPY, inputs, {}) as unknown as [tf.Tensor1D, tf.Tensor2D];
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
