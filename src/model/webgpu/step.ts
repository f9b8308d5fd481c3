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
 *
 * Every kernel runs NM models of one shape at once (batched training, issue #13; a single run is
 * NM = 1): their flat vectors lie S values apart, and every other tensor has the model axis
 * first. A thread works on one model, as the single run's thread does, so each model's values
 * are its single run's.
 */
import * as tf from '@tensorflow/tfjs-core';
import { dispatch, registerOnce } from './dispatch.ts';

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
  /** Models trained together (1 for a single run). */
  models: number;
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
const NM = ${x.models}u; const S = ${x.size}u;
const OE = ${o.E}u; const OP = ${o.P}u; const OQ = ${o.Q}u; const OK = ${o.K}u; const OV = ${o.V}u; const OO = ${o.O}u;
const OIN = ${o.In}u; const OBIN = ${o.Bin}u; const OOUT = ${o.Out}u; const OBOUT = ${o.Bout}u; const OU = ${o.U}u;
${withW ? '// Row R[row] of the model whose flat weights start at wb.\nfn R(wb: u32, row: u32, e: u32) -> f32 { return in_w(wb + OE + (row % V) * D + e) + in_w(wb + OP + (row / V) * D + e); }' : ''}
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
const S_GELU = ${Math.SQRT1_2};
const TWO_OVER_SQRT_PI = ${2 / Math.sqrt(Math.PI)};
`;

const key = (name: string, x: StepLayout) => `${name}:${JSON.stringify(x)}`;

function register(): void {
  // The tables of the three positions, thread (model, row, head), and R[EQ], the bias of z·W_O.
  registerOnce(TABLES, (b, inp, a) => {
    const x = a.layout as StepLayout;
    const per = 3 * x.v * x.h + x.d;
    return dispatch(b, key(TABLES, x), [{ name: 'w', t: inp.w }], [
      { name: 't', shape: [x.models, 3 * x.v, x.h + x.h * x.dh] },
      { name: 'q', shape: [x.models, x.h * x.dh] },
      { name: 'eqRow', shape: [x.models, 1, x.d] },
    ], [], x.models * per,
    `  let model = i / ${per}u; let r = i % ${per}u; let wb = model * S;
  if (r < ROWS * H) {
    let row = r / H; let hd = r % H; let tr = (model * ROWS + row) * C;
    var score = 0.0;
    for (var j = 0u; j < DH; j++) {
      var qj = 0.0; var kj = 0.0; var vj = 0.0;
      for (var e = 0u; e < D; e++) {
        let wi = wb + (hd * D + e) * DH + j;
        qj = qj + R(wb, EQ, e) * in_w(OQ + wi);
        kj = kj + R(wb, row, e) * in_w(OK + wi);
        vj = vj + R(wb, row, e) * in_w(OV + wi);
      }
      score = score + kj * qj;
      t[tr + H + hd * DH + j] = vj;
      if (row == 0u) { q[model * H * DH + hd * DH + j] = qj; }
    }
    t[tr + hd] = score;
  } else {
    eqRow[model * D + r - ROWS * H] = R(wb, EQ, r - ROWS * H);
  }`, prelude(x));
  });
  // post = act(pre + b_in), and resid + b_out: the bias of post·W_out (the residual rides in it).
  registerOnce(ACT, (b, inp, a) => {
    const x = a.layout as StepLayout;
    return dispatch(b, key(ACT, x), ['pre', 'w', 'resid'].map((name) => ({ name, t: inp[name] })), [
      { name: 'post', shape: [x.models, x.n, x.m] },
      { name: 'residB', shape: [x.models, x.n, x.d] },
    ], [], x.models * x.n * (x.m + x.d),
    `  if (i < NM * N * M) {
    let z = in_pre(i) + in_w(i / (N * M) * S + OBIN + i % M);
    ${x.relu ? 'post[i] = max(z, 0.0);' : 'post[i] = (z * 0.5) * (1.0 + erfApprox(z * S_GELU));'}
  } else {
    let k = i - NM * N * M;
    residB[k] = in_resid(k) + in_w(k / (N * D) * S + OBOUT + k % D);
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
  let z = in_act(k) + in_w(k / (N * M) * S + OBIN + k % M);
  let dy = in_dpost(k);
  let u = z * S_GELU;
  let du = (dy * (z * 0.5)) * (exp(-(u * u)) * TWO_OVER_SQRT_PI);
  return (dy * (1.0 + erfApprox(u))) * 0.5 + du * S_GELU;
}`;
    const su = x.d * x.vOut;
    const per = x.m + x.d + su + x.m * x.d;
    return dispatch(b, key(ACT_GRAD, x), names.map((name) => ({ name, t: inp[name] })), [
      { name: 'dpre', shape: [x.models, x.n, x.m] },
      { name: 'g', shape: [x.models, x.size] },
    ], [], x.models * (x.n * x.m + per),
    `  if (i < NM * N * M) {
    dpre[i] = dact(i);
    return;
  }
  let model = (i - NM * N * M) / ${per}u; let r = (i - NM * N * M) % ${per}u; let gb = model * S;
  if (r < M) {
    var acc = 0.0;
    for (var row = 0u; row < N; row++) { acc = acc + dact((model * N + row) * M + r); }
    g[gb + OBIN + r] = acc;
  } else if (r < M + D) {
    let col = r - M;
    var acc = 0.0;
    for (var row = 0u; row < N; row++) { acc = acc + in_dout((model * N + row) * D + col); }
    g[gb + OBOUT + col] = acc;
  } else if (r < M + D + ${su}u) {
    let k = r - M - D;
    g[gb + OU + k] = in_dwu(model * ${su}u + k);
  } else {
    let k = r - M - D - ${su}u;
    g[gb + OOUT + k] = in_dwout(model * M * D + k);
  }`, prelude(x, !x.relu) + (x.relu ? '' : ERF) + dact);
  });
  // dq_h = Σ_r dS[r,h] k_h(r); and the flat gradient with W_in's and W_O's copied in.
  registerOnce(DQ, (b, inp, a) => {
    const x = a.layout as StepLayout;
    return dispatch(b, key(DQ, x), ['dt', 'w', 'dwin', 'dwo', 'g'].map((name) => ({ name, t: inp[name] })), [
      { name: 'dq', shape: [x.models, x.h * x.dh] },
      { name: 'gOut', shape: [x.models, x.size] },
    ], [], x.models * (x.h * x.dh + x.size),
    `  if (i < NM * H * DH) {
    let model = i / (H * DH); let hd = (i / DH) % H; let j = i % DH; let wb = model * S;
    var acc = 0.0;
    for (var row = 0u; row < ROWS; row++) {
      var kj = 0.0;
      for (var e = 0u; e < D; e++) { kj = kj + R(wb, row, e) * in_w(wb + OK + (hd * D + e) * DH + j); }
      acc = acc + in_dt((model * ROWS + row) * C + hd) * kj;
    }
    dq[i] = acc;
  } else {
    let k = i - NM * H * DH;
    let model = k / S; let l = k % S;
    var y = in_g(k);
    if (l >= OIN && l < OIN + D * M) { y = in_dwin(model * D * M + l - OIN); }
    if (l >= OO && l < OO + H * DH * D) { y = in_dwo(model * HDD + l - OO); }
    gOut[k] = y;
  }`, prelude(x));
  });
  // W_Q, W_K, W_V, and W_E, W_pos from dR (recomputed per use: 3 rows for W_E, V for W_pos),
  // one thread per value; the rest copied.
  registerOnce(DW, (b, inp, a) => {
    const x = a.layout as StepLayout;
    return dispatch(b, key(DW, x), ['dt', 'w', 'q', 'dq', 'dresid', 'g'].map((name) => ({ name, t: inp[name] })), [{ name: 'gOut', shape: [x.models, x.size] }], [], x.models * x.size,
    `  let k = i;
  let model = k / S; let l = k % S; let wb = model * S; let qb = model * H * DH;
  var y = in_g(k);
  if (l >= OQ && l < OQ + HDD) {
    let o = l - OQ; let hd = o / (D * DH); let e = (o / DH) % D; let j = o % DH;
    y = R(wb, EQ, e) * in_dq(qb + hd * DH + j);
  } else if (l >= OK && l < OK + HDD) {
    let o = l - OK; let hd = o / (D * DH); let e = (o / DH) % D; let j = o % DH;
    let qj = in_q(qb + hd * DH + j);
    var acc = 0.0;
    for (var row = 0u; row < ROWS; row++) { acc = acc + R(wb, row, e) * (in_dt((model * ROWS + row) * C + hd) * qj); }
    y = acc;
  } else if (l >= OV && l < OV + HDD) {
    let o = l - OV; let hd = o / (D * DH); let e = (o / DH) % D; let j = o % DH;
    var acc = 0.0;
    for (var row = 0u; row < ROWS; row++) { acc = acc + R(wb, row, e) * in_dt((model * ROWS + row) * C + H + hd * DH + j); }
    y = acc;
  } else if (l >= OE && l < OE + V * D) {
    let t = (l - OE) / D; let e = (l - OE) % D;
    var acc = 0.0;
    for (var pos = 0u; pos < 3u; pos++) { acc = acc + dR(model, pos * V + t, e); }
    y = acc;
  } else if (l >= OP && l < OP + 3u * D) {
    let pos = (l - OP) / D; let e = (l - OP) % D;
    var acc = 0.0;
    for (var t = 0u; t < V; t++) { acc = acc + dR(model, pos * V + t, e); }
    y = acc;
  }
  gOut[k] = y;`, `${prelude(x)}
