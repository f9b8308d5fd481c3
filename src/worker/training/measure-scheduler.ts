/**
 * Owns when the paper's measures are taken for one run: checkpoint reads (metrics and §5 measures),
 * heavy passes within their time budget, inspections of past epochs, and re-measuring past
 * snapshots after K changes (§5.6), budgeted while training runs and at full speed while it does not.
 */
import { toEvalMetrics } from '../../model/trainer.ts';
import type { Checkpoint } from '../../run/history-columns.ts';
import { EvidenceScheduler } from './evidence-scheduler.ts';
import { LlcScheduler } from './llc-scheduler.ts';
import type { CheckpointOutcome, Prepared } from '../analysis/run-analysis.ts';
import type { RunContext } from './run-context.ts';

/** The heavy measures (neurons, spectra, attention) of the live weights: this share of the time, … */
export const HEAVY_BUDGET = 0.03;
/** … and at most this often. */
export const HEAVY_MIN_INTERVAL_MS = 2000;
/** Re-measuring past snapshots after K changes, while training runs (at full speed when paused). */
export const RECOMPUTE_BUDGET = 0.05;

/** Moving average that starts at its first sample. */
export function ema(prev: number, sample: number, weight = 0.3): number {
  return Number.isFinite(prev) ? (1 - weight) * prev + weight * sample : sample;
}

export class MeasureScheduler {
  /** Cost of one checkpoint read, and what a heavy pass adds to it (ms, measured warm). */
  checkpointMs = NaN;
  heavyMs = NaN;
  private recomputeMs = NaN;
  private lastHeavyAt = -Infinity;
  private lastRecomputeAt = -Infinity;
  /** Epochs asked for while training ran; answered between blocks. */
  private inspectRequests: number[] = [];
  private backgroundDone: Promise<void> | null = null;
  /** The warm timings were put off until the first checkpoint of a run Train was waiting for. */
  private timingsDue = false;

  /** §4's evidence: on the heavy cadence, on request, and for past snapshots when idle. */
  readonly evidence: EvidenceScheduler;
  /** The LLC over training: its own time share between blocks, full speed when idle. */
  readonly llc: LlcScheduler;

  constructor(private readonly run: RunContext) {
    this.evidence = new EvidenceScheduler(run);
    this.llc = new LlcScheduler(run);
  }

  /** The checkpoint read: metrics and measures, or metrics alone when analysis is off. */
  prepareCheckpoint(heavy: boolean): Prepared<CheckpointOutcome> {
    const { trainer, analysis } = this.run;
    const hyper = { lr: trainer.hyper.lr, weightDecay: trainer.hyper.weightDecay };
    if (analysis) return analysis.prepareCheckpoint({ heavy, hyper });
    const epoch = trainer.epoch;
    return {
      tensor: trainer.evaluate(),
      finish: (values) => ({
        checkpoint: { ...emptyMeasures(), epoch, ...toEvalMetrics(values), ...hyper },
        heavy: null,
        keyFreqsChanged: false,
        snapshotTaken: false,
      }),
    };
  }

  /**
   * The run's first checkpoint (epoch 0, or the loaded epoch), read to completion: it also
   * compiles the GPU kernels. Then times a checkpoint and a heavy pass once, warm, so the cadences
   * rest on their real costs (timing them inside pipelined blocks is too noisy to budget with).
   */
  async first(): Promise<void> {
    const { trainer } = this.run;
    trainer.markCandidate();
    // With Train waiting, the heavy pass waits for the checkpoint after the first one (#25).
    const heavy = !this.run.startWaiting();
    const first = this.prepareCheckpoint(heavy);
    const values = (await first.tensor.data()) as Float32Array;
    first.tensor.dispose();
    if (heavy) this.lastHeavyAt = this.run.now();
    if (values.slice(0, 5).every(Number.isFinite)) trainer.confirmGood();
    this.emit(first.finish(values), true);
    // A newer Reset or Open is already waiting: this run is about to be replaced, skip the timings.
    if (this.run.superseded()) return;
    // Train is waiting: the timings follow the run's first checkpoint (betweenBlocks), not precede it.
    if (this.run.startWaiting()) {
      this.timingsDue = true;
      return;
    }
    await this.takeTimings();
  }

  /** Times a checkpoint and a heavy pass once, warm, for the cadences. */
  private async takeTimings(): Promise<void> {
    const time = async (heavy: boolean) => {
      const t0 = this.run.now();
      const probe = this.prepareCheckpoint(heavy);
      await probe.tensor.data();
      probe.tensor.dispose();
      return this.run.now() - t0;
    };
    this.checkpointMs = await time(false);
    this.heavyMs = this.run.analysis ? Math.max((await time(true)) - this.checkpointMs, 0) : 0;
  }

  /** Whether the checkpoint now due should carry a heavy pass; if so, counts it as taken. */
  takeHeavy(): boolean {
    if (!this.run.analysis) return false;
    const wait = Math.max(HEAVY_MIN_INTERVAL_MS, (this.heavyMs || 0) / HEAVY_BUDGET);
    if (this.run.now() - this.lastHeavyAt < wait) return false;
    this.lastHeavyAt = this.run.now();
    return true;
  }

  emit(outcome: CheckpointOutcome, latestHeavy: boolean): void {
    const { post, id } = this.run;
    post({ type: 'checkpoint', runId: id, checkpoint: outcome.checkpoint });
    if (outcome.heavy) post({ type: 'heavy', runId: id, result: outcome.heavy, latest: latestHeavy });
    if (outcome.heavy && latestHeavy) this.evidence.markLive();
    if (outcome.keyFreqsChanged) this.postKeyFreqs();
    if (outcome.snapshotTaken) this.postSnapshots();
  }

