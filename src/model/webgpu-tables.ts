/**
 * The per-token tables of the fast forward (fast.ts) as fused WebGPU kernels: one dispatch
 * forward, three backward, where the general ops (head transposes, the keys-and-values product,
 * the query, the score reduction, the concatenations, and their gradients) take ~25.
 *
 * R `[3·d_vocab, d]` holds every token at every position (W_E[t] + W_pos[pos]); its row `eqRow`
 * is '=' at position 2, whose query q_h = R[eqRow] W_Q[h] is fixed for every pair. Row r of the
 * output T `[3·d_vocab, h + h·dh]` is, per head, the unscaled score k_h(r)·q_h with
 * k_h(r) = R[r] W_K[h], then the value vectors R[r] W_V[h], heads side by side.
 * The backward, with dS the score columns of dT and dV the value columns:
 *   dq_h = Σ_r dS[r,h] k_h(r);   dW_Q[h] = R[eqRow]ᵀ dq_h;
 *   dW_K[h] = Σ_r R[r]ᵀ (dS[r,h] q_h);   dW_V[h] = Σ_r R[r]ᵀ dV[r,h];
 *   dR[r] = Σ_h (dS[r,h] q_h) W_K[h]ᵀ + dV[r,h] W_V[h]ᵀ   (+ Σ_h dq_h W_Q[h]ᵀ on row eqRow).
 */
import * as tf from '@tensorflow/tfjs-core';
import { dispatch, registerOnce } from './webgpu-dispatch.ts';

const FWD = 'GrokscopeTables';
const DQ = 'GrokscopeTablesDq';
const DR = 'GrokscopeTablesDr';
const DW = 'GrokscopeTablesDw';

interface Dims {
  rows: number;
  d: number;
  h: number;
  dh: number;
  eqRow: number;
}

/** WGSL constants shared by the four kernels (weights [h, d, dh] row-major; C = h + h·dh). */
const header = (x: Dims) => `  let ROWS = ${x.rows}u; let D = ${x.d}u; let H = ${x.h}u; let DH = ${x.dh}u; let C = H + H * DH; let EQ = ${x.eqRow}u;`;

function register(): void {
  registerEmbed();
  registerAddRow();
  registerOnce(FWD, (b, inp, a) => {
    const x = a as unknown as Dims;
    return dispatch(
      b,
      `${FWD}:${x.rows}:${x.d}:${x.h}:${x.dh}:${x.eqRow}`,
      ['r', 'wq', 'wk', 'wv'].map((name) => ({ name, t: inp[name] })),
      [
        { name: 't', shape: [x.rows, x.h + x.h * x.dh] },
        { name: 'q', shape: [x.h * x.dh] },
      ],
      [],
      x.rows * x.h,
      // Thread (row, head): q_h, then k_h(row)·q_h and the row's values for the head.
      `${header(x)}
  let row = i / H; let hd = i % H;
  var score = 0.0;
  for (var j = 0u; j < DH; j++) {
    var qj = 0.0; var kj = 0.0; var vj = 0.0;
    for (var e = 0u; e < D; e++) {
      let w = (hd * D + e) * DH + j;
      qj = qj + in_r(EQ * D + e) * in_wq(w);
      kj = kj + in_r(row * D + e) * in_wk(w);
      vj = vj + in_r(row * D + e) * in_wv(w);
    }
    score = score + kj * qj;
    t[row * C + H + hd * DH + j] = vj;
    if (row == 0u) { q[hd * DH + j] = qj; }
  }
  t[row * C + hd] = score;`,
    );
  });
  registerOnce(DQ, (b, inp, a) => {
    const x = a as unknown as Dims;
    return dispatch(
      b,
      `${DQ}:${x.rows}:${x.d}:${x.h}:${x.dh}:${x.eqRow}`,
      ['dt', 'r', 'wk'].map((name) => ({ name, t: inp[name] })),
      [{ name: 'dq', shape: [x.h * x.dh] }],
      [],
      x.h * x.dh,
      `${header(x)}
  let hd = i / DH; let j = i % DH;
  var acc = 0.0;
  for (var row = 0u; row < ROWS; row++) {
    var kj = 0.0;
    for (var e = 0u; e < D; e++) { kj = kj + in_r(row * D + e) * in_wk((hd * D + e) * DH + j); }
    acc = acc + in_dt(row * C + hd) * kj;
  }
  dq[i] = acc;`,
    );
  });
  registerOnce(DR, (b, inp, a) => {
    const x = a as unknown as Dims;
    return dispatch(
      b,
      `${DR}:${x.rows}:${x.d}:${x.h}:${x.dh}:${x.eqRow}`,
      ['dt', 'q', 'dq', 'wq', 'wk', 'wv'].map((name) => ({ name, t: inp[name] })),
      [{ name: 'dr', shape: [x.rows, x.d] }],
      [],
      x.rows * x.d,
      `${header(x)}
  let row = i / D; let e = i % D;
  var acc = 0.0;
  for (var hd = 0u; hd < H; hd++) {
    let ds = in_dt(row * C + hd);
    for (var j = 0u; j < DH; j++) {
      let w = (hd * D + e) * DH + j;
      acc = acc + (ds * in_q(hd * DH + j)) * in_wk(w) + in_dt(row * C + H + hd * DH + j) * in_wv(w);
      if (row == EQ) { acc = acc + in_dq(hd * DH + j) * in_wq(w); }
    }
  }
  dr[i] = acc;`,
    );
  });
  registerOnce(DW, (b, inp, a) => {
    const x = a as unknown as Dims;
    const shape = [x.h, x.d, x.dh];
    return dispatch(
      b,
      `${DW}:${x.rows}:${x.d}:${x.h}:${x.dh}:${x.eqRow}`,
      ['dt', 'r', 'q', 'dq'].map((name) => ({ name, t: inp[name] })),
      [
        { name: 'dwq', shape },
        { name: 'dwk', shape },
        { name: 'dwv', shape },
      ],
      [],
      x.h * x.d * x.dh,
      `${header(x)}
  let hd = i / (D * DH); let e = (i / DH) % D; let j = i % DH;
  let qj = in_q(hd * DH + j);
  var accK = 0.0; var accV = 0.0;
  for (var row = 0u; row < ROWS; row++) {
    let rv = in_r(row * D + e);
    accK = accK + rv * (in_dt(row * C + hd) * qj);
    accV = accV + rv * in_dt(row * C + H + hd * DH + j);
  }
  dwq[i] = in_r(EQ * D + e) * in_dq(hd * DH + j);
  dwk[i] = accK;
  dwv[i] = accV;`,
    );
  });
}

