/**
 * The kernels of the hand-written fused step (fused-step.ts): the 1-block fast forward (fast.ts)
 * and its gradient, reading the weights from the optimizer's flat vector `w` and writing the
 * gradient as one flat vector in the same order, so no parameter is packed or unpacked for them.
 *
 * Notation: V = d_vocab, D = d_model, H heads of DH, C = H + H·DH (a table row: scores, values),
 * M = d_mlp, N pairs; R `[3·V, D]` holds every token at every position, R[pos·V + t] =
 * W_E[t] + W_pos[pos] (read from `w` where needed, never stored); its row EQ = 2V + p is '=' at
 * position 2, whose query q_h = R[EQ] W_Q[h] is the same for every pair. Row r of the tables T
 * `[3·V, C]` is, per head, the unscaled score k_h(r)·q_h with k_h(r) = R[r] W_K[h], then the
 * values R[r] W_V[h], heads side by side. Backward, with dS the score columns of dT, dV the
 * value columns and dresid the residual stream's gradient at '=':
 *   dq_h = Σ_r dS[r,h] k_h(r);   dW_Q[h] = R[EQ]ᵀ dq_h;
 *   dW_K[h] = Σ_r R[r]ᵀ (dS[r,h] q_h);   dW_V[h] = Σ_r R[r]ᵀ dV[r,h];
 *   dR[r] = Σ_h (dS[r,h] q_h) W_K[h]ᵀ + dV[r,h] W_V[h]ᵀ, plus on row EQ Σ_h dq_h W_Q[h]ᵀ + Σ_n dresid[n];
 *   dW_E[t] = Σ_pos dR[pos·V + t];   dW_pos[pos] = Σ_t dR[pos·V + t].
 *
 * The gradient is built in three kernels, each copying the previous one's flat vector and
 * writing its own parameters' ranges (tfjs's matmul writes the four matrix gradients; the next
 * kernel copies them in): `stepActGrad` b_in, b_out, W_U, W_out; `stepDq` W_in, W_O;
 * `stepDw` W_Q, W_K, W_V, W_E, W_pos. Every value is written by one thread, in a fixed order.
 */
import * as tf from '@tensorflow/tfjs-core';
import { dispatch, registerOnce } from './webgpu-dispatch.ts';

/** Sizes, and each parameter's offset in the flat vector (paramSpecs order). */
export interface StepLayout {
  v: number;
  d: number;
  h: number;
  dh: number;
  m: number;
  vOut: number;
  /** The '=' token (p). */
  eq: number;
  /** Pairs in the batch. */
  n: number;
  /** Parameter count (the flat vector's length). */
  size: number;
  relu: boolean;
  off: { E: number; P: number; Q: number; K: number; V: number; O: number; In: number; Bin: number; Out: number; Bout: number; U: number };
}

const TABLES = 'GrokscopeStepTables';
const ACT = 'GrokscopeStepAct';
const ACT_GRAD = 'GrokscopeStepActGrad';
const DQ = 'GrokscopeStepDq';
const DW = 'GrokscopeStepDw';

/** WGSL constants and helpers every step kernel shares (the layout is baked in). */
function prelude(x: StepLayout, withW = true): string {
  const o = x.off;
  return `const V = ${x.v}u; const D = ${x.d}u; const H = ${x.h}u; const DH = ${x.dh}u; const M = ${x.m}u; const N = ${x.n}u;
const C = ${x.h + x.h * x.dh}u; const ROWS = ${3 * x.v}u; const EQ = ${2 * x.v + x.eq}u; const HDD = ${x.h * x.d * x.dh}u;
const OE = ${o.E}u; const OP = ${o.P}u; const OQ = ${o.Q}u; const OK = ${o.K}u; const OV = ${o.V}u; const OO = ${o.O}u;
const OIN = ${o.In}u; const OBIN = ${o.Bin}u; const OOUT = ${o.Out}u; const OBOUT = ${o.Bout}u; const OU = ${o.U}u;
${withW ? 'fn R(row: u32, e: u32) -> f32 { return in_w(OE + (row % V) * D + e) + in_w(OP + (row / V) * D + e); }' : ''}
`;
}

