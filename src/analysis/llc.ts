/**
 * The local learning coefficient (LLC) of singular learning theory, with devinterp's SGLD
 * estimator (Lau et al. 2023; timaeus-research/devinterp, optim/sgld.py and slt/llc.py): from the
 * weights w*, each chain runs
 *   w ← w − (ε/2)·(nβ·∇L_B(w) + γ·(w − w*)) + N(0, ε)
 * on minibatches B of the training set, and
 *   LLC = nβ · (mean over the chain's draws of L_B(w) − L(w*)),
 * averaged over chains (their spread is the stated error). L is the loss the run trains on; the
 * draws' losses are the minibatch losses, as devinterp records them; L(w*) is the full training loss.
 * A regular model with d parameters has LLC d/2 (test/analysis/llc.test.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
// The estimator differentiates any model's loss: tfjs-core alone registers no gradients.
import '#tfjs-gradients';
import { Rng, streamSeed } from '../random/rng.ts';
import { resolveLlcSettings, type LlcSettings } from '../config/llc.ts';

export { LLC_DEFAULTS, defaultNbeta, type LlcSettings } from '../config/llc.ts';

export interface LlcResult {
  llc: number;
  /** Standard deviation of the per-chain estimates; the stated error of the mean is llcStd/√chains. */
  llcStd: number;
  llcPerChain: number[];
  /** L(w*) over the whole training set. */
  initLoss: number;
  /** Each chain's draws' minibatch losses, to see whether a chain settled. */
  traces: number[][];
  /** Per chain: whether its trace settled (chainSettled); `settled`: whether the estimate did (estimateSettled). */
  settledPerChain: boolean[];
  settled: boolean;
  settings: LlcSettings;
  seconds: number;
}

/** What the estimator needs of a model: its parameters, and its mean loss on training examples. */
export interface LlcModel {
  params: tf.Variable[];
  /** Number of training examples. */
  n: number;
  /**
   * A minibatch of training examples (indices into 0..n−1; null: all of them): a closure giving
   * its mean loss on the current parameters (called inside a gradient tape), and what frees it.
   */
  batch(indices: Int32Array | null): { loss: () => tf.Scalar; dispose: () => void };
}

/** `batch` indices of 0..n−1 without replacement (a partial Fisher–Yates shuffle). */
function draw(rng: Rng, n: number, batch: number): Int32Array {
  const all = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < batch; i++) {
    const j = i + rng.int(n - i);
    [all[i], all[j]] = [all[j], all[i]];
  }
  return all.slice(0, batch);
}

/**
 * A trace settled when its loss above L(w*) has stopped drifting: its mean over the third quarter
 * of the draws is within SETTLE_TOLERANCE of its mean over the last quarter (devinterp's guidance:
 * choose ε and γ so that the loss trace plateaus).
 */
export const SETTLE_TOLERANCE = 0.1;

/** A trace's mean loss above L(w*) over its third and its last quarter. */
function quarters(trace: readonly number[], initLoss: number): [number, number] {
  const n = trace.length;
  const mean = (from: number, to: number) => trace.slice(from, to).reduce((a, b) => a + b - initLoss, 0) / (to - from);
  return [mean(Math.floor(n / 2), Math.floor((3 * n) / 4)), mean(Math.floor((3 * n) / 4), n)];
}

export function chainSettled(trace: readonly number[], initLoss: number): boolean {
  if (trace.length < 8) return false;
  const [third, last] = quarters(trace, initLoss);
  return Number.isFinite(third) && Number.isFinite(last) && Math.abs(third - last) <= SETTLE_TOLERANCE * Math.abs(last);
}

/**
 * The estimate settled when the chains' mean drift from the third to the last quarter is within
 * SETTLE_TOLERANCE of their last quarter's mean, or within twice its standard error over the
 * chains: a drift the chains do not agree on is their minibatch noise, not a climb.
 */
export function estimateSettled(traces: readonly (readonly number[])[], initLoss: number): boolean {
  if (traces.length === 0 || traces[0].length < 8) return false;
  const q = traces.map((t) => quarters(t, initLoss));
  const drift = q.map(([third, last]) => last - third);
  const c = drift.length;
  const meanDrift = drift.reduce((a, b) => a + b, 0) / c;
  const last = q.reduce((a, [, l]) => a + l, 0) / c;
  const se = c > 1 ? Math.sqrt(drift.reduce((a, x) => a + (x - meanDrift) ** 2, 0) / (c - 1) / c) : 0;
  return Number.isFinite(meanDrift) && Number.isFinite(last) && Math.abs(meanDrift) <= Math.max(SETTLE_TOLERANCE * Math.abs(last), 2 * se);
}

/**
 * The chains of one estimate, run a few draws at a time (`step`), so the page's scheduler can
 * interleave them with training (worker/training/llc-scheduler.ts); `estimateLLC` runs them whole.
 * The model's parameters are moved by the chains and put back to w* by `finish` or `dispose`.
 */
export class LlcChains {
  readonly settings: LlcSettings;
  readonly total: number;
  /** Draws taken so far, over all chains in order. */
  done = 0;
  initLoss = NaN;
  private readonly wStar: tf.Tensor[];
  private readonly rng: Rng;
  private readonly noiseSeed: number;
  private readonly full: ReturnType<LlcModel['batch']>;
  /** Draws' losses not yet read, and those read (all chains, in order). */
  private pending: tf.Scalar[] = [];
  private readonly losses: number[] = [];
  private readonly started = performance.now();
  private disposed = false;