const ADD_ROW = 'GrokscopeAddRow';
const ADD_ROW_GRAD = 'GrokscopeAddRowGrad';
const EMBED = 'GrokscopeEmbedAll';
const EMBED_GRAD = 'GrokscopeEmbedAllGrad';

// R[pos·V + t] = W_E[t] + W_pos[pos]; back: dW_E[t] = Σ_pos dR[pos·V + t], dW_pos[pos] = Σ_t dR[pos·V + t].
// y + R[row] broadcast over y's rows; back: dy itself, and for R zeros but row `row` = Σ rows of dy.
function registerAddRow(): void {
  registerOnce(ADD_ROW, (b, inp, a) => {
    const [n, d] = inp.y.shape;
    return dispatch(b, `${ADD_ROW}:${d}`, [{ name: 'y', t: inp.y }, { name: 'r', t: inp.r }], [{ name: 'out', shape: [n, d] }], [{ name: 'row', type: 'u32', value: a.row as number }], n * d,
      `  out[i] = in_y(i) + in_r(uniforms.row * ${d}u + i % ${d}u);`);
  });
  registerOnce(ADD_ROW_GRAD, (b, inp, a) => {
    const [n, d] = inp.dy.shape;
    const rows = a.rows as number;
    return dispatch(b, `${ADD_ROW_GRAD}:${n}:${d}`, [{ name: 'dy', t: inp.dy }], [{ name: 'dr', shape: [rows, d] }], [{ name: 'row', type: 'u32', value: a.row as number }], rows * d,
      `  var acc = 0.0;
  if (i / ${d}u == uniforms.row) {
    for (var k = 0u; k < ${n}u; k++) { acc = acc + in_dy(k * ${d}u + i % ${d}u); }
  }
  dr[i] = acc;`);
  });
}

/** y `[N, d]` + R[row] (broadcast), differentiable in both: the '=' row joins the residual stream. */
export function addRowFused(y: tf.Tensor2D, r: tf.Tensor2D, row: number): tf.Tensor2D {
  if (!registered) register();
  registered = true;
  const f = tf.customGrad((yt: tf.Tensor | tf.GradSaveFunc, rt: tf.Tensor | tf.GradSaveFunc) => ({
    value: out(tf.engine().runKernel(ADD_ROW, { y: yt as tf.Tensor, r: rt as tf.Tensor }, { row }) as tf.Tensor[])[0],
    gradFunc: (dy: tf.Tensor) => [dy, out(tf.engine().runKernel(ADD_ROW_GRAD, { dy }, { row, rows: r.shape[0] }) as tf.Tensor[])[0]],
  }));
  return f(y, r) as tf.Tensor2D;
}

