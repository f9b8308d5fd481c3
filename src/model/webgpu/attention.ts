/**
 * The attention of '=' on (a, b, '=') in the 1-block fast forward (fast.ts), as fused WebGPU
 * kernels: one dispatch forward, two backward, where the general ops take ~40.
 *
 * Input: per-token tables `T` `[3, d_vocab, h + h·dh]` for positions 0, 1, 2 — per token, the
 * attention score of '=' on it per head (unscaled) then its value vectors — and the pairs' tokens
 * a, b. Pair n attends to T[0, a_n], T[1, b_n] and T[2, '='], with scores / √dh, softmax over the
 * three keys, and outputs z `[N, h·dh]` (heads side by side). The backward writes each pair's
 * gradient for its three table rows, `[3, N, C]`, and scatters them into `[3, d_vocab, C]` with
 * one batched product by a constant `[3, d_vocab, N]` of one-hots (row '=' of the third is all
 * ones): tfjs's matmul, the best kernel for it.
 *
 * Batched training (issue #13) runs NM models of one shape at once: tables `[NM, 3, d_vocab, C]`,
 * tokens `[NM, N]` (each model its own pairs), outputs with the model axis first; a single run is
 * NM = 1. A thread works on one model's pair and head, as in a single run.
 */
import * as tf from '@tensorflow/tfjs-core';
import { dispatch, registerOnce } from './dispatch.ts';

const FWD = 'GrokscopeAttnMix';
const BWD = 'GrokscopeAttnMixGrad';

function register(): void {
  registerOnce(FWD, (b, inp, a) => {
    const { h, dh, n, models } = a as { h: number; dh: number; n: number; models: number };
    return dispatch(
      b,
      `${FWD}:${h}:${dh}`,
      [
        { name: 't', t: inp.t },
        { name: 'ta', t: inp.a },
        { name: 'tb', t: inp.b },
      ],
      [
        { name: 'z', shape: [models, n, h * dh] },
        { name: 'pattern', shape: [models, n, h, 3] },
      ],
      [
        { name: 'vocab', type: 'u32', value: inp.t.shape[2] },
        { name: 'eq', type: 'u32', value: a.eq as number },
        { name: 'scale', type: 'f32', value: Math.sqrt(dh) },
        { name: 'n', type: 'u32', value: n },
      ],
      models * n * h,
      // Thread (n, head): the three scores, their softmax, and the head's dh outputs.
      `${tableRows(h, dh)}  let sa = in_t(ra + hd) / uniforms.scale;
  let sb = in_t(rb + hd) / uniforms.scale;
  let se = in_t(re + hd) / uniforms.scale;
  let mx = max(max(sa, sb), se);
  let ea = exp(sa - mx); let eb = exp(sb - mx); let ee = exp(se - mx);
  let sum = ea + eb + ee;
  let pa = ea / sum; let pb = eb / sum; let pe = ee / sum;
  pattern[i * 3u] = pa; pattern[i * 3u + 1u] = pb; pattern[i * 3u + 2u] = pe;
  for (var j = 0u; j < DH; j++) {
    let col = H + hd * DH + j;
    z[pair * H * DH + hd * DH + j] = in_t(ra + col) * pa + in_t(rb + col) * pb + in_t(re + col) * pe;
  }`,
    );
  });
  registerOnce(BWD, (b, inp, a) => {
    const { h, dh, n, models } = a as { h: number; dh: number; n: number; models: number };
    const c = h + h * dh;
    return dispatch(
      b,
      `${BWD}:${h}:${dh}`,
      [
        { name: 'dz', t: inp.dz },
        { name: 'pattern', t: inp.pattern },
        { name: 't', t: inp.t },
        { name: 'ta', t: inp.a },
        { name: 'tb', t: inp.b },
      ],
      [{ name: 'drows', shape: [models * 3, n, c] }],
      [
        { name: 'vocab', type: 'u32', value: inp.t.shape[2] },
        { name: 'eq', type: 'u32', value: a.eq as number },
        { name: 'scale', type: 'f32', value: Math.sqrt(dh) },
        { name: 'n', type: 'u32', value: n },
      ],
      models * n * h,
      // Thread (n, head): dv_k = p_k dz; dp_k = dz · v_k; ds_k = p_k (dp_k − Σ p dp) / √dh.
      `${tableRows(h, dh)}  let pa = in_pattern(i * 3u); let pb = in_pattern(i * 3u + 1u); let pe = in_pattern(i * 3u + 2u);
  let p = pair % uniforms.n;
  let oa = (3u * model * uniforms.n + p) * C; let ob = ((3u * model + 1u) * uniforms.n + p) * C; let oe = ((3u * model + 2u) * uniforms.n + p) * C;
  var dpa = 0.0; var dpb = 0.0; var dpe = 0.0;
  for (var j = 0u; j < DH; j++) {
    let col = H + hd * DH + j;
    let g = in_dz(pair * H * DH + hd * DH + j);
    dpa = dpa + g * in_t(ra + col); dpb = dpb + g * in_t(rb + col); dpe = dpe + g * in_t(re + col);
    drows[oa + col] = g * pa; drows[ob + col] = g * pb; drows[oe + col] = g * pe;
  }
  let dot = pa * dpa + pb * dpb + pe * dpe;
  drows[oa + hd] = pa * (dpa - dot) / uniforms.scale;
  drows[ob + hd] = pb * (dpb - dot) / uniforms.scale;
  drows[oe + hd] = pe * (dpe - dot) / uniforms.scale;`,
    );
  });
}