  postKeyFreqs(): void {
    if (this.run.analysis) this.run.post({ type: 'keyFreqs', runId: this.run.id, keyFreqs: this.run.analysis.keyFreqs });
  }

  postSnapshots(): void {
    if (this.run.analysis) this.run.post({ type: 'snapshots', runId: this.run.id, epochs: this.run.analysis.snapshots.epochs() });
  }

  /** Heavy measures of the snapshot nearest `epoch`: now, or between blocks while training runs. */
  async requestInspect(epoch: number): Promise<void> {
    if (!this.run.analysis) return;
    if (this.run.status() === 'running') this.inspectRequests.push(epoch);
    else await this.inspect(epoch);
  }

  /** Pins K (or returns to the rule); past snapshots are re-measured with it. */
  pinKeyFreqs(keyFreqs: number[] | null): void {
    if (!this.run.analysis) return;
    this.run.analysis.pin(keyFreqs);
    this.postKeyFreqs();
    if (this.run.status() !== 'running') this.startBackground();
  }

  /** Between blocks: answer inspections, and re-measure a snapshot if the budget allows. */
  async betweenBlocks(): Promise<void> {
    if (this.timingsDue) {
      this.timingsDue = false;
      await this.takeTimings();
    }
    await this.answerInspections();
    await this.evidence.betweenBlocks();
    await this.llc.betweenBlocks();
    if (!this.run.analysis || this.run.analysis.pendingRecomputes === 0) return;
    const wait = (this.recomputeMs || 0) / RECOMPUTE_BUDGET;
    if (this.run.now() - this.lastRecomputeAt < wait) return;
    await this.recomputeOne();
  }

  /** After training stops: keep a snapshot of the last weights, answer inspections, re-measure. */
  async afterTraining(): Promise<void> {
    const { analysis, trainer } = this.run;
    if (analysis && analysis.snapshots.all().at(-1)?.epoch !== trainer.epoch) {
      const snap = analysis.prepareSnapshot();
      const values = (await snap.tensor.data()) as Float32Array;
      snap.tensor.dispose();
      if (!this.run.current()) return;
      snap.finish(values);
      this.postSnapshots();
    }
    await this.answerInspections();
    await this.evidence.afterTraining();
    this.startBackground();
    this.llc.startBackground();
  }

  /** Resolves when background re-measuring has stopped. */
  async idle(): Promise<void> {
    await this.backgroundDone;
    await this.evidence.idle();
    await this.llc.idle();
  }

  /** Re-measures pending snapshots at full speed while nothing trains. */
  startBackground(): void {
    const { analysis } = this.run;
    if (!analysis || analysis.pendingRecomputes === 0 || this.backgroundDone) return;
    this.backgroundDone = (async () => {
      while (this.run.current() && this.run.status() !== 'running' && analysis.pendingRecomputes > 0) {
        await this.recomputeOne();
        await this.run.yieldToEvents();
      }
    })()
      .catch((err) => this.run.fail(err))
      .finally(() => {
        this.backgroundDone = null;
        // The evidence snapshots waited for the re-measured curves (K first); now they go on.
        if (this.run.current() && this.run.status() !== 'running') this.evidence.startBackground();
      });
  }

  private async answerInspections(): Promise<void> {
    for (const epoch of this.inspectRequests.splice(0)) await this.inspect(epoch);
  }

  private async recomputeOne(): Promise<void> {
    const prepared = this.run.analysis?.prepareRecompute();
    if (!prepared) return;
    const t0 = this.run.now();
    const values = (await prepared.tensor.data()) as Float32Array;
    prepared.tensor.dispose();
    this.recomputeMs = ema(this.recomputeMs, this.run.now() - t0);
    this.lastRecomputeAt = this.run.now();
    const analysis = this.run.analysis;
    if (!this.run.current() || !analysis) return;
    const { version, row } = prepared.finish(values);
    if (version !== analysis.keyFreqs.version) return;
    this.run.post({ type: 'recomputed', runId: this.run.id, version, rows: [row], remaining: analysis.pendingRecomputes });
  }

  private async inspect(epoch: number): Promise<void> {
    const analysis = this.run.analysis;
    if (!analysis) return;
    const prepared = analysis.prepareInspect(epoch);
    const values = (await prepared.tensor.data()) as Float32Array;
    prepared.tensor.dispose();
    if (!this.run.current()) return;
    this.run.post({ type: 'heavy', runId: this.run.id, result: prepared.finish(values), latest: false });
  }
}

/** The measures of a checkpoint taken without analysis. */
function emptyMeasures(): Omit<Checkpoint, 'epoch' | 'trainLoss' | 'testLoss' | 'trainAcc' | 'testAcc' | 'sumSquaredWeights' | 'softmaxCollapse' | 'lr' | 'weightDecay'> {
  return {
    restrictedLoss: NaN,
    restrictedAcc: NaN,
    excludedLoss: NaN,
    giniWE: NaN,
    giniWL: NaN,
    logitFVE: NaN,
    keyFreqsVersion: -1,
    normsWE: [],
    normsWL: [],
    cosCoefficients: [],
    excludedLossPerFreq: [],
    neuronsWellExplained: NaN,
    distanceIrrelevance: NaN,
    gradientSymmetricity: NaN,
  };
}
