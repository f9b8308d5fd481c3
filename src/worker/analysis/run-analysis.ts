/**
 * The analysis side of a training run, in the worker: which key frequencies the curves use, the
 * weight snapshots, and the tensors to read for a checkpoint, a heavy pass, a re-measurement of a
 * past snapshot with a new K (§5.6), or the inspection of a past epoch. Each `prepare…` queues GPU
 * work and returns the one tensor to read plus how to decode it, so the training loop can read it
 * asynchronously like everything else.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Analyzer, type LastPositionActivations } from '../../analysis/analyzer.ts';
import { sameKeyFreqs } from '../../config/keyfreqs.ts';
import type { Params } from '../../model/transformer/forward.ts';
import { paramSpecs, unflattenWeights } from '../../model/transformer/params.ts';
import { toEvalMetrics, type Trainer } from '../../model/trainer.ts';
import { EVAL_LENGTH } from '../../model/evaluate.ts';
import { clockPizzaMeasures } from '../../analysis/pizza.ts';
import type { Checkpoint } from '../../run/history-columns.ts';
import type { HeavyResult, KeyFreqsState, RecomputedRow } from '../../run/protocol.ts';
import { SNAPSHOT_BUDGET_BYTES, SnapshotStore } from './snapshots.ts';

/** The rule's K must repeat for this many checkpoints in a row before the curves switch to it. */
export const KEY_FREQS_STABLE_CHECKPOINTS = 3;
/** Neurons whose activation maps the heavy pass returns (Fig. 12). */
export const FEATURED_NEURONS = 6;

/** GPU work queued, and how to decode its single read. */
export interface Prepared<T> {
  tensor: tf.Tensor1D;
  finish(values: Float32Array): T;
}

export interface CheckpointOutcome {
  checkpoint: Checkpoint;
  heavy: HeavyResult | null;
  /** The rule's K changed the curves' K: past snapshots will be re-measured. */
  keyFreqsChanged: boolean;
  snapshotTaken: boolean;
}

/** What the analysis reads of a model: a `Trainer`, or one model of a batch (model/batched/model-view.ts). */
export type AnalyzedModel = Pick<Trainer, 'config' | 'dataset' | 'epoch' | 'paramTensors' | 'logitsAll' | 'evaluate' | 'flatWeights' | 'flatWeightsLength'>;

export interface RunAnalysisOptions {
  pinnedKeyFreqs?: number[] | null;
  snapshotBudgetBytes?: number;
}

export class RunAnalysis {
  readonly analyzer: Analyzer;
  readonly snapshots: SnapshotStore;
  private state: KeyFreqsState;
  private candidate: number[] = [];
  private candidateCount = 0;
  /** Snapshot epochs still to re-measure with the current K. */
  private recomputeQueue: number[] = [];
  /** The K version of the loaded file (its history rows were measured with it). */
  private restoredVersion = -1;
  private featured: Int32Array;