  constructor(
    private readonly model: LlcModel,
    given: Partial<LlcSettings> = {},
  ) {
    const s = resolveLlcSettings(given, model.n);
    for (const [k, v] of Object.entries(s)) if (!Number.isFinite(v) || v < 0) throw new Error(`LLC: ${k} must be a finite number ≥ 0, got ${v}`);
    if (s.eps <= 0 || s.nbeta <= 0 || s.chains < 1 || s.draws < 1 || s.batch < 1) throw new Error('LLC: ε, nβ, chains, draws and batch must be positive');
    this.settings = s;
    this.total = s.chains * s.draws;
    this.wStar = model.params.map((p) => tf.keep(tf.clone(p)));
    this.rng = new Rng(streamSeed(s.seed, 'llc'));
    this.noiseSeed = streamSeed(s.seed, 'llc-noise');
    this.full = model.batch(null);
  }

  /** L(w*) over the whole training set; read before the first draw. */
  async start(): Promise<void> {
    const t = tf.tidy(this.full.loss);
    this.initLoss = (await t.data())[0];
    t.dispose();
  }

  /** Queues up to `n` draws (a chain starts at w*); returns how many. */
  step(n: number): number {
    const s = this.settings;
    const { params } = this.model;
    const todo = Math.max(0, Math.min(n, this.total - this.done));
    for (let k = 0; k < todo; k++) {
      const chain = Math.floor(this.done / s.draws);
      const d = this.done % s.draws;
      if (d === 0) tf.tidy(() => params.forEach((p, i) => p.assign(this.wStar[i])));
      const b = s.batch >= this.model.n ? this.full : this.model.batch(draw(this.rng, this.model.n, s.batch));
      const { value, grads } = tf.variableGrads(b.loss, params);
      if (b !== this.full) b.dispose();
      tf.tidy(() =>
        params.forEach((p, i) => {
          const g = grads[p.name];
          const drift = tf.add(tf.mul(g, s.nbeta), tf.mul(tf.sub(p, this.wStar[i]), s.gamma));
          const seed = (this.noiseSeed + (chain * s.draws + d) * params.length + i) >>> 0;
          const noise = tf.mul(tf.randomNormal(p.shape, 0, 1, 'float32', seed), Math.sqrt(s.eps));
          p.assign(tf.add(tf.sub(p, tf.mul(drift, s.eps / 2)), noise));
        }),
      );
      tf.dispose(Object.values(grads));
      this.pending.push(value);
      this.done += 1;
    }
    return todo;
  }

  /** Reads the queued draws' losses (waits for the device). */
  async read(): Promise<void> {
    const pending = this.pending;
    this.pending = [];
    if (pending.length === 0) return;
    const stacked = tf.stack(pending);
    try {
      this.losses.push(...((await stacked.data()) as Float32Array));
    } finally {
      tf.dispose([stacked, ...pending]);
    }
  }

  /** The traces read so far, one array per chain begun. */
  traces(): number[][] {
    const { draws } = this.settings;
    return Array.from({ length: Math.ceil(this.losses.length / draws) }, (_, c) => this.losses.slice(c * draws, (c + 1) * draws));
  }

  /** After the last draw: the estimate (the parameters are back at w*). */
  async finish(): Promise<LlcResult> {
    if (this.done < this.total) throw new Error(`LLC: ${this.total - this.done} draws still to take`);
    await this.read();
    this.dispose();
    const s = this.settings;
    const { initLoss } = this;
    const traces = this.traces();
    const perChain = traces.map((t) => s.nbeta * (t.reduce((a, b) => a + b, 0) / t.length - initLoss));
    const llc = perChain.reduce((a, b) => a + b, 0) / perChain.length;
    const llcStd = perChain.length > 1 ? Math.sqrt(perChain.reduce((a, x) => a + (x - llc) ** 2, 0) / (perChain.length - 1)) : NaN;
    const settledPerChain = traces.map((t) => chainSettled(t, initLoss));
    return { llc, llcStd, llcPerChain: perChain, initLoss, traces, settledPerChain, settled: estimateSettled(traces, initLoss), settings: s, seconds: (performance.now() - this.started) / 1000 };
  }

  /** Puts w* back and frees everything the chains hold (an estimate abandoned midway, too). */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    tf.tidy(() => this.model.params.forEach((p, i) => p.assign(this.wStar[i])));
    tf.dispose([...this.wStar, ...this.pending]);
    this.pending = [];
    this.full.dispose();
  }
}

/** Runs the chains from the model's current weights and puts those weights back after. */
export async function estimateLLC(model: LlcModel, given: Partial<LlcSettings> = {}): Promise<LlcResult> {
  const chains = new LlcChains(model, given);
  try {
    await chains.start();
    // One read per chain, as before: the device works while the losses of a chain are queued.
    while (chains.done < chains.total) {
      chains.step(chains.settings.draws);
      await chains.read();
    }
    return await chains.finish();
  } finally {
    chains.dispose();
  }
}
