/**
 * An independent, deliberately naive forward pass in float64 JavaScript loops, written from
 * ANALYSIS.md §2 (and the authors' transformers.py), to check the tfjs implementations against.
 */
import { dims, type TrainConfig } from '../../src/config/schema.ts';
import type { Weights } from '../../src/model/transformer/params.ts';

function erf(x: number): number {
  // Abramowitz–Stegun 7.1.26 is too coarse for 1e-5 checks; use a series / continued fraction.
  const t = Math.abs(x);
  if (t < 3) {
    let sum = 0;
    let term = t;
    for (let n = 0; n < 200; n++) {
      sum += term / (2 * n + 1);
      term *= (-t * t) / (n + 1);
      if (Math.abs(term) < 1e-17) break;
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  return Math.sign(x) * (1 - Math.exp(-t * t) / (t * Math.sqrt(Math.PI)) * (1 - 1 / (2 * t * t)));
}

/** Last-position logits of the pair (a, b), as float64. */
export function referenceLogits(c: TrainConfig, w: Weights, a: number, b: number): number[] {
  const { dHead, dVocabOut } = dims(c);
  const d = c.dModel;
  const H = c.nHeads;
  const tokens = [a, b, c.p];
  // x[pos][i]
  let x = tokens.map((t, pos) => Array.from({ length: d }, (_, i) => w['embed.W_E'][t * d + i] + w['pos_embed.W_pos'][pos * d + i]));
  for (let l = 0; l < c.nLayers; l++) {
    const W = (name: string) => w[`blocks.${l}.${name}`];
    const proj = (M: Float32Array, h: number, pos: number) =>
      Array.from({ length: dHead }, (_, j) => {
        let s = 0;
        for (let i = 0; i < d; i++) s += x[pos][i] * M[(h * d + i) * dHead + j];
        return s;
      });
    const attnOut = x.map(() => new Array<number>(d).fill(0));
    for (let h = 0; h < H; h++) {
      const q = [0, 1, 2].map((p) => proj(W('attn.W_Q'), h, p));
      const k = [0, 1, 2].map((p) => proj(W('attn.W_K'), h, p));
      const v = [0, 1, 2].map((p) => proj(W('attn.W_V'), h, p));
      for (let qi = 0; qi < 3; qi++) {
        // causal: keys 0..qi only
        const scores = [];
        for (let ki = 0; ki <= qi; ki++) scores.push(q[qi].reduce((s, qq, j) => s + qq * k[ki][j], 0) / Math.sqrt(dHead));
        const m = Math.max(...scores);
        const e = scores.map((s) => Math.exp(s - m));
        const z = e.reduce((s, v2) => s + v2, 0);
        // Attention rate α (Zhong et al. 2023's attn_coeff): α·softmax + (1 − α) on each allowed key.
        const alpha = c.attnRate;
        const pattern = e.map((v2) => alpha * (v2 / z) + (1 - alpha));
        const zv = new Array<number>(dHead).fill(0);
        for (let ki = 0; ki <= qi; ki++) for (let j = 0; j < dHead; j++) zv[j] += pattern[ki] * v[ki][j];
        for (let i = 0; i < d; i++) {
          let s = 0;
          for (let j = 0; j < dHead; j++) s += zv[j] * W('attn.W_O')[(h * dHead + j) * d + i];
          attnOut[qi][i] += s;
        }
      }
    }
    x = x.map((row, p) => row.map((v2, i) => v2 + attnOut[p][i]));
    x = x.map((row) => {
      const post = Array.from({ length: c.dMlp }, (_, n) => {
        let s = W('mlp.b_in')[n];
        for (let i = 0; i < d; i++) s += row[i] * W('mlp.W_in')[i * c.dMlp + n];
        return c.act === 'relu' ? Math.max(0, s) : 0.5 * s * (1 + erf(s / Math.SQRT2));
      });
      return row.map((v2, i) => {
        let s = W('mlp.b_out')[i];
        for (let n = 0; n < c.dMlp; n++) s += post[n] * W('mlp.W_out')[n * d + i];
        return v2 + s;
      });
    });
  }
  return Array.from({ length: dVocabOut }, (_, o) => {
    let s = 0;
    for (let i = 0; i < d; i++) s += x[2][i] * w['unembed.W_U'][i * dVocabOut + o];
    return s;
  });
}
