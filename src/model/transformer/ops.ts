/**
 * Small tfjs building blocks with gradients chosen for speed on every backend, and the loss.
 *
 * Why custom gradients: tfjs differentiates `matMul` into matMuls with transpose flags, and
 * tfjs-wasm runs those ~10× slower than plain products (measured: 3831×128 · 128×512 takes 14 ms
 * plain, 145 ms with transposeB). `mm` transposes explicitly instead on wasm and cpu. `gatherRows`
 * avoids tf.gather's gradient (UnsortedSegmentSum, missing on wasm) with a one-hot product.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { LossPrecision } from '../../config/schema.ts';
// tfjs-core alone registers no gradients; the model needs them on every backend.
import '#tfjs-gradients';

/** Backends whose transposed matMul is slow, so gradients transpose explicitly first. */
function wantsExplicitTranspose(): boolean {
  const b = tf.getBackend();
  return b === 'wasm' || b === 'cpu';
}

/** Swaps the last two axes. */
export function transposeLast(x: tf.Tensor): tf.Tensor {
  const r = x.rank;
  const perm = [...Array(r).keys()];
  perm[r - 2] = r - 1;
  perm[r - 1] = r - 2;
  return tf.transpose(x, perm);
}

/**
 * tfjs-wasm caches one XNNPACK operator per right-hand operand, keyed by the operand's data id and
 * not its shape, and packs the operand's values into it. A reshape shares its input's data id, so
 * the same data used as a right-hand operand under two 2-D shapes (e.g. the logits as [P², P] and
 * as [P, P³]) silently reuses the first operator: wrong products, or reads out of bounds. On wasm
 * every right-hand operand is therefore checked against the shape its data was first used with,
 * and copied when they differ.
 */
const rhsShapes = new WeakMap<object, string>();

function rhsOperand(b: tf.Tensor): tf.Tensor {
  if (b.rank !== 2 || tf.getBackend() !== 'wasm') return b;
  const shape = b.shape.join('x');
  const first = rhsShapes.get(b.dataId);
  if (first === undefined) {
    rhsShapes.set(b.dataId, shape);
    return b;
  }
  if (first === shape) return b;
  const copy = tf.add(b, tf.scalar(0));
  rhsShapes.set(copy.dataId, shape);
  return copy;
}

/** tf.matMul, with the wasm operator-cache guard on the right-hand operand. */
export function matMul(a: tf.Tensor, b: tf.Tensor, transposeA = false, transposeB = false): tf.Tensor {
  return tf.matMul(a, rhsOperand(b), transposeA, transposeB);
}

function matMulT(a: tf.Tensor, b: tf.Tensor, transposeA: boolean, transposeB: boolean): tf.Tensor {
  if (!wantsExplicitTranspose()) return matMul(a, b, transposeA, transposeB);
  return matMul(transposeA ? transposeLast(a) : a, transposeB ? transposeLast(b) : b);
}

/**
 * xᵀ·dy, the gradient of the right-hand operand. XNNPACK (tfjs-wasm) packs a product's right-hand
 * operand on every call, so for a layer wider out than in (W_in: 128 → 512) it is cheaper as
 * (dyᵀ·x)ᵀ, which packs x [N, in] instead of dy [N, out]: 37 → 13 ms for W_in at P = 113.
 */
function weightGrad(x: tf.Tensor, dy: tf.Tensor): tf.Tensor {
  if (!wantsExplicitTranspose() || x.rank !== 2 || dy.shape[1]! <= x.shape[1]!) return matMulT(x, dy, true, false);
  return tf.transpose(matMul(tf.transpose(dy), x));
}

/**
 * Matrix product a·b of rank-2 tensors, or of rank-3 tensors with the same batch size, whose
 * gradients are plain products on backends where transpose flags are slow.
 */
