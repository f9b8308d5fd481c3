/**
 * The training loop and command handling, independent of where it runs: the Web Worker wires it
 * to postMessage, the CLI to a terminal, the tests to an array.
 *
 * The loop never waits on the GPU for every epoch. It queues a block of K updates, starts an
 * asynchronous read of the block's last loss (and of a checkpoint's metrics when one is due),
 * and only then waits for the *previous* block's read, so one block is always queued behind the
 * one being read. K adapts so that the page hears from the worker a few times a second; the
 * checkpoint interval adapts so that evaluation costs at most a tenth of the time.
 */
import * as tf from '@tensorflow/tfjs-core';
import { configsEqual, type TrainConfig } from '../config/schema.ts';
import { toEvalMetrics, type Trainer } from '../model/trainer.ts';
import type { BackendInfo, Checkpoint, Command, LiveSettings, RunStatus, WorkerEvent } from './protocol.ts';

/** Target time between progress events (and so the length of a block of updates). */
export const PROGRESS_INTERVAL_MS = 250;
/** Evaluating a checkpoint may take at most this share of the training time. */
export const EVAL_BUDGET = 0.1;
/** At most this many checkpoints a second, however fast training runs. */
export const MIN_CHECKPOINT_INTERVAL_MS = 200;
/** Checkpoint intervals, in epochs, are chosen from these so that curves sample round epochs. */
export const NICE_INTERVALS = [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000];
/** Upper bound on updates queued in one block. */
export const MAX_BLOCK = 1000;

export interface SessionOptions {
  /** Builds a trainer for a configuration on the active backend (may throw, e.g. out of memory). */
  createTrainer: (config: TrainConfig) => Trainer;
  post: (event: WorkerEvent) => void;
  /** Describes the active backend for the 'ready' event. */
  backendInfo: () => BackendInfo;
  /** Fixed checkpoint interval in epochs (the CLI's --every); adaptive when absent. */
  checkpointEvery?: number;
  now?: () => number;
  /** Lets queued messages in between blocks; default: a macrotask. */
  yieldToEvents?: () => Promise<void>;
}

interface PendingBlock {
  /** Loss of the block's last update, cloned so later steps may free the original. */
  loss: tf.Scalar | null;
  metrics: tf.Tensor1D | null;
  endEpoch: number;
  updates: number;
  hyper: { lr: number; weightDecay: number };
}

