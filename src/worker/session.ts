/**
 * The training loop and command handling, independent of where it runs: the Web Worker wires it
 * to postMessage, the CLI to a terminal, the tests to an array.
 *
 * The loop never waits on the GPU for every epoch. It queues a block of K updates, starts an
 * asynchronous read of the block's last loss (and of a checkpoint's metrics and measures when one
 * is due), and only then waits for the *previous* block's read, so one block is always queued
 * behind the one being read. K adapts so that the page hears from the worker a few times a second;
 * the checkpoint and heavy-analysis intervals adapt so that measuring costs a bounded share of the
 * time (EVAL_BUDGET + HEAVY_BUDGET + RECOMPUTE_BUDGET ≤ 15%).
 */
import * as tf from '@tensorflow/tfjs-core';
import { checkKeyFreqs } from '../config/keyfreqs.ts';
import { configsEqual, type TrainConfig } from '../config/schema.ts';
import { toEvalMetrics, type Trainer, type TrainerOptions } from '../model/trainer.ts';
import type { BackendInfo } from '../config/backends.ts';
import type { Command, LiveSettings, LoadableRun, RunStatus, WorkerEvent } from '../run/protocol.ts';
import type { Checkpoint } from '../run/history-columns.ts';
import { checkMemory, type DeviceLimits } from '../model/memory.ts';
import { unflattenWeights } from '../model/params.ts';
import { RunAnalysis, type CheckpointOutcome, type Prepared } from './run-analysis.ts';

/** Target time between progress events (and so the length of a block of updates). */
export const PROGRESS_INTERVAL_MS = 250;
/** Checkpoints (metrics + cheap measures) may take at most this share of the training time. */
export const EVAL_BUDGET = 0.07;
/** The heavy measures (neurons, spectra, attention) of the live weights: this share, … */
export const HEAVY_BUDGET = 0.03;
/** … and at most this often. */
export const HEAVY_MIN_INTERVAL_MS = 2000;
/** Re-measuring past snapshots after K changes, while training runs (at full speed when paused). */
export const RECOMPUTE_BUDGET = 0.05;
/** At most this many checkpoints a second, however fast training runs. */
export const MIN_CHECKPOINT_INTERVAL_MS = 200;
/** Checkpoint intervals, in epochs, are chosen from these so that curves sample round epochs. */
export const NICE_INTERVALS = [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000];
/** Upper bound on updates queued in one block. */
export const MAX_BLOCK = 1000;

export interface SessionOptions {
  /** Builds a trainer for a configuration on the active backend (may throw, e.g. out of memory). */
  createTrainer: (config: TrainConfig, init?: TrainerOptions) => Trainer;
  post: (event: WorkerEvent) => void;
  /** Describes the active backend for the 'ready' event. */
  backendInfo: () => BackendInfo;
  /** Fixed checkpoint interval in epochs (the CLI's --every); adaptive when absent. */
  checkpointEvery?: number;
  /** Compute the paper's measures at checkpoints (default true; off only to measure their cost). */
  analysis?: boolean;
  snapshotBudgetBytes?: number;
  /** The active backend's memory limits: configurations that cannot fit are refused up front. */
  limits?: () => DeviceLimits | null;
  now?: () => number;
  /** Lets queued messages in between blocks; default: a macrotask. */
  yieldToEvents?: () => Promise<void>;
}

interface PendingBlock {
  /** Loss of the block's last update, cloned so later steps may free the original. */
  loss: tf.Scalar | null;
  checkpoint: Prepared<CheckpointOutcome> | null;
  heavy: boolean;
  endEpoch: number;
  updates: number;
}

/** Moving average that starts at its first sample. */
function ema(prev: number, sample: number, weight = 0.3): number {
  return Number.isFinite(prev) ? (1 - weight) * prev + weight * sample : sample;
}

