/**
 * Hand-built transformers whose measures are known in closed form (for the analysis tests).
 *
 * Both use two heads that attend (almost) only to a and only to b — W_Q/W_K read positional
 * indicator dimensions, giving '=' a score of `SCORE` on its head's position and 0 elsewhere — so
 * the residual stream at '=' holds features of a and of b in separate blocks.
 */
import { DEFAULT_CONFIG, type TrainConfig } from '../../src/config/schema.ts';
import { type Weights, paramSpecs } from '../../src/model/transformer/params.ts';

/** Attention score (after the 1/√d_head scaling) on the attended position. */
const SCORE = 60;

function zeros(c: TrainConfig): Weights {
  return Object.fromEntries(paramSpecs(c).map((s) => [s.name, new Float32Array(s.shape.reduce((a, b) => a * b, 1))]));
}

/** Sets up W_Q/W_K so that head h attends from '=' to position h, and W_pos indicator dims. */
function attendByPosition(c: TrainConfig, w: Weights, posDim: number): void {
  const dHead = c.dModel / c.nHeads;
  const s = Math.sqrt(SCORE * Math.sqrt(dHead));
  for (let pos = 0; pos < 3; pos++) w['pos_embed.W_pos'][pos * c.dModel + posDim + pos] = 1;
  for (let h = 0; h < 2; h++) {
    // q_h[0] = s · [pos = 2]; k_h[0] = s · [pos = h]  →  score s²/√d_head = SCORE on position h.
    w['blocks.0.attn.W_Q'][(h * c.dModel + posDim + 2) * dHead + 0] = s;
    w['blocks.0.attn.W_K'][(h * c.dModel + posDim + h) * dHead + 0] = s;
  }
}

/**
 * A lookup-table network whose logits are exactly `scale · Σ_{k∈K} cos(w_k(a+b−c))` for c < P:
 * one MLP neuron per pair (a0, b0) fires (value 1) only on that pair and writes the one-hot of
 * (a0 + b0) mod P into an output block, which W_U maps to the cosine sum. Output vocabulary P.
 * Its W_L = W_out W_U has only frequencies in K; its restricted loss equals its loss and its
 * excluded logits are 0 (loss ln P).
 */
export function cosineSumNetwork(p: number, K: number[], scale: number): { config: TrainConfig; weights: Weights } {
  // dims: [0, P+1) token one-hot; 3 position dims; block A (P), block B (P), block C (P)
  const tokDim = 0;
  const posDim = p + 1;
  const aDim = posDim + 3;
  const bDim = aDim + p;
  const cDim = bDim + p;
  let dModel = cDim + p;
  if (dModel % 2) dModel += 1;
  const config: TrainConfig = { ...DEFAULT_CONFIG, p, dModel, nHeads: 2, dMlp: p * p, vocabOut: 'p', frac: 0.5 };
  const dHead = dModel / 2;
  const w = zeros(config);
  for (let t = 0; t <= p; t++) w['embed.W_E'][t * dModel + tokDim + t] = 1;
  attendByPosition(config, w, posDim);
  for (let h = 0; h < 2; h++) {
    for (let t = 0; t < p; t++) {
      // W_V copies token t's one-hot to d_head dim t; W_O writes it to block A (head 0) or B (head 1).
      w['blocks.0.attn.W_V'][(h * dModel + tokDim + t) * dHead + t] = 1;
      w['blocks.0.attn.W_O'][(h * dHead + t) * dModel + (h === 0 ? aDim : bDim) + t] = 1;
    }
  }
  const dMlp = p * p;
  for (let a0 = 0; a0 < p; a0++) {
    for (let b0 = 0; b0 < p; b0++) {
      const n = a0 * p + b0;
      w['blocks.0.mlp.W_in'][(aDim + a0) * dMlp + n] = 1;
      w['blocks.0.mlp.W_in'][(bDim + b0) * dMlp + n] = 1;
      w['blocks.0.mlp.b_in'][n] = -1;
      w['blocks.0.mlp.W_out'][n * dModel + cDim + ((a0 + b0) % p)] = 1;
    }
  }
  for (let j = 0; j < p; j++) {
    for (let c = 0; c < p; c++) {
      let v = 0;
      for (const k of K) v += Math.cos((2 * Math.PI * k * (j - c)) / p);
      w['unembed.W_U'][(cDim + j) * p + c] = scale * v;
    }
  }
  return { config, weights: w };
}

/**
 * A network whose MLP neuron n ∈ [0, |freqs|) computes exactly cos(w_k a) + cos(w_k b) + 2 ≥ 0
 * (the ReLU never cuts) for k = freqs[n]: after centering over pairs each lies in the block
 * {0, 2k−1}² of the 2-D Fourier basis, so its frequency is k with FVE 1.
 */
export function singleFrequencyNeurons(p: number, freqs: number[]): { config: TrainConfig; weights: Weights } {
  const posDim = 0;
  const featDim = 3; // per neuron one dim: cos(w_k t)
  const aDim = featDim + freqs.length;
  const bDim = aDim + freqs.length;
  let dModel = bDim + freqs.length;
  if (dModel % 2) dModel += 1;
  const config: TrainConfig = { ...DEFAULT_CONFIG, p, dModel, nHeads: 2, dMlp: Math.max(freqs.length, 2), vocabOut: 'p', frac: 0.5 };
  const dHead = dModel / 2;
  const w = zeros(config);
  freqs.forEach((k, i) => {
    for (let t = 0; t < p; t++) w['embed.W_E'][t * dModel + featDim + i] = Math.cos((2 * Math.PI * k * t) / p);
  });
  attendByPosition(config, w, posDim);
  for (let h = 0; h < 2; h++) {
    freqs.forEach((_, i) => {
      w['blocks.0.attn.W_V'][(h * dModel + featDim + i) * dHead + i] = 1;
      w['blocks.0.attn.W_O'][(h * dHead + i) * dModel + (h === 0 ? aDim : bDim) + i] = 1;
    });
  }
  freqs.forEach((_, n) => {
    w['blocks.0.mlp.W_in'][(aDim + n) * config.dMlp + n] = 1;
    w['blocks.0.mlp.W_in'][(bDim + n) * config.dMlp + n] = 1;
    w['blocks.0.mlp.b_in'][n] = 2;
  });
  return { config, weights: w };
}