  constructor(
    private readonly trainer: AnalyzedModel,
    opts: RunAnalysisOptions = {},
  ) {
    this.analyzer = new Analyzer(trainer.config, trainer.dataset);
    const numParams = paramSpecs(trainer.config).reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1), 0);
    this.snapshots = new SnapshotStore(4 * numParams, opts.snapshotBudgetBytes ?? SNAPSHOT_BUDGET_BYTES);
    const pinned = opts.pinnedKeyFreqs ?? null;
    this.state = { version: 0, active: pinned ? [...pinned] : [], live: [], pinned: pinned !== null };
    this.featured = Int32Array.from({ length: Math.min(FEATURED_NEURONS, trainer.config.dMlp) }, (_, i) => i);
  }

  get keyFreqs(): KeyFreqsState {
    return { ...this.state, active: [...this.state.active], live: [...this.state.live] };
  }

  /** Restores the K state of a loaded run (its curves were measured with it). */
  restoreKeyFreqs(state: KeyFreqsState): void {
    this.restoredVersion = state.version;
    this.state = { ...state, active: [...state.active], live: [...state.live] };
    this.candidate = [...state.live];
    this.candidateCount = 0;
    this.recomputeQueue = [];
  }

  /** Past snapshots that arrived late (a recording's pieces): re-measured if K changed since the file's. */
  insertSnapshots(snapshots: readonly { epoch: number; weights: Float32Array }[]): void {
    this.snapshots.insert(snapshots);
    if (this.state.version !== this.restoredVersion) this.recomputeQueue.push(...snapshots.map((x) => x.epoch));
  }

  get pendingRecomputes(): number {
    return this.recomputeQueue.length;
  }

  /** Pins K by hand, or returns to the rule (null). Returns whether the curves' K changed. */
  pin(keyFreqs: number[] | null): boolean {
    const next = keyFreqs ?? this.state.live;
    this.state.pinned = keyFreqs !== null;
    return this.activate(next);
  }

  private activate(ks: number[]): boolean {
    if (sameKeyFreqs(ks, this.state.active)) return false;
    this.state = { ...this.state, version: this.state.version + 1, active: [...ks] };
    this.recomputeQueue = this.snapshots.epochs();
    return true;
  }

  /** Follows the rule's K once it has been stable for a few checkpoints (unless pinned). */
  private observe(live: number[]): boolean {
    this.state.live = live;
    if (this.state.pinned) return false;
    if (sameKeyFreqs(live, this.candidate)) this.candidateCount++;
    else {
      this.candidate = live;
      this.candidateCount = 1;
    }
    return this.candidateCount >= KEY_FREQS_STABLE_CHECKPOINTS && this.activate(live);
  }

  /** Runs the forward on all pairs, keeping the activations the heavy pass needs when asked. */
  private logitsWithActivations(params: Params | undefined, keep: boolean): { logits: tf.Tensor2D; acts: LastPositionActivations | null } {
    if (!keep) return { logits: this.trainer.logitsAll({}, params), acts: null };
    let pattern: tf.Tensor3D | null = null;
    let mlpPost: tf.Tensor2D | null = null;
    const last = this.trainer.config.nLayers - 1;
    const logits = this.trainer.logitsAll(
      {
        tap: (layer, a) => {
          if (layer === 0) pattern = tf.keep(a.pattern);
          if (layer === last) mlpPost = tf.keep(a.mlpPost);
        },
      },
      params,
    );
    return { logits, acts: { pattern: pattern!, mlpPost: mlpPost! } };
  }

  /** Metrics and cheap measures of the current weights; the heavy ones and a snapshot when asked. */
  prepareCheckpoint(opts: { heavy: boolean; hyper: { lr: number; weightDecay: number } }): Prepared<CheckpointOutcome> {
    const trainer = this.trainer;
    const epoch = trainer.epoch;
    const K = [...this.state.active];
    const version = this.state.version;
    const snapshot = this.snapshots.wants(epoch);
    const featured = this.featured;
    const cfg = trainer.config;
    const tensor = tf.tidy(() => {
      const { logits, acts } = this.logitsWithActivations(undefined, opts.heavy);
      const parts: tf.Tensor[] = [trainer.evaluate(logits), this.analyzer.cheap(trainer.paramTensors, logits, K)];
      if (acts) {
        parts.push(this.analyzer.heavy(trainer.paramTensors, logits, acts, featured));
        tf.dispose([acts.pattern, acts.mlpPost]);
        parts.push(clockPizzaMeasures(trainer.paramTensors, cfg, logits, trainer.dataset.labels));
      }
      if (snapshot) parts.push(trainer.flatWeights());
      return tf.concat(parts) as tf.Tensor1D;
    });
    return {
      tensor,
      finish: (values) => {
        const metrics = toEvalMetrics(values);
        let o = EVAL_LENGTH;
        const cheap = this.analyzer.unpackCheap(values, K, o);
        o += this.analyzer.cheapLength(K.length);
        let heavy: HeavyResult | null = null;
        let clockPizza = { distanceIrrelevance: NaN, gradientSymmetricity: NaN };
        if (opts.heavy) {
          const n = this.analyzer.heavyLength(cfg.dMlp, cfg.nHeads, featured.length);
          heavy = this.heavyResult(epoch, values.subarray(o, o + n), featured);
          // Feature the best-explained neuron of each of the most common frequencies next time.
          this.featured = pickFeaturedNeurons(heavy.neuronFreq, heavy.neuronFVE, this.featured.length);
          o += n;
          clockPizza = { distanceIrrelevance: values[o], gradientSymmetricity: values[o + 1] };
          o += 2;
        }
        if (snapshot) this.snapshots.add(epoch, values.slice(o, o + trainer.flatWeightsLength));
        const keyFreqsChanged = this.observe(cheap.liveKeyFreqs);
        const checkpoint: Checkpoint = {
          epoch,
          ...metrics,
          ...opts.hyper,
          restrictedLoss: cheap.restrictedLoss,
          restrictedAcc: cheap.restrictedAcc,
          excludedLoss: cheap.excludedLoss,
          giniWE: cheap.giniWE,
          giniWL: cheap.giniWL,
          logitFVE: cheap.logitFVE,
          keyFreqsVersion: version,
          normsWE: Array.from(cheap.normsWE),
          normsWL: Array.from(cheap.normsWL),
          cosCoefficients: Array.from(cheap.cosCoefficients),
          excludedLossPerFreq: cheap.excludedLossPerFreq,
          neuronsWellExplained: heavy ? heavy.neuronsWellExplained : NaN,
          ...clockPizza,
        };
        return { checkpoint, heavy, keyFreqsChanged, snapshotTaken: snapshot };
      },
    };
  }

  /** Keeps a snapshot of the current weights even off the spacing (the end of a run, a pause). */
  prepareSnapshot(): Prepared<void> {
    const epoch = this.trainer.epoch;
    return { tensor: this.trainer.flatWeights(), finish: (values) => this.snapshots.add(epoch, values.slice()) };
  }

  private heavyResult(epoch: number, values: Float32Array, featured: Int32Array): HeavyResult {
    const cfg = this.trainer.config;
    return { epoch, p: cfg.p, dMlp: cfg.dMlp, heads: cfg.nHeads, ...this.analyzer.unpackHeavy(values, cfg.dMlp, cfg.nHeads, featured) };
  }

  /** Params of a snapshot as tensors (the caller disposes them). */
  private snapshotParams(weights: Float32Array): Params {
    const named = unflattenWeights(this.trainer.config, weights);
    return Object.fromEntries(paramSpecs(this.trainer.config).map((s) => [s.name, tf.tensor(named[s.name], s.shape)]));
  }

  /** The next past snapshot to re-measure with the current K, or null when none is left. */
  prepareRecompute(): Prepared<{ version: number; row: RecomputedRow }> | null {
    while (this.recomputeQueue.length > 0) {
      const epoch = this.recomputeQueue.shift()!;
      const snap = this.snapshots.at(epoch);
      if (!snap) continue;
      const K = [...this.state.active];
      const version = this.state.version;
      const tensor = tf.tidy(() => {
        const params = this.snapshotParams(snap.weights);
        const logits = this.trainer.logitsAll({}, params);
        return this.analyzer.logitMeasures(logits, K);
      });
      return {
        tensor,
        finish: (values) => {
          const m = this.analyzer.unpackLogitMeasures(values, K);
          return {
            version,
            row: {
              epoch,
              restrictedLoss: m.restrictedLoss,
              restrictedAcc: m.restrictedAcc,
              excludedLoss: m.excludedLoss,
              excludedLossPerFreq: m.excludedLossPerFreq,
              logitFVE: m.logitFVE,
            },
          };
        },
      };
    }
    return null;
  }

  /** The heavy measures of the snapshot nearest to `epoch` (or of the current weights if none). */
  prepareInspect(epoch: number): Prepared<HeavyResult> {
    const snap = this.snapshots.nearest(epoch);
    const at = snap ? snap.epoch : this.trainer.epoch;
    const featured = this.featured;
    const tensor = tf.tidy(() => {
      const params = snap ? this.snapshotParams(snap.weights) : this.trainer.paramTensors;
      const { logits, acts } = this.logitsWithActivations(params, true);
      const out = this.analyzer.heavy(params, logits, acts!, featured);
      tf.dispose([acts!.pattern, acts!.mlpPost]);
      return out;
    });
    return {
      tensor,
      finish: (values) => this.heavyResult(at, values, featured),
    };
  }

  dispose(): void {
    this.analyzer.dispose();
    this.snapshots.clear();
  }
}

/**
 * Up to n neurons to show as maps: the best-explained neuron of each frequency, most populated
 * frequencies first (Fig. 12 shows neurons of the key frequencies).
 */
export function pickFeaturedNeurons(freq: Int16Array, fve: Float32Array, n: number): Int32Array {
  const byFreq = new Map<number, number[]>();
  for (let i = 0; i < freq.length; i++) {
    const list = byFreq.get(freq[i]) ?? [];
    list.push(i);
    byFreq.set(freq[i], list);
  }
  const groups = [...byFreq.values()].sort((a, b) => b.length - a.length);
  const picked: number[] = [];
  for (let round = 0; picked.length < n && round < freq.length; round++) {
    for (const g of groups) {
      const sorted = [...g].sort((a, b) => fve[b] - fve[a]);
      if (round < sorted.length && picked.length < n) picked.push(sorted[round]);
    }
  }
  return Int32Array.from(picked);
}