export class TrainingSession {
  private trainer: Trainer | null = null;
  private analysis: RunAnalysis | null = null;
  private runId = 0;
  private status: RunStatus = 'starting';
  /** Training stops at this epoch: the config's epochs, or the end of a Step. */
  private stopAt = 0;
  private stopIsStep = false;
  private loopDone: Promise<void> | null = null;
  private backgroundDone: Promise<void> | null = null;
  private stepsPerBlock = 1;
  private checkpointEvery: number;
  private readonly fixedEvery: boolean;
  private nextCheckpoint = 0;
  private msPerEpoch = NaN;
  private checkpointMs = NaN;
  private heavyMs = NaN;
  private recomputeMs = NaN;
  private lastHeavyAt = -Infinity;
  private lastRecomputeAt = -Infinity;
  private epochsPerSec = 0;
  private lastBlockEnd = 0;
  /** Wall time this run has spent training (pauses excluded), for "time to grok". */
  private trainMs = 0;
  private inspectRequests: number[] = [];
  /** After a NaN rolled the run back to this epoch, blocks read later than it are discarded. */
  private rolledBackTo: number | null = null;
  private readonly withAnalysis: boolean;
  private readonly now: () => number;
  private readonly yieldToEvents: () => Promise<void>;
  /** Commands are handled one at a time, in order. */
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly opts: SessionOptions) {
    this.now = opts.now ?? (() => performance.now());
    this.yieldToEvents = opts.yieldToEvents ?? (() => new Promise((r) => setTimeout(r, 0)));
    this.fixedEvery = opts.checkpointEvery !== undefined;
    this.checkpointEvery = opts.checkpointEvery ?? 1;
    this.withAnalysis = opts.analysis ?? true;
  }

  get currentTrainer(): Trainer | null {
    return this.trainer;
  }

  get currentAnalysis(): RunAnalysis | null {
    return this.analysis;
  }

  get currentStatus(): RunStatus {
    return this.status;
  }

  /** Queues a command; resolves when it has been handled (not when training ends). */
  handle(cmd: Command): Promise<void> {
    this.queue = this.queue.then(() => this.dispatch(cmd)).catch((err) => this.fail(err));
    return this.queue;
  }

  /** Resolves when the training loop and background re-measuring (if any) have stopped. */
  async idle(): Promise<void> {
    await this.queue;
    await this.loopDone;
    await this.backgroundDone;
  }

  private async dispatch(cmd: Command): Promise<void> {
    switch (cmd.type) {
      case 'init':
        if (cmd.run) {
          await this.build(cmd.run.config, cmd.run.keyFreqs?.pinned ? cmd.run.keyFreqs.active : null, cmd.run);
          return;
        }
        await this.build(cmd.config, cmd.keyFreqs ?? null);
        return;
      case 'reset':
        await this.stopLoop();
        await this.backgroundDone;
        await this.build(cmd.config, cmd.keyFreqs ?? null);
        return;
      case 'load':
        await this.stopLoop();
        await this.backgroundDone;
        await this.build(cmd.run.config, cmd.run.keyFreqs?.pinned ? cmd.run.keyFreqs.active : null, cmd.run);
        return;
      case 'exportState': {
        const trainer = this.trainer;
        if (!trainer) return;
        const runId = this.runId;
        const resume = await trainer.readState();
        if (this.runId !== runId) return;
        const snaps = this.analysis?.snapshots.all() ?? [];
        this.opts.post({
          type: 'state',
          runId,
          requestId: cmd.requestId,
          state: {
            epoch: resume.t,
            config: { ...trainer.config },
            trainIndices: trainer.dataset.train,
            keyFreqs: this.analysis?.keyFreqs ?? null,
            snapshots: snaps.filter((x) => x.epoch > cmd.snapshotsAfter).map((x) => ({ epoch: x.epoch, weights: x.weights.slice() })),
            snapshotEpochs: snaps.map((x) => x.epoch),
            resume,
          },
        });
        return;
      }
      case 'debug':
        if (cmd.action === 'poison') this.trainer?.poison();
        // 'crash' and 'lose-device' concern the worker itself, not the run (train.worker.ts).
        return;
      case 'bench':
        // The worker runs benchmarks beside the session (train.worker.ts).
        return;
      case 'start':
      case 'resume':
        if (!this.trainer || this.status === 'running') return;
        this.stopAt = this.trainer.config.epochs;
        this.stopIsStep = false;
        this.startLoop();
        return;
      case 'step': {
        if (!this.trainer) return;
        await this.stopLoop();
        this.stopAt = this.trainer.epoch + Math.max(1, Math.floor(cmd.epochs));
        this.stopIsStep = true;
        this.startLoop();
        return;
      }
      case 'pause':
        await this.stopLoop();
        return;
      case 'set':
        this.applySettings(cmd.settings);
        return;
      case 'setKeyFreqs': {
        if (!this.analysis || !this.trainer) return;
        if (cmd.keyFreqs) {
          const problem = checkKeyFreqs(cmd.keyFreqs, this.trainer.config.p);
          if (problem) throw new Error(`key frequencies: ${problem}`);
        }
        this.analysis.pin(cmd.keyFreqs);
        this.postKeyFreqs();
        if (this.status !== 'running') this.startBackground();
        return;
      }
      case 'inspect':
        if (!this.analysis) return;
        if (this.status === 'running') this.inspectRequests.push(cmd.epoch);
        else await this.inspect(cmd.epoch);
        return;
      default: {
        const never: never = cmd;
        throw new Error(`unknown command ${JSON.stringify(never)}`);
      }
    }
  }

  private applySettings(s: Partial<LiveSettings>): void {
    const t = this.trainer;
    if (!t) return;
    t.setHyper({ lr: s.lr, weightDecay: s.weightDecay, grokfastLambda: s.grokfastLambda });
    if (s.epochs !== undefined) {
      t.config.epochs = s.epochs;
      if (!this.stopIsStep) this.stopAt = s.epochs;
      if (this.status === 'done' && t.epoch < s.epochs) this.setStatus('idle');
    }
  }

  private async build(config: TrainConfig, keyFreqs: number[] | null, loaded?: LoadableRun): Promise<void> {
    this.analysis?.dispose();
    this.analysis = null;
    const previous = this.trainer;
    this.trainer = null;
    previous?.dispose();
    this.runId += 1;
    this.setStatus('starting');
    const limits = this.opts.limits?.();
    const tooBig = limits ? checkMemory(config, limits) : null;
    if (tooBig) throw new MemoryLimitError(tooBig);
    const last = loaded?.snapshots.at(-1);
    const trainer = this.opts.createTrainer(config, loaded ? { trainIndices: loaded.trainIndices, weights: loaded.resume ? undefined : last ? unflattenWeights(config, last.weights) : undefined } : {});
    this.trainer = trainer;
    if (loaded?.resume) trainer.loadState(loaded.resume);
    else if (last) trainer.setEpoch(last.epoch);
    if (keyFreqs) {
      const problem = checkKeyFreqs(keyFreqs, config.p);
      if (problem) {
        this.opts.post({ type: 'error', runId: this.runId, message: `key frequencies ${keyFreqs.join(', ')}: ${problem}; using the default rule`, fatal: false });
        keyFreqs = null;
      }
    }
    this.analysis = this.withAnalysis ? new RunAnalysis(trainer, { pinnedKeyFreqs: keyFreqs, snapshotBudgetBytes: this.opts.snapshotBudgetBytes }) : null;
    if (this.analysis && loaded) {
      this.analysis.snapshots.restore(loaded.snapshots.filter((x) => x.epoch <= trainer.epoch));
      if (loaded.keyFreqs) this.analysis.restoreKeyFreqs(loaded.keyFreqs);
    }
    this.rolledBackTo = null;
    this.stepsPerBlock = 1;
    this.msPerEpoch = NaN;
    this.checkpointMs = NaN;
    this.heavyMs = NaN;
    this.recomputeMs = NaN;
    this.lastHeavyAt = -Infinity;
    this.epochsPerSec = 0;
    this.trainMs = 0;
    this.inspectRequests = [];
    if (!this.fixedEvery) this.checkpointEvery = 1;
    this.opts.post({
      type: 'ready',
      runId: this.runId,
      backend: this.opts.backendInfo(),
      numParams: trainer.flatWeightsLength,
      nTrain: trainer.dataset.train.length,
      nTest: trainer.dataset.test.length,
      config: { ...trainer.config },
      loadedAt: loaded ? trainer.epoch : null,
    });
    if (this.analysis) this.postKeyFreqs();
    if (loaded) this.postSnapshots();
    // Epoch 0 (or the loaded epoch), before any update; this first read also compiles the GPU kernels.
    trainer.markCandidate();
    const first = this.prepareCheckpoint(true);
    const values = (await first.tensor.data()) as Float32Array;
    first.tensor.dispose();
    this.lastHeavyAt = this.now();
    if (values.slice(0, 5).every(Number.isFinite)) trainer.confirmGood();
    this.emitCheckpoint(first.finish(values), true);
    await this.calibrate();
    this.nextCheckpoint = trainer.epoch + this.checkpointEvery;
    this.setStatus(trainer.epoch >= config.epochs ? 'done' : 'idle');
  }

  /**
   * Times a checkpoint and a heavy pass once, warm, each read to completion, so the cadences rest on
   * their real costs (timing them inside pipelined blocks is too noisy to budget with).
   */
  private async calibrate(): Promise<void> {
    const time = async (heavy: boolean) => {
      const t0 = this.now();
      const probe = this.prepareCheckpoint(heavy);
      await probe.tensor.data();
      probe.tensor.dispose();
      return this.now() - t0;
    };
    this.checkpointMs = await time(false);
    this.heavyMs = this.analysis ? Math.max((await time(true)) - this.checkpointMs, 0) : 0;
  }

  /** The checkpoint read: metrics and measures, or metrics alone when analysis is off. */
  private prepareCheckpoint(heavy: boolean): Prepared<CheckpointOutcome> {
    const trainer = this.trainer!;
    const hyper = { lr: trainer.hyper.lr, weightDecay: trainer.hyper.weightDecay };
    if (this.analysis) return this.analysis.prepareCheckpoint({ heavy, hyper });
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

  private emitCheckpoint(outcome: CheckpointOutcome, latestHeavy: boolean): void {
    this.opts.post({ type: 'checkpoint', runId: this.runId, checkpoint: outcome.checkpoint });
    if (outcome.heavy) this.opts.post({ type: 'heavy', runId: this.runId, result: outcome.heavy, latest: latestHeavy });
    if (outcome.keyFreqsChanged) this.postKeyFreqs();
    if (outcome.snapshotTaken) this.postSnapshots();
  }

  private postKeyFreqs(): void {
    if (this.analysis) this.opts.post({ type: 'keyFreqs', runId: this.runId, keyFreqs: this.analysis.keyFreqs });
  }

  private postSnapshots(): void {
    if (this.analysis) this.opts.post({ type: 'snapshots', runId: this.runId, epochs: this.analysis.snapshots.epochs() });
  }

  private startLoop(): void {
    const t = this.trainer!;
    if (t.epoch >= this.stopAt) {
      this.setStatus(this.stopIsStep ? 'paused' : 'done');
      return;
    }
    this.setStatus('running');
    this.nextCheckpoint = this.alignCheckpoint(t.epoch);
    this.lastBlockEnd = this.now();
    const runId = this.runId;
    this.loopDone = this.loop(runId)
      .then(() => this.afterLoop(runId))
      .catch((err) => this.fail(err));
  }

  /** Stops after the block in flight; resolves once everything queued has been read. */
  private async stopLoop(): Promise<void> {
    if (this.status === 'running') this.setStatus('paused');
    await this.loopDone;
    this.loopDone = null;
  }

  private alignCheckpoint(epoch: number): number {
    return (Math.floor(epoch / this.checkpointEvery) + 1) * this.checkpointEvery;
  }

  private heavyDue(): boolean {
    if (!this.analysis) return false;
    const wait = Math.max(HEAVY_MIN_INTERVAL_MS, (this.heavyMs || 0) / HEAVY_BUDGET);
    return this.now() - this.lastHeavyAt >= wait;
  }

  private async loop(runId: number): Promise<void> {
    const trainer = this.trainer!;
    let pending: PendingBlock | null = null;
    while (this.status === 'running' && this.runId === runId) {
      const epoch = trainer.epoch;
      if (epoch >= this.stopAt) break;
      const target = Math.min(this.stopAt, this.nextCheckpoint);
      const updates = Math.max(1, Math.min(this.stepsPerBlock, target - epoch));
      for (let i = 0; i < updates; i++) trainer.trainStep();
      const endEpoch = trainer.epoch;
      const due = endEpoch >= this.nextCheckpoint || endEpoch >= this.stopAt;
      if (due) trainer.markCandidate();
      const heavy = due && this.heavyDue();
      if (heavy) this.lastHeavyAt = this.now();
      const block: PendingBlock = {
        loss: trainer.lastTrainLoss ? tf.clone(trainer.lastTrainLoss) : null,
        checkpoint: due ? this.prepareCheckpoint(heavy) : null,
        heavy,
        endEpoch,
        updates,
      };
      if (due) this.nextCheckpoint = this.alignCheckpoint(endEpoch);
      // Read the previous block while this one runs on the device.
      if (pending) await this.consume(pending, runId);
      pending = block;
      await this.runBackgroundJobs(runId);
      await this.yieldToEvents();
    }
    if (pending) await this.consume(pending, runId);
  }

  /** After the loop: the final status, a snapshot of the last weights, and pending re-measuring. */
  private async afterLoop(runId: number): Promise<void> {
    if (this.runId !== runId || !this.trainer) return;
    const trainer = this.trainer;
    if (this.rolledBackTo !== null) {
      // Show the restored state: a checkpoint at the good epoch replaces the poisoned ones.
      this.rolledBackTo = null;
      const again = this.prepareCheckpoint(false);
      const values = (await again.tensor.data()) as Float32Array;
      again.tensor.dispose();
      if (this.runId !== runId) return;
      this.emitCheckpoint(again.finish(values), false);
    }
    if (this.status === 'running' || trainer.epoch >= this.stopAt) {
      const finished = trainer.epoch >= trainer.config.epochs && !this.stopIsStep;
      this.setStatus(finished ? 'done' : 'paused');
    }
    if (this.analysis && this.analysis.snapshots.all().at(-1)?.epoch !== trainer.epoch) {
      const snap = this.analysis.prepareSnapshot();
      const values = (await snap.tensor.data()) as Float32Array;
      snap.tensor.dispose();
      if (this.runId !== runId) return;
      snap.finish(values);
      this.postSnapshots();
    }
    for (const epoch of this.inspectRequests.splice(0)) await this.inspect(epoch);
    this.startBackground();
  }

  /** Between blocks: answer inspections, and re-measure a snapshot if the budget allows. */
  private async runBackgroundJobs(runId: number): Promise<void> {
    for (const epoch of this.inspectRequests.splice(0)) await this.inspect(epoch);
    if (!this.analysis || this.analysis.pendingRecomputes === 0) return;
    const wait = (this.recomputeMs || 0) / RECOMPUTE_BUDGET;
    if (this.now() - this.lastRecomputeAt < wait) return;
    await this.recomputeOne(runId);
  }

  /** Re-measures pending snapshots at full speed while nothing trains. */
  private startBackground(): void {
    if (!this.analysis || this.analysis.pendingRecomputes === 0 || this.backgroundDone) return;
    const runId = this.runId;
    this.backgroundDone = (async () => {
      while (this.runId === runId && this.status !== 'running' && this.analysis && this.analysis.pendingRecomputes > 0) {
        await this.recomputeOne(runId);
        await this.yieldToEvents();
      }
    })()
      .catch((err) => this.fail(err))
      .finally(() => {
        this.backgroundDone = null;
      });
  }

  private async recomputeOne(runId: number): Promise<void> {
    const prepared = this.analysis?.prepareRecompute();
    if (!prepared) return;
    const t0 = this.now();
    const values = (await prepared.tensor.data()) as Float32Array;
    prepared.tensor.dispose();
    this.recomputeMs = ema(this.recomputeMs, this.now() - t0);
    this.lastRecomputeAt = this.now();
    if (this.runId !== runId || !this.analysis) return;
    const { version, row } = prepared.finish(values);
    if (version !== this.analysis.keyFreqs.version) return;
    this.opts.post({ type: 'recomputed', runId, version, rows: [row], remaining: this.analysis.pendingRecomputes });
  }

  private async inspect(epoch: number): Promise<void> {
    if (!this.analysis) return;
    const runId = this.runId;
    const prepared = this.analysis.prepareInspect(epoch);
    const values = (await prepared.tensor.data()) as Float32Array;
    prepared.tensor.dispose();
    if (this.runId !== runId) return;
    this.opts.post({ type: 'heavy', runId, result: prepared.finish(values), latest: false });
  }

  private async consume(block: PendingBlock, runId: number): Promise<void> {
    const [lossValues, checkpointValues] = await Promise.all([block.loss?.data(), block.checkpoint?.tensor.data()]);
    block.loss?.dispose();
    block.checkpoint?.tensor.dispose();
    if (this.runId !== runId || !this.trainer) return;
    // Blocks queued after a rollback trained on poisoned weights: drop them.
    if (this.rolledBackTo !== null && block.endEpoch > this.rolledBackTo) return;
    const end = this.now();
    const elapsed = Math.max(end - this.lastBlockEnd, 1e-3);
    this.lastBlockEnd = end;
    this.trainMs += elapsed;
    this.adapt(block, elapsed);
    const loss = lossValues ? lossValues[0] : NaN;
    const metricsFinite = !checkpointValues || Array.from(checkpointValues.subarray(0, 5)).every(Number.isFinite);
    if ((lossValues && !Number.isFinite(loss)) || !metricsFinite) {
      this.rollBack(block.endEpoch, lossValues && !Number.isFinite(loss) ? loss : NaN);
      return;
    }
    this.opts.post({
      type: 'progress',
      runId,
      epoch: block.endEpoch,
      epochsPerSec: this.epochsPerSec,
      trainSeconds: this.trainMs / 1000,
      trainLoss: loss,
      checkpointEvery: this.checkpointEvery,
    });
    if (block.checkpoint && checkpointValues) {
      this.trainer.confirmGood();
      this.emitCheckpoint(block.checkpoint.finish(checkpointValues as Float32Array), true);
    }
  }

  /** NaN or Infinity appeared: pause, and go back to the last checkpoint whose metrics were finite. */
  private rollBack(epoch: number, loss: number): void {
    const trainer = this.trainer!;
    const restored = trainer.restoreGood();
    if (this.status === 'running') this.setStatus('paused');
    if (restored === null) {
      this.opts.post({ type: 'error', runId: this.runId, fault: 'nan', fatal: false, message: `The training loss became ${loss} at epoch ${epoch} and there is no earlier good state; reset the run, with a lower learning rate.` });
      return;
    }
    this.rolledBackTo = restored;
    this.analysis?.snapshots.truncateAfter(restored);
    this.opts.post({
      type: 'error',
      runId: this.runId,
      fault: 'nan',
      fatal: false,
      message: `The training loss became ${loss} at epoch ${epoch}. Training is paused and the run is back at epoch ${restored}, its last good checkpoint (weights and Adam moments). Lower the learning rate before resuming.`,
    });
  }

  /** Updates the speed estimate, the block length and the checkpoint interval. */
  private adapt(block: PendingBlock, elapsedMs: number): void {
    const measuring = block.checkpoint ? (this.checkpointMs || 0) + (block.heavy ? this.heavyMs || 0 : 0) : 0;
    const trainMs = Math.max(elapsedMs - measuring, elapsedMs / 2);
    this.msPerEpoch = ema(this.msPerEpoch, trainMs / block.updates);
    this.epochsPerSec = 1000 / this.msPerEpoch;
    const ideal = PROGRESS_INTERVAL_MS / this.msPerEpoch;
    this.stepsPerBlock = Math.max(1, Math.min(MAX_BLOCK, Math.round(0.5 * this.stepsPerBlock + 0.5 * ideal)));
    if (!this.fixedEvery) {
      const minEpochs = Math.max(MIN_CHECKPOINT_INTERVAL_MS, (this.checkpointMs || 0) / EVAL_BUDGET) / this.msPerEpoch;
      const every = NICE_INTERVALS.find((n) => n >= minEpochs) ?? NICE_INTERVALS[NICE_INTERVALS.length - 1];
      if (every !== this.checkpointEvery) {
        this.checkpointEvery = every;
        this.nextCheckpoint = this.alignCheckpoint(this.trainer!.epoch);
      }
    }
  }

  private setStatus(status: RunStatus): void {
    this.status = status;
    this.opts.post({ type: 'status', runId: this.runId, status, epoch: this.trainer?.epoch ?? 0 });
  }

  private fail(err: unknown): void {
    let message = err instanceof Error ? err.message : String(err);
    const oom = err instanceof MemoryLimitError || /out of memory|\boom\b|allocat(e|ion) failed|Array buffer allocation/i.test(message);
    if (oom && !(err instanceof MemoryLimitError)) {
      message = `Training ran out of memory on ${this.opts.backendInfo().name} (${message}). Choose a smaller P or model and press Reset.`;
    }
    this.opts.post({ type: 'error', runId: this.runId, message, fatal: !this.trainer, fault: oom ? 'out-of-memory' : undefined });
    this.status = this.trainer ? 'paused' : 'error';
    this.opts.post({ type: 'status', runId: this.runId, status: this.status, epoch: this.trainer?.epoch ?? 0 });
  }

  /** Whether a new config differs from the running one in anything that needs a reset. */
  needsReset(config: TrainConfig): boolean {
    if (!this.trainer) return true;
    const live = { ...this.trainer.config, lr: config.lr, weightDecay: config.weightDecay, grokfastLambda: config.grokfastLambda, epochs: config.epochs };
    return !configsEqual(live, config);
  }

  dispose(): void {
    this.runId += 1;
    this.status = 'paused';
    this.analysis?.dispose();
    this.analysis = null;
    this.trainer?.dispose();
    this.trainer = null;
  }
}

/** The measures of a checkpoint taken without analysis. */
function emptyMeasures(): Omit<Checkpoint, 'epoch' | 'trainLoss' | 'testLoss' | 'trainAcc' | 'testAcc' | 'sumSquaredWeights' | 'lr' | 'weightDecay'> {
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
  };
}

/** A configuration refused because it cannot fit the device (the message names the limit). */
export class MemoryLimitError extends Error {
  override name = 'MemoryLimitError';
}