export class TrainingSession {
  private trainer: Trainer | null = null;
  private runId = 0;
  private status: RunStatus = 'starting';
  /** Training stops at this epoch: the config's epochs, or the end of a Step. */
  private stopAt = 0;
  private stopIsStep = false;
  private loopDone: Promise<void> | null = null;
  private stepsPerBlock = 1;
  private checkpointEvery: number;
  private readonly fixedEvery: boolean;
  private nextCheckpoint = 0;
  private msPerEpoch = NaN;
  private evalMs = NaN;
  private epochsPerSec = 0;
  private lastBlockEnd = 0;
  private readonly now: () => number;
  private readonly yieldToEvents: () => Promise<void>;
  /** Commands are handled one at a time, in order. */
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly opts: SessionOptions) {
    this.now = opts.now ?? (() => performance.now());
    this.yieldToEvents = opts.yieldToEvents ?? (() => new Promise((r) => setTimeout(r, 0)));
    this.fixedEvery = opts.checkpointEvery !== undefined;
    this.checkpointEvery = opts.checkpointEvery ?? 1;
  }

  get currentTrainer(): Trainer | null {
    return this.trainer;
  }

  get currentStatus(): RunStatus {
    return this.status;
  }

  /** Queues a command; resolves when it has been handled (not when training ends). */
  handle(cmd: Command): Promise<void> {
    this.queue = this.queue.then(() => this.dispatch(cmd)).catch((err) => this.fail(err));
    return this.queue;
  }

  /** Resolves when the training loop (if any) has stopped. */
  async idle(): Promise<void> {
    await this.queue;
    await this.loopDone;
  }

  private async dispatch(cmd: Command): Promise<void> {
    switch (cmd.type) {
      case 'init':
      case 'reset':
        await this.stopLoop();
        await this.build(cmd.config);
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

  private async build(config: TrainConfig): Promise<void> {
    const previous = this.trainer;
    this.trainer = null;
    previous?.dispose();
    this.runId += 1;
    this.setStatus('starting');
    const trainer = this.opts.createTrainer(config);
    this.trainer = trainer;
    this.stepsPerBlock = 1;
    this.msPerEpoch = NaN;
    this.evalMs = NaN;
    this.epochsPerSec = 0;
    if (!this.fixedEvery) this.checkpointEvery = 1;
    this.opts.post({
      type: 'ready',
      runId: this.runId,
      backend: this.opts.backendInfo(),
      numParams: Object.values(trainer.paramTensors).reduce((n, p) => n + p.size, 0),
      nTrain: trainer.dataset.train.length,
      nTest: trainer.dataset.test.length,
      config: { ...trainer.config },
    });
    // Epoch 0, before any update; also times one evaluation for the checkpoint cadence.
    const t0 = this.now();
    const metrics = await trainer.evaluateAsync();
    this.evalMs = this.now() - t0;
    this.postCheckpoint({ ...metrics, epoch: trainer.epoch, lr: trainer.hyper.lr, weightDecay: trainer.hyper.weightDecay });
    this.nextCheckpoint = trainer.epoch + this.checkpointEvery;
    this.setStatus(trainer.epoch >= config.epochs ? 'done' : 'idle');
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
    this.loopDone = this.loop(this.runId).catch((err) => this.fail(err));
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
      const block: PendingBlock = {
        loss: trainer.lastTrainLoss ? tf.clone(trainer.lastTrainLoss) : null,
        metrics: due ? trainer.evaluate() : null,
        endEpoch,
        updates,
        hyper: { lr: trainer.hyper.lr, weightDecay: trainer.hyper.weightDecay },
      };
      if (due) this.nextCheckpoint = this.alignCheckpoint(endEpoch);
      // Read the previous block while this one runs on the device.
      if (pending) await this.consume(pending, runId);
      pending = block;
      await this.yieldToEvents();
    }
    if (pending) await this.consume(pending, runId);
    if (this.runId !== runId) return;
    if (this.status === 'running' || trainer.epoch >= this.stopAt) {
      const finished = trainer.epoch >= trainer.config.epochs && !this.stopIsStep;
      this.setStatus(finished ? 'done' : 'paused');
    }
  }

  private async consume(block: PendingBlock, runId: number): Promise<void> {
    const [lossValues, metricValues] = await Promise.all([block.loss?.data(), block.metrics?.data()]);
    block.loss?.dispose();
    block.metrics?.dispose();
    if (this.runId !== runId || !this.trainer) return;
    const end = this.now();
    const elapsed = Math.max(end - this.lastBlockEnd, 1e-3);
    this.lastBlockEnd = end;
    this.adapt(block, elapsed);
    const loss = lossValues ? lossValues[0] : NaN;
    this.opts.post({
      type: 'progress',
      runId,
      epoch: block.endEpoch,
      epochsPerSec: this.epochsPerSec,
      trainLoss: loss,
      checkpointEvery: this.checkpointEvery,
    });
    if (metricValues) {
      this.postCheckpoint({ ...toEvalMetrics(metricValues), epoch: block.endEpoch, ...block.hyper });
    }
    if (lossValues && !Number.isFinite(loss)) {
      this.opts.post({
        type: 'error',
        runId,
        message: `The training loss became ${loss} at epoch ${block.endEpoch}; training is paused. Lower the learning rate or reset.`,
        fatal: false,
      });
      if (this.status === 'running') this.setStatus('paused');
    }
  }

  /** Updates the speed estimate, the block length and the checkpoint interval. */
  private adapt(block: PendingBlock, elapsedMs: number): void {
    const trainMs = block.metrics ? Math.max(elapsedMs - (this.evalMs || 0), elapsedMs / 2) : elapsedMs;
    const msPerEpoch = trainMs / block.updates;
    this.msPerEpoch = Number.isFinite(this.msPerEpoch) ? 0.7 * this.msPerEpoch + 0.3 * msPerEpoch : msPerEpoch;
    this.epochsPerSec = 1000 / this.msPerEpoch;
    const ideal = PROGRESS_INTERVAL_MS / this.msPerEpoch;
    this.stepsPerBlock = Math.max(1, Math.min(MAX_BLOCK, Math.round(0.5 * this.stepsPerBlock + 0.5 * ideal)));
    if (block.metrics && Number.isFinite(this.evalMs)) {
      // A block with an evaluation took longer than its updates alone: that excess is the eval.
      const excess = elapsedMs - block.updates * this.msPerEpoch;
      if (excess > 0) this.evalMs = 0.7 * this.evalMs + 0.3 * excess;
    }
    if (!this.fixedEvery) {
      const minEpochs = Math.max(MIN_CHECKPOINT_INTERVAL_MS, this.evalMs / EVAL_BUDGET) / this.msPerEpoch;
      const every = NICE_INTERVALS.find((n) => n >= minEpochs) ?? NICE_INTERVALS[NICE_INTERVALS.length - 1];
      if (every !== this.checkpointEvery) {
        this.checkpointEvery = every;
        this.nextCheckpoint = this.alignCheckpoint(this.trainer!.epoch);
      }
    }
  }

  private postCheckpoint(checkpoint: Checkpoint): void {
    this.opts.post({ type: 'checkpoint', runId: this.runId, checkpoint });
  }

  private setStatus(status: RunStatus): void {
    this.status = status;
    this.opts.post({ type: 'status', runId: this.runId, status, epoch: this.trainer?.epoch ?? 0 });
  }

  private fail(err: unknown): void {
    const message = err instanceof Error ? err.message : String(err);
    this.opts.post({ type: 'error', runId: this.runId, message, fatal: !this.trainer });
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
    this.trainer?.dispose();
    this.trainer = null;
  }
}