/** tfjs-webgpu's erf (Abramowitz & Stegun 7.1.26), constant for constant, for GELU. */
const ERF = `fn erfApprox(a: f32) -> f32 {
  let p = ${tf.backend_util.ERF_P}; let a1 = ${tf.backend_util.ERF_A1}; let a2 = ${tf.backend_util.ERF_A2};
  let a3 = ${tf.backend_util.ERF_A3}; let a4 = ${tf.backend_util.ERF_A4}; let a5 = ${tf.backend_util.ERF_A5};
  let absA = abs(a);
  let t = 1.0 / (1.0 + p * absA);
  return sign(a) * (1.0 - (((((a5 * t + a4) * t) + a3) * t + a2) * t + a1) * t * exp(-absA * absA));
}
const S = ${Math.SQRT1_2};
const TWO_OVER_SQRT_PI = ${2 / Math.sqrt(Math.PI)};
`;

const key = (name: string, x: StepLayout) => `${name}:${JSON.stringify(x)}`;

function register(): void {
  // The tables of the three positions, thread (row, head), and R[EQ], the bias of z·W_O.
  registerOnce(TABLES, (b, inp, a) => {
    const x = a.layout as StepLayout;
    return dispatch(b, key(TABLES, x), [{ name: 'w', t: inp.w }], [
      { name: 't', shape: [3 * x.v, x.h + x.h * x.dh] },
      { name: 'q', shape: [x.h * x.dh] },
      { name: 'eqRow', shape: [1, x.d] },
    ], [], 3 * x.v * x.h + x.d,
    `  if (i < ROWS * H) {
    let row = i / H; let hd = i % H;
    var score = 0.0;
    for (var j = 0u; j < DH; j++) {
      var qj = 0.0; var kj = 0.0; var vj = 0.0;
      for (var e = 0u; e < D; e++) {
        let wi = (hd * D + e) * DH + j;
        qj = qj + R(EQ, e) * in_w(OQ + wi);
        kj = kj + R(row, e) * in_w(OK + wi);
        vj = vj + R(row, e) * in_w(OV + wi);
      }
      score = score + kj * qj;
      t[row * C + H + hd * DH + j] = vj;
      if (row == 0u) { q[hd * DH + j] = qj; }
    }
    t[row * C + hd] = score;
  } else {
    eqRow[i - ROWS * H] = R(EQ, i - ROWS * H);
  }`, prelude(x));
  });
  // post = act(pre + b_in), and resid + b_out: the bias of post·W_out (the residual rides in it).
  registerOnce(ACT, (b, inp, a) => {
    const x = a.layout as StepLayout;
    return dispatch(b, key(ACT, x), ['pre', 'w', 'resid'].map((name) => ({ name, t: inp[name] })), [
      { name: 'post', shape: [x.n, x.m] },
      { name: 'residB', shape: [x.n, x.d] },
    ], [], x.n * (x.m + x.d),
    `  if (i < N * M) {
    let z = in_pre(i) + in_w(OBIN + i % M);
    ${x.relu ? 'post[i] = max(z, 0.0);' : 'post[i] = (z * 0.5) * (1.0 + erfApprox(z * S));'}
  } else {
    let k = i - N * M;
    residB[k] = in_resid(k) + in_w(OBOUT + k % D);
  }`, prelude(x) + (x.relu ? '' : ERF));
  });
  // dpre (ReLU: dpost·step(post); GELU: tfjs's autodiff of (x·0.5)(1 + erf(x·S))), then the
  // flat gradient: b_in and b_out as column sums, W_U's and W_out's copied from tfjs's products.
  registerOnce(ACT_GRAD, (b, inp, a) => {
    const x = a.layout as StepLayout;
    const names = ['dpost', 'act', ...(x.relu ? [] : ['w']), 'dout', 'dwu', 'dwout'];
    const dact = x.relu
      ? 'fn dact(k: u32) -> f32 { return in_dpost(k) * select(0.0, 1.0, in_act(k) > 0.0); }'
      : `fn dact(k: u32) -> f32 {
  let z = in_act(k) + in_w(OBIN + k % M);
  let dy = in_dpost(k);
  let u = z * S;
  let du = (dy * (z * 0.5)) * (exp(-(u * u)) * TWO_OVER_SQRT_PI);
  return (dy * (1.0 + erfApprox(u))) * 0.5 + du * S;
}`;
    const su = x.d * x.vOut;
    return dispatch(b, key(ACT_GRAD, x), names.map((name) => ({ name, t: inp[name] })), [
      { name: 'dpre', shape: [x.n, x.m] },
      { name: 'g', shape: [x.size] },
    ], [], x.n * x.m + x.m + x.d + su + x.m * x.d,
    `  if (i < N * M) {
    dpre[i] = dact(i);
  } else if (i < N * M + M) {
    let col = i - N * M;
    var acc = 0.0;
    for (var row = 0u; row < N; row++) { acc = acc + dact(row * M + col); }
    g[OBIN + col] = acc;
  } else if (i < N * M + M + D) {
    let col = i - N * M - M;
    var acc = 0.0;
    for (var row = 0u; row < N; row++) { acc = acc + in_dout(row * D + col); }
    g[OBOUT + col] = acc;
  } else if (i < N * M + M + D + ${su}u) {
    let k = i - N * M - M - D;
    g[OU + k] = in_dwu(k);
  } else {
    let k = i - N * M - M - D - ${su}u;
    g[OOUT + k] = in_dwout(k);
  }`, prelude(x, !x.relu) + (x.relu ? '' : ERF) + dact);
  });
  // dq_h = Σ_r dS[r,h] k_h(r); and the flat gradient with W_in's and W_O's copied in.
  registerOnce(DQ, (b, inp, a) => {
    const x = a.layout as StepLayout;
    return dispatch(b, key(DQ, x), ['dt', 'w', 'dwin', 'dwo', 'g'].map((name) => ({ name, t: inp[name] })), [
      { name: 'dq', shape: [x.h * x.dh] },
      { name: 'gOut', shape: [x.size] },
    ], [], x.h * x.dh + x.size,
    `  if (i < H * DH) {
    let hd = i / DH; let j = i % DH;
    var acc = 0.0;
    for (var row = 0u; row < ROWS; row++) {
      var kj = 0.0;
      for (var e = 0u; e < D; e++) { kj = kj + R(row, e) * in_w(OK + (hd * D + e) * DH + j); }
      acc = acc + in_dt(row * C + hd) * kj;
    }
    dq[i] = acc;
  } else {
    let k = i - H * DH;
    var y = in_g(k);
    if (k >= OIN && k < OIN + D * M) { y = in_dwin(k - OIN); }
    if (k >= OO && k < OO + H * DH * D) { y = in_dwo(k - OO); }
    gOut[k] = y;
  }`, prelude(x));
  });
  // W_Q, W_K, W_V, and W_E, W_pos from dR (recomputed per use: 3 rows for W_E, V for W_pos),
  // one thread per value; the rest copied.
  registerOnce(DW, (b, inp, a) => {
    const x = a.layout as StepLayout;
    return dispatch(b, key(DW, x), ['dt', 'w', 'q', 'dq', 'dresid', 'g'].map((name) => ({ name, t: inp[name] })), [{ name: 'gOut', shape: [x.size] }], [], x.size,
    `  let k = i;
  var y = in_g(k);
  if (k >= OQ && k < OQ + HDD) {
    let l = k - OQ; let hd = l / (D * DH); let e = (l / DH) % D; let j = l % DH;
    y = R(EQ, e) * in_dq(hd * DH + j);
  } else if (k >= OK && k < OK + HDD) {
    let l = k - OK; let hd = l / (D * DH); let e = (l / DH) % D; let j = l % DH;
    let qj = in_q(hd * DH + j);
    var acc = 0.0;
    for (var row = 0u; row < ROWS; row++) { acc = acc + R(row, e) * (in_dt(row * C + hd) * qj); }
    y = acc;
  } else if (k >= OV && k < OV + HDD) {
    let l = k - OV; let hd = l / (D * DH); let e = (l / DH) % D; let j = l % DH;
    var acc = 0.0;
    for (var row = 0u; row < ROWS; row++) { acc = acc + R(row, e) * in_dt(row * C + H + hd * DH + j); }
    y = acc;
  } else if (k >= OE && k < OE + V * D) {
    let t = (k - OE) / D; let e = (k - OE) % D;
    var acc = 0.0;
    for (var pos = 0u; pos < 3u; pos++) { acc = acc + dR(pos * V + t, e); }
    y = acc;
  } else if (k >= OP && k < OP + 3u * D) {
    let pos = (k - OP) / D; let e = (k - OP) % D;
    var acc = 0.0;
    for (var t = 0u; t < V; t++) { acc = acc + dR(pos * V + t, e); }
    y = acc;
  }
  gOut[k] = y;`, `${prelude(x)}
fn dR(row: u32, e: u32) -> f32 {
  var acc = 0.0;
  for (var hd = 0u; hd < H; hd++) {
    let ds = in_dt(row * C + hd);
    for (var j = 0u; j < DH; j++) {
      let wi = (hd * D + e) * DH + j;
      acc = acc + (ds * in_q(hd * DH + j)) * in_w(OK + wi) + in_dt(row * C + H + hd * DH + j) * in_w(OV + wi);
      if (row == EQ) { acc = acc + in_dq(hd * DH + j) * in_w(OQ + wi); }
    }
  }
  if (row == EQ) {
    var s = 0.0;
    for (var n = 0u; n < N; n++) { s = s + in_dresid(n * D + e); }
    acc = acc + s;
  }
  return acc;
}`);
  });
}