// Row \`row\` of dR for one model.
fn dR(model: u32, row: u32, e: u32) -> f32 {
  let wb = model * S; let qb = model * H * DH; let tr = (model * ROWS + row) * C;
  var acc = 0.0;
  for (var hd = 0u; hd < H; hd++) {
    let ds = in_dt(tr + hd);
    for (var j = 0u; j < DH; j++) {
      let wi = wb + (hd * D + e) * DH + j;
      acc = acc + (ds * in_q(qb + hd * DH + j)) * in_w(OK + wi) + in_dt(tr + H + hd * DH + j) * in_w(OV + wi);
      if (row == EQ) { acc = acc + in_dq(qb + hd * DH + j) * in_w(OQ + wi); }
    }
  }
  if (row == EQ) {
    var s = 0.0;
    for (var n = 0u; n < N; n++) { s = s + in_dresid((model * N + n) * D + e); }
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

/** Tables `[NM, 3·V, C]`, the query of '=' `[NM, H·DH]`, and R[EQ] `[NM, 1, D]`, from the flat weights `[NM, S]`. */
export const stepTables = (w: tf.Tensor, x: StepLayout) => run(TABLES, { w }, x) as [tf.Tensor3D, tf.Tensor2D, tf.Tensor3D];

/** post = act(pre + b_in) and resid + b_out, `[NM, N, ·]`. */
export const stepAct = (pre: tf.Tensor, w: tf.Tensor, resid: tf.Tensor, x: StepLayout) => run(ACT, { pre, w, resid }, x) as [tf.Tensor3D, tf.Tensor3D];

/** dpre, and the flat gradients `[NM, S]` with b_in, b_out, W_U, W_out filled (`act`: post for ReLU, pre for GELU). */
export function stepActGrad(dpost: tf.Tensor, act: tf.Tensor, w: tf.Tensor, dout: tf.Tensor, dwu: tf.Tensor, dwout: tf.Tensor, x: StepLayout): [tf.Tensor3D, tf.Tensor2D] {
  const inputs: tf.NamedTensorMap = { dpost, act, dout, dwu, dwout };
  if (!x.relu) inputs.w = w;
  return run(ACT_GRAD, inputs, x) as [tf.Tensor3D, tf.Tensor2D];
}

/** dq `[NM, H·DH]`, and the flat gradients with W_in and W_O filled. */
export const stepDq = (dt: tf.Tensor, w: tf.Tensor, dwin: tf.Tensor, dwo: tf.Tensor, g: tf.Tensor, x: StepLayout) => run(DQ, { dt, w, dwin, dwo, g }, x) as [tf.Tensor2D, tf.Tensor2D];

/** The whole flat gradients `[NM, S]`: W_Q, W_K, W_V, W_E and W_pos filled. */
export const stepDw = (dt: tf.Tensor, w: tf.Tensor, q: tf.Tensor, dq: tf.Tensor, dresid: tf.Tensor, g: tf.Tensor, x: StepLayout) => run(DW, { dt, w, q, dq, dresid, g }, x)[0] as tf.Tensor2D;