function registerEmbed(): void {
  registerOnce(EMBED, (b, inp) => {
    const [v, d] = inp.we.shape;
    const p = inp.wpos.shape[0];
    return dispatch(b, `${EMBED}:${v}:${d}`, [{ name: 'we', t: inp.we }, { name: 'wpos', t: inp.wpos }], [{ name: 'r', shape: [p * v, d] }], [], p * v * d,
      `  let V = ${v}u; let D = ${d}u;
  let row = i / D; let e = i % D;
  r[i] = in_we((row % V) * D + e) + in_wpos((row / V) * D + e);`);
  });
  registerOnce(EMBED_GRAD, (b, inp, a) => {
    const [rows, d] = inp.dr.shape;
    const p = a.positions as number;
    const v = rows / p;
    return dispatch(b, `${EMBED_GRAD}:${v}:${d}:${p}`, [{ name: 'dr', t: inp.dr }], [{ name: 'dwe', shape: [v, d] }, { name: 'dwpos', shape: [p, d] }], [], v * d + p * d,
      `  let V = ${v}u; let D = ${d}u; let P = ${p}u;
  if (i < V * D) {
    let t = i / D; let e = i % D;
    var acc = 0.0;
    for (var pos = 0u; pos < P; pos++) { acc = acc + in_dr((pos * V + t) * D + e); }
    dwe[i] = acc;
  } else {
    let k = i - V * D;
    let pos = k / D; let e = k % D;
    var acc = 0.0;
    for (var t = 0u; t < V; t++) { acc = acc + in_dr((pos * V + t) * D + e); }
    dwpos[k] = acc;
  }`);
  });
}

/** Every token at every position, R `[positions·d_vocab, d]` with row pos·d_vocab + t = W_E[t] + W_pos[pos]. */
export function embedAllFused(we: tf.Tensor2D, wpos: tf.Tensor2D): tf.Tensor2D {
  if (!registered) register();
  registered = true;
  const f = tf.customGrad((e: tf.Tensor | tf.GradSaveFunc, p: tf.Tensor | tf.GradSaveFunc) => ({
    value: out(tf.engine().runKernel(EMBED, { we: e as tf.Tensor, wpos: p as tf.Tensor }, {}) as tf.Tensor[])[0],
    gradFunc: (dr: tf.Tensor) => out(tf.engine().runKernel(EMBED_GRAD, { dr }, { positions: wpos.shape[0] }) as tf.Tensor[]),
  }));
  return f(we, wpos) as tf.Tensor2D;
}

let registered = false;

const out = (res: tf.Tensor | tf.Tensor[]): tf.Tensor[] => (Array.isArray(res) ? res : [res]);

/** T `[rows, h + h·dh]` from R `[rows, d]` and W_Q, W_K, W_V `[h, d, dh]`; differentiable in all four. */
export function tablesFused(r: tf.Tensor2D, wq: tf.Tensor, wk: tf.Tensor, wv: tf.Tensor, eqRow: number): tf.Tensor2D {
  if (!registered) register();
  registered = true;
  const [h, d, dh] = wq.shape;
  const dimsAttr = { rows: r.shape[0], d, h, dh, eqRow };
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [R, WQ, WK, WV] = args as tf.Tensor[];
    const save = args[4] as tf.GradSaveFunc;
    const [t, q] = out(tf.engine().runKernel(FWD, { r: R, wq: WQ, wk: WK, wv: WV }, dimsAttr as unknown as tf.NamedAttrMap) as tf.Tensor[]);
    save([R, WQ, WK, WV, q]);
    return {
      value: t,
      gradFunc: (dt: tf.Tensor, saved: tf.Tensor[]) => {
        const [sR, sQ, sK, sV, sq] = saved;
        const attrs = dimsAttr as unknown as tf.NamedAttrMap;
        const [dq] = out(tf.engine().runKernel(DQ, { dt, r: sR, wk: sK }, attrs) as tf.Tensor[]);
        const [dr] = out(tf.engine().runKernel(DR, { dt, q: sq, dq, wq: sQ, wk: sK, wv: sV }, attrs) as tf.Tensor[]);
        const [dwq, dwk, dwv] = out(tf.engine().runKernel(DW, { dt, r: sR, q: sq, dq }, attrs) as tf.Tensor[]);
        return [dr, dwq, dwk, dwv];
      },
    };
  });
  return f(r, wq, wk, wv) as tf.Tensor2D;
}