let registered = false;

function run(name: string, inputs: tf.NamedTensorMap, layout: StepLayout): tf.Tensor[] {
  if (!registered) register();
  registered = true;
  const res = tf.engine().runKernel(name, inputs, { layout } as unknown as tf.NamedAttrMap) as tf.Tensor | tf.Tensor[];
  return Array.isArray(res) ? res : [res];
}

/** Tables `[3·V, C]`, the query of '=' `[H·DH]`, and R[EQ] `[1, D]`, from the flat weights. */
export const stepTables = (w: tf.Tensor, x: StepLayout) => run(TABLES, { w }, x) as [tf.Tensor2D, tf.Tensor1D, tf.Tensor2D];

/** post = act(pre + b_in) and resid + b_out. */
export const stepAct = (pre: tf.Tensor, w: tf.Tensor, resid: tf.Tensor, x: StepLayout) => run(ACT, { pre, w, resid }, x) as [tf.Tensor2D, tf.Tensor2D];

/** dpre, and the flat gradient with b_in, b_out, W_U, W_out filled (`act`: post for ReLU, pre for GELU). */
export function stepActGrad(dpost: tf.Tensor, act: tf.Tensor, w: tf.Tensor, dout: tf.Tensor, dwu: tf.Tensor, dwout: tf.Tensor, x: StepLayout): [tf.Tensor2D, tf.Tensor1D] {
  const inputs: tf.NamedTensorMap = { dpost, act, dout, dwu, dwout };
  if (!x.relu) inputs.w = w;
  return run(ACT_GRAD, inputs, x) as [tf.Tensor2D, tf.Tensor1D];
}

/** dq, and the flat gradient with W_in and W_O filled. */
export const stepDq = (dt: tf.Tensor, w: tf.Tensor, dwin: tf.Tensor, dwo: tf.Tensor, g: tf.Tensor, x: StepLayout) => run(DQ, { dt, w, dwin, dwo, g }, x) as [tf.Tensor1D, tf.Tensor1D];

/** The whole flat gradient: W_Q, W_K, W_V, W_E and W_pos filled. */
export const stepDw = (dt: tf.Tensor, w: tf.Tensor, q: tf.Tensor, dq: tf.Tensor, dresid: tf.Tensor, g: tf.Tensor, x: StepLayout) => run(DW, { dt, w, q, dq, dresid, g }, x)[0] as tf.Tensor1D;