export function mm<T extends tf.Tensor>(a: T, b: tf.Tensor): T {
  const f = tf.customGrad((x: tf.Tensor | tf.GradSaveFunc, y: tf.Tensor | tf.GradSaveFunc, save: tf.Tensor | tf.GradSaveFunc) => {
    const xa = x as tf.Tensor;
    const yb = y as tf.Tensor;
    (save as tf.GradSaveFunc)([xa, yb]);
    return {
      value: matMul(xa, yb),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [matMulT(dy, saved[1], false, true), weightGrad(saved[0], dy)],
    };
  });
  return f(a, b) as T;
}

/** A constant one-hot matrix `[N, V]` of N indices, and its transpose `[V, N]`. */
export interface OneHot {
  rows: tf.Tensor2D;
  t: tf.Tensor2D;
}

/**
 * Rows of `table` [V, D] at `indices` [N] → [N, D]. To differentiate, pass the indices' one-hot:
 * the rows are then the product oneHot · table, and the table's gradient oneHotᵀ · dy — on wasm
 * a product is several times faster than GatherV2 (15 ms for 3830 rows of 132), and tfjs cannot
 * differentiate gather there at all (no UnsortedSegmentSum). Exact: each row is 1·x plus zeros.
 */
export function gatherRows(table: tf.Tensor2D, indices: tf.Tensor1D, oneHot?: OneHot): tf.Tensor2D {
  // Without a one-hot the caller promises not to differentiate (evaluation batches).
  if (!oneHot) return tf.gather(table, indices);
  const f = tf.customGrad((t: tf.Tensor | tf.GradSaveFunc) => ({
    value: matMul(oneHot.rows, t as tf.Tensor),
    // On wasm as (dyᵀ·oneHot)ᵀ: the constant one-hot is packed once, not dy every step.
    gradFunc: (dy: tf.Tensor) => (wantsExplicitTranspose() ? tf.transpose(matMul(tf.transpose(dy), oneHot.rows)) : matMul(oneHot.t, dy)),
  }));
  return f(table) as tf.Tensor2D;
}

/** GELU with the exact erf form (PyTorch's default F.gelu, used by the authors' 'GeLU'). */
export function gelu(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2)))));
}

/**
 * One-hot rows as float32, `[N, depth]`. (tfjs-wasm 4.22 writes oneHot(..., 'float32') as int
 * bits — 1 becomes 1.4e-45 — so the one-hot is made as int32 and cast.)
 */
export function oneHotFloat(indices: tf.Tensor1D, depth: number): tf.Tensor2D {
  return tf.tidy(() => tf.cast(tf.oneHot(indices, depth), 'float32') as tf.Tensor2D);
}

/**
 * log(1 + x) accurate for tiny x on every backend (tfjs-wasm computes log1p as log(1 + x), which
 * rounds 1e-7 to 1.19e-7): with u = 1 + x rounded, log(u)·x/(u − 1) cancels the rounding error.
 */
export function log1pAccurate(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const u = tf.add(x, 1);
    const d = tf.sub(u, 1);
    const exact = tf.equal(d, 0);
    const ratio = tf.div(tf.log(u), tf.where(exact, tf.onesLike(d), d));
    return tf.where(exact, x, tf.mul(x, ratio));
  });
}

/**
 * Zhong et al. 2023's attention rate α (fjzzq2002/pizza, code/train-main.py, Attention.forward:
 * softmax·attn_coeff + (1 − attn_coeff)): every key a query may attend to gets 1 − α on top of α
 * times its softmax weight, so α = 0 is constant attention (weights 1, not 1/n). `allowed`: the
 * causal 0/1 mask broadcastable to `pattern`, or none when every key is allowed (the last
 * position). α = 1 returns `pattern` itself.
 */
export function attentionRate(pattern: tf.Tensor, alpha: number, allowed?: tf.Tensor): tf.Tensor {
  if (alpha === 1) return pattern;
  return tf.add(tf.mul(pattern, alpha), allowed ? tf.mul(allowed, 1 - alpha) : 1 - alpha);
}

