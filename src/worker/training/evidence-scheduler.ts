/**
 * When the evidence of §4 (ANALYSIS.md §7) is measured in the worker: for the checkpoint the page
 * views (answered at once when idle, between blocks while training), on the heavy cadence for the
 * live weights (each such pass is also a point of the evidence curves over training), and, while
 * nothing trains, for every weight snapshot not yet measured, so a loaded run gets its curves too.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ABLATION_TARGETS } from '../../config/ablations.ts';
import type { Params } from '../../model/transformer/forward.ts';
import { paramSpecs, unflattenWeights } from '../../model/transformer/params.ts';
import type { EvidenceRequest } from '../../run/evidence.ts';
import { EvidencePass } from '../analysis/evidence-pass.ts';
import type { RunContext } from './run-context.ts';

const NO_REQUEST: EvidenceRequest = { epoch: null, ablations: [], pair: null };
/** How long a just-built run waits for a Train before it answers the page's evidence request. */
export const FRESH_GRACE_MS = 1500;

export class EvidenceScheduler {
  private request: EvidenceRequest = NO_REQUEST;
  /** The page's request still to answer (it came while training ran). */
  private due = false;
  /** The heavy cadence asked for a pass of the live weights. */
  private liveDue = false;
  /** Snapshot epochs whose evidence the page has as a curve point (with the K of `seriesK`). */
  private measured = new Set<number>();
  private seriesK = '';
  private background: Promise<void> | null = null;

  constructor(private readonly run: RunContext) {}

  /** The page asks for a checkpoint's evidence, with an intervention and an input. */
  async ask(request: EvidenceRequest): Promise<void> {
    const p = this.run.trainer.config.p;
    const pair = request.pair !== null && Number.isInteger(request.pair) && request.pair >= 0 && request.pair < p * p ? request.pair : null;
    const ablations = request.ablations.filter((a) => (ABLATION_TARGETS as readonly string[]).includes(a.target));
    this.request = { epoch: request.epoch, ablations, pair };
    // A new run just built, not trained: a Train pressed now comes first, its curves within a
    // second (#25); the answer follows between blocks, or after a short grace if nothing starts.
    const fresh = this.run.status() === 'idle' && this.run.trainer.epoch === 0 && this.run.statusAge() < FRESH_GRACE_MS;
    if (this.run.status() === 'running' || this.run.startWaiting()) this.due = true;
    else if (fresh) {
      this.due = true;
      this.answerLater(FRESH_GRACE_MS - this.run.statusAge());
    } else {
      await this.compute(this.request.epoch, true);
      this.startBackground();
    }
  }

  /** Answers a waiting request after `ms` if training has not taken it meanwhile. */
  private answerLater(ms: number): void {
    setTimeout(() => {
      const status = this.run.status();
      if (!this.due || !this.run.current() || status === 'running' || this.run.startWaiting()) return;
      if (status === 'starting') return this.answerLater(FRESH_GRACE_MS);
      this.due = false;
      this.compute(this.request.epoch, true)
        .then(() => this.startBackground())
        .catch((err) => this.run.fail(err));
    }, Math.max(0, ms));
  }

  /** A heavy pass of the live weights was just taken: measure the evidence too, between blocks. */
  markLive(): void {
    if (this.run.analysis) this.liveDue = true;
  }

  async betweenBlocks(): Promise<void> {
    if (this.due) {
      this.due = false;
      await this.compute(this.request.epoch, true);
    } else if (this.liveDue) {
      this.liveDue = false;
      await this.compute(null, this.request.epoch === null);
    }
  }

  /** After training stops: answer what is pending, then measure the snapshots in the background. */
  async afterTraining(): Promise<void> {
    if (this.due) {
      this.due = false;
      await this.compute(this.request.epoch, true);
    }
    this.startBackground();
  }

  async idle(): Promise<void> {
    await this.background;
  }

  startBackground(): void {
    const analysis = this.run.analysis;
    if (!analysis || this.background) return;
    this.background = (async () => {
      for (;;) {
        if (!this.run.current() || this.run.status() === 'running') return;
        // The K-dependent curves (every snapshot re-measured with a new K) go first: the two loops
        // would otherwise take turns and halve their pace; the measure scheduler restarts this one.
        if (analysis.pendingRecomputes > 0) return;
        this.resetSeriesIfKChanged();
        const next = analysis.snapshots.epochs().find((e) => !this.measured.has(e));
        if (next === undefined) return;
        await this.compute(next, false);
        await this.run.yieldToEvents();
      }
    })()
      .catch((err) => this.run.fail(err))
      .finally(() => {
        this.background = null;
      });
  }

  private resetSeriesIfKChanged(): void {
    const k = this.run.analysis?.keyFreqs.active.join(',') ?? '';
    if (k !== this.seriesK) {
      this.seriesK = k;
      this.measured.clear();
    }
  }

  /**
   * One pass on the snapshot at or before `epoch` (the live weights for null or a newer epoch). An
   * answer carries the page's intervention and input; a curve point (no intervention) is also
   * posted as a point of the series.
   */
  private async compute(epoch: number | null, answer: boolean): Promise<void> {
    const { analysis, trainer } = this.run;
    if (!analysis) return;
    this.resetSeriesIfKChanged();
    const snap = epoch === null || epoch >= trainer.epoch ? null : analysis.snapshots.atOrBefore(epoch);
    const at = snap ? snap.epoch : trainer.epoch;
    const request = answer ? this.request : NO_REQUEST;
    const pass = new EvidencePass(trainer, analysis.analyzer);
    let params: Params | undefined;
    try {
      if (snap) {
        const named = unflattenWeights(trainer.config, snap.weights);
        params = Object.fromEntries(paramSpecs(trainer.config).map((s) => [s.name, tf.tensor(named[s.name], s.shape)]));
      }
      const prepared = pass.prepare(at, request, analysis.keyFreqs.active, params);
      const values = (await prepared.tensor.data()) as Float32Array;
      prepared.tensor.dispose();
      if (!this.run.current()) return;
      const result = prepared.finish(values);
      const series = !answer || snap !== null || epoch === null;
      if (series) this.measured.add(at);
      if (epoch !== null) this.measured.add(epoch);
      this.run.post({ type: 'evidence', runId: this.run.id, result, answer, series });
    } finally {
      if (params) tf.dispose(Object.values(params));
      pass.dispose();
    }
  }
}