let registered = false;

/**
 * The WGSL both attention kernels start with: thread i is (pair, head), pairs of all models in
 * order; the rows of the model's per-token table (H scores and H·DH values a token) for the
 * pair's a, b and '='.
 */
function tableRows(h: number, dh: number): string {
  return `  let H = ${h}u; let DH = ${dh}u; let C = H + H * DH;
  let pair = i / H; let hd = i % H;
  let model = pair / uniforms.n;
  let tb = 3u * model * uniforms.vocab;
  let ra = (tb + u32(in_ta(pair))) * C;
  let rb = (tb + uniforms.vocab + u32(in_tb(pair))) * C;
  let re = (tb + 2u * uniforms.vocab + uniforms.eq) * C;
`;
}

/**
 * The constant scatter matrix of one model's pairs `[3, d_vocab, N]`: one-hots of a, of b, and row
 * '=' all ones (`aOneHotT`, `bOneHotT`: `[d_vocab, N]`). Batched: the models' stacked, `[NM·3, d_vocab, N]`.
 */
export function scatterMatrix(aOneHotT: tf.Tensor2D, bOneHotT: tf.Tensor2D, eqToken: number): tf.Tensor3D {
  return tf.tidy(() => {
    const [v, n] = aOneHotT.shape;
    const eqRow = tf.concat([tf.zeros([eqToken, n]), tf.ones([1, n]), tf.zeros([v - eqToken - 1, n])], 0);
    return tf.stack([aOneHotT, bOneHotT, eqRow]) as tf.Tensor3D;
  });
}

/** The forward kernel: z `[NM, N, h·dh]` and the pattern `[NM, N, h, 3]` (kept for the backward), from tables `[NM, 3, V, C]` and tokens `[NM, N]`. */
export function attentionMixForward(t: tf.Tensor4D, a: tf.Tensor2D, b: tf.Tensor2D, h: number, dh: number, eqToken: number): [tf.Tensor3D, tf.Tensor] {
  if (!registered) register();
  registered = true;
  const [models, n] = a.shape;
  return tf.engine().runKernel(FWD, { t, a, b }, { h, dh, n, models, eq: eqToken }) as unknown as [tf.Tensor3D, tf.Tensor];
}

/** The gradient for the tables, `[NM·3, d_vocab, h + h·dh]`: the backward kernel, then the scatter product (`scatter`: `[NM·3, V, N]`). */
export function attentionMixBackward(dz: tf.Tensor3D, pattern: tf.Tensor, t: tf.Tensor4D, a: tf.Tensor2D, b: tf.Tensor2D, scatter: tf.Tensor3D, h: number, dh: number, eqToken: number): tf.Tensor3D {
  if (!registered) register();
  registered = true;
  const [models, n] = a.shape;
  const res = tf.engine().runKernel(BWD, { dz, pattern, t, a, b }, { h, dh, n, models, eq: eqToken }) as unknown as tf.Tensor | tf.Tensor[];
  const drows = Array.isArray(res) ? res[0] : res;
  return tf.matMul(scatter, drows) as tf.Tensor3D;
}