/**
 * Per-example cross-entropy of `logits` [N, V] against one-hot `labels` [N, V] → [N].
 *
 * Computed as m + log1p(expm1(−m) + Σ_{j≠y} exp(d_j − m)) with d_j = x_j − x_y and
 * m = max(0, max_j d_j). This equals logsumexp(x) − x_y but keeps full relative precision
 * when the loss is tiny (the paper reports test losses near 1e-7, below float32's resolution of
 * x_y − logsumexp(x) for logits of size ~20), and never overflows.
 */
export function crossEntropyPerExample(logits: tf.Tensor2D, labels: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => {
    const xy = tf.sum(tf.mul(logits, labels), 1, true);
    const d = tf.sub(logits, xy);
    const m = tf.relu(tf.max(d, 1, true));
    const others = tf.sum(tf.mul(tf.exp(tf.sub(d, m)), tf.sub(1, labels)), 1, true);
    const loss = tf.add(m, log1pAccurate(tf.add(tf.expm1(tf.neg(m)), others)));
    return tf.reshape(loss, [-1]) as tf.Tensor1D;
  });
}

/**
 * softmax − onehot along `axis`: with `high` precision the label's component p_y − 1 is −Σ_{j≠y} p_j;
 * with `f32` it is p_y − 1 as float32 computes it, 0 once p_y rounds to 1 (App. D.2's lower precision).
 */
export function crossEntropyGrad(logits: tf.Tensor, labels: tf.Tensor, precision: LossPrecision, axis: number): tf.Tensor {
  return tf.tidy(() => {
    const probs = tf.softmax(logits);
    if (precision === 'f32') return tf.sub(probs, labels);
    const others = tf.mul(probs, tf.sub(1, labels));
    return tf.sub(others, tf.mul(labels, tf.sum(others, axis, true)));
  });
}

/**
 * Mean cross-entropy with the gradient (softmax − onehot)/N, where the label's component
 * p_y − 1 is computed as −Σ_{j≠y} p_j. In float32, p_y rounds to 1 once the loss is below ~1e-7,
 * so p_y − 1 would be 0 and the gradient would only push wrong logits down, never the right one
 * up — the imbalance behind the loss spikes that made the authors compute their loss in float64.
 * The sum of the others' probabilities keeps full precision instead.
 */
export function crossEntropyMean(logits: tf.Tensor2D, labels: tf.Tensor2D, precision: LossPrecision = 'high'): tf.Scalar {
  const f = tf.customGrad((x: tf.Tensor | tf.GradSaveFunc, save: tf.Tensor | tf.GradSaveFunc) => {
    const xl = x as tf.Tensor2D;
    (save as tf.GradSaveFunc)([xl]);
    return {
      value: tf.mean(crossEntropyPerExample(xl, labels)) as tf.Scalar,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        tf.tidy(() => {
          const grad = crossEntropyGrad(saved[0], labels, precision, 1);
          return tf.mul(grad, tf.div(dy, saved[0].shape[0]));
        }),
    };
  });
  return f(logits) as tf.Scalar;
}

/**
 * Sum of same-shaped tensors. tf.addN binds one storage buffer per input, and WebGPU allows 8
 * per shader stage by default (tfjs-backend-webgpu does not split): more than 7 inputs make an
 * invalid pipeline that silently voids the whole command buffer. So add in groups of at most 6.
 */
export const ADD_N_MAX_INPUTS = 6;

export function addAll(ts: tf.Tensor[]): tf.Tensor {
  if (ts.length === 0) throw new Error('addAll needs at least one tensor');
  return tf.tidy(() => {
    let level = ts;
    while (level.length > 1) {
      const next: tf.Tensor[] = [];
      for (let i = 0; i < level.length; i += ADD_N_MAX_INPUTS) {
        const group = level.slice(i, i + ADD_N_MAX_INPUTS);
        next.push(group.length === 1 ? group[0] : tf.addN(group));
      }
      level = next;
    }
    return level[0];
  });
}

/** Fraction of rows whose argmax equals the label, as a scalar tensor. */
export function accuracy(logits: tf.Tensor2D, labelIds: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => tf.mean(tf.cast(tf.equal(tf.argMax(logits, 1), labelIds), 'float32')) as tf.Scalar);
}
