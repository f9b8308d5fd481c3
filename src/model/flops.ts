/**
 * Floating-point operations of one training epoch, counted from the shapes (for the benchmark's
 * achieved GFLOP/s and the speed panel). Counts the matrix products, which are nearly all of the
 * work: 2·m·k·n per product [m, k]·[k, n]. Elementwise ops, softmax and the loss are left out (a
 * few percent), so the achieved figure is slightly conservative.
 *
 * Training = forward + backward; `mm` differentiates every product with respect to both operands
 * (dX = dY·Wᵀ and dW = Xᵀ·dY), so each forward product costs 3× in a step. Embedding lookups
 * are one-hot products in training, forward and backward (`gatherRows`), and gathers in
 * evaluation. test/model/flops.test.ts checks
 * these counts against the matMul kernels tfjs actually runs.
 */
import { dims, type TrainConfig } from '../config/schema.ts';
import { defaultForwardPath, type ForwardPath } from './transformer/forward-path.ts';

/** A product [m, k]·[k, n], `batch` times. */
interface Product {
  batch?: number;
  m: number;
  k: number;
  n: number;
}

const flopsOf = (p: Product) => 2 * (p.batch ?? 1) * p.m * p.k * p.n;
const sum = (ps: Product[]) => ps.reduce((s, p) => s + flopsOf(p), 0);

/** The forward's products for `n` input pairs, and the one-hot products of its backward lookups. */
function products(c: TrainConfig, path: ForwardPath, n: number): { forward: Product[]; lookups: Product[] } {
  const { dVocab, dVocabOut, dHead, nCtx } = dims(c);
  const d = c.dModel;
  const hd = c.nHeads * dHead;
  if (path === 'fast') {
    return {
      forward: [
        { m: 1, k: d, n: hd }, // the query of '='
        { m: dVocab, k: d, n: 2 * hd }, // key/value table, position 0
        { m: dVocab, k: d, n: 2 * hd }, // key/value table, position 1
        { m: 1, k: d, n: 2 * hd }, // key/value of '='
        { m: n, k: hd, n: d }, // W_O
        { m: n, k: d, n: c.dMlp }, // W_in
        { m: n, k: c.dMlp, n: d }, // W_out
        { m: n, k: d, n: dVocabOut }, // W_U
      ],
      // The two table lookups, each [N, V]·[V, heads + h·d_head] (and [V, N]·[N, …] back).
      lookups: [
        { m: n, k: dVocab, n: c.nHeads + hd },
        { m: n, k: dVocab, n: c.nHeads + hd },
      ],
    };
  }
  const rows = n * nCtx;
  const forward: Product[] = [];
  for (let l = 0; l < c.nLayers; l++) {
    forward.push(
      { m: rows, k: d, n: 3 * hd }, // q, k, v
      { batch: n * c.nHeads, m: nCtx, k: dHead, n: nCtx }, // scores
      { batch: n * c.nHeads, m: nCtx, k: nCtx, n: dHead }, // pattern · v
      { m: rows, k: hd, n: d }, // W_O
      { m: rows, k: d, n: c.dMlp }, // W_in
      { m: rows, k: c.dMlp, n: d }, // W_out
    );
  }
  forward.push({ m: n, k: d, n: dVocabOut }); // W_U at the last position
  return { forward, lookups: [{ m: rows, k: dVocab, n: d }] };
}

export interface EpochFlops {
  /** One forward over the training pairs (its dense products; the lookups aside). */
  forward: number;
  /** One full-batch update: forward and backward (every product 3×, each lookup 2×). */
  train: number;
  /** One forward over all P² pairs (a checkpoint's evaluation). */
  evaluateAll: number;
}

export function epochFlops(c: TrainConfig, path: ForwardPath = defaultForwardPath(c)): EpochFlops {
  const { nTrain, nPairs } = dims(c);
  const train = products(c, path, nTrain);
  const forward = sum(train.forward);
  return {
    forward,
    train: 3 * forward + 2 * sum(train.lookups),
    evaluateAll: sum(products(c, path, nPairs).forward),
  };
}
