/**
 * Owns the training loop of one run and its cadence: blocks of updates, when checkpoints fall, the
 * speed estimate, and the NaN rollback.
 *
 * The loop never waits on the GPU for every epoch. It queues a block of updates, starts an
 * asynchronous read of the block's last loss (and of a checkpoint's metrics and measures when one
 * is due), and only then waits for the *previous* block's read, so one block is always queued
 * behind the one being read. The block length adapts so that the page hears from the worker a few
 * times a second; the checkpoint interval adapts so that measuring costs a bounded share of the time
 * (EVAL_BUDGET here, plus HEAVY_BUDGET and RECOMPUTE_BUDGET in measure-scheduler.ts: ≤ 15% in all).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { TrainerState } from '../../model/trainer.ts';
import { ema, type MeasureScheduler } from './measure-scheduler.ts';
import type { CheckpointOutcome, Prepared } from '../analysis/run-analysis.ts';
import type { RunContext } from './run-context.ts';

/** Target time between progress events (and so the length of a block of updates). */
export const PROGRESS_INTERVAL_MS = 250;
/** Checkpoints (metrics + cheap measures) may take at most this share of the training time. */
export const EVAL_BUDGET = 0.07;
/** At most this many checkpoints a second, however fast training runs. */
export const MIN_CHECKPOINT_INTERVAL_MS = 200;
/** Checkpoint intervals, in epochs, are chosen from these so that curves sample round epochs. */
export const NICE_INTERVALS = [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000];
/** Upper bound on updates queued in one block. */
export const MAX_BLOCK = 1000;

interface PendingBlock {
  /** Loss of the block's last update, cloned so later steps may free the original. */
  loss: tf.Scalar | null;
  checkpoint: Prepared<CheckpointOutcome> | null;
  /** The weights and moments at the checkpoint, read with it (durable checkpoints only). */
  state: Promise<TrainerState> | null;
  heavy: boolean;
  endEpoch: number;
  updates: number;
}

export class BlockLoop {
  /** Training stops at this epoch: the config's epochs, or the end of a Step. */
  private stopAt = 0;
  private stopIsStep = false;
  private loopDone: Promise<void> | null = null;
  private stepsPerBlock = 1;
  private checkpointEvery: number;
  private readonly fixedEvery: boolean;
  private nextCheckpoint: number;
  private msPerEpoch = NaN;
  private epochsPerSec = 0;
  private lastBlockEnd = 0;
  /** Wall time this run has spent training (pauses excluded), for "time to grok". */
  private trainMs = 0;
  /** After a NaN rolled the run back to this epoch, blocks read later than it are discarded. */
  private rolledBackTo: number | null = null;
  /**
   * The first checkpoint after Train is read at once, light (no heavy pass) and with nothing
   * measured between blocks before it: the curves get their first points within a second of the
   * press, whatever the cadence later (issue #25; the heavy pass and §4's evidence follow).
   */
  private firstAfterStart = false;
  /** Blocks after that first checkpoint still free of between-block measuring (its save asks for the state). */
  private quietBlocks = 0;
  /** The loop ends at its next checkpoint, status untouched: the run moves to another backend. */
  private halting = false;

  /** `checkpointEvery`: a fixed interval in epochs (the CLI's --every); adaptive when absent. */
  constructor(
    private readonly run: RunContext,
    private readonly measures: MeasureScheduler,
    checkpointEvery?: number,
  ) {
    this.fixedEvery = checkpointEvery !== undefined;
    this.checkpointEvery = checkpointEvery ?? 1;
    this.nextCheckpoint = run.trainer.epoch + this.checkpointEvery;
  }

  /** Trains until the config's epoch limit (`step`: exactly `step` more updates, then pauses). */
  start(step?: number): void {
    const t = this.run.trainer;
    this.stopIsStep = step !== undefined;
    this.stopAt = step !== undefined ? t.epoch + Math.max(1, Math.floor(step)) : t.config.epochs;
    if (t.epoch >= this.stopAt) {
      this.run.setStatus(this.stopIsStep ? 'paused' : 'done');
      return;
    }
    this.run.setStatus('running');
    this.firstAfterStart = true;
    this.nextCheckpoint = this.alignCheckpoint(t.epoch);
    this.lastBlockEnd = this.run.now();
    this.loopDone = this.loop()
      .then(() => this.afterLoop())
      .catch((err) => this.run.fail(err));
  }

  /** Stops after the block in flight; resolves once everything queued has been read. */
  async stop(): Promise<void> {
    if (this.run.status() === 'running') this.run.setStatus('paused');
    await this.loopDone;
    this.loopDone = null;
  }

  /**
   * Ends the loop right after its next checkpoint, leaving the status 'running' and skipping the
   * after-training work, so the run can move to another backend and go on (#25). Returns what the
   * loop was doing (null: it was not running), for `start` on the new backend.
   */
  async haltAtCheckpoint(): Promise<{ step: number | undefined } | null> {
    if (!this.loopDone || this.run.status() !== 'running') return null;
    this.halting = true;
    const end = this.stopAt;
    const isStep = this.stopIsStep;
    this.stopAt = Math.min(this.stopAt, this.nextCheckpoint);
    await this.loopDone;
    this.loopDone = null;
    this.halting = false;
    const epoch = this.run.trainer.epoch;
    // A NaN paused it meanwhile (rolled back), or it reached its end: nothing to go on with.
    if (this.run.status() !== 'running' || epoch >= end) return null;
    return { step: isStep ? end - epoch : undefined };
  }

  /** What a loop on another backend continues from: the cadence and the training time. */
  carried(): { checkpointEvery: number; trainMs: number } {
    return { checkpointEvery: this.checkpointEvery, trainMs: this.trainMs };
  }

  /** Continues the cadence and the training time of the loop this one replaces. */
  carry(from: { checkpointEvery: number; trainMs: number }): void {
    if (!this.fixedEvery) this.checkpointEvery = from.checkpointEvery;
    this.trainMs = from.trainMs;
    this.nextCheckpoint = this.alignCheckpoint(this.run.trainer.epoch);
  }

  /** Resolves when the loop has stopped by itself or been stopped. */
  async idle(): Promise<void> {
    await this.loopDone;
  }

  /** A live change of the epoch limit (a Step in progress keeps its own end). */
  setEpochLimit(epochs: number): void {
    if (!this.stopIsStep) this.stopAt = epochs;
  }

  private alignCheckpoint(epoch: number): number {
    return (Math.floor(epoch / this.checkpointEvery) + 1) * this.checkpointEvery;
  }

  private async loop(): Promise<void> {
    const { trainer } = this.run;
    let pending: PendingBlock | null = null;
    while (this.run.status() === 'running' && this.run.current()) {
      const epoch = trainer.epoch;
      if (epoch >= this.stopAt) break;
      const target = Math.min(this.stopAt, this.nextCheckpoint);
      const updates = Math.max(1, Math.min(this.stepsPerBlock, target - epoch));
      for (let i = 0; i < updates; i++) trainer.trainStep();
      const endEpoch = trainer.epoch;
      const due = endEpoch >= this.nextCheckpoint || endEpoch >= this.stopAt;
      if (due) trainer.markCandidate();
      const first = due && this.firstAfterStart;
      const heavy = due && !first && this.measures.takeHeavy();
      const block: PendingBlock = {
        loss: trainer.lastTrainLoss ? tf.clone(trainer.lastTrainLoss) : null,
        checkpoint: due ? this.measures.prepareCheckpoint(heavy) : null,
        // Queued now, so it holds the state at endEpoch even though the next block runs before it is read.
        state: due && this.run.durableCheckpoints ? trainer.readState() : null,
        heavy,
        endEpoch,
        updates,
      };
      if (due) this.nextCheckpoint = this.alignCheckpoint(endEpoch);
      // Read the previous block while this one runs on the device.
      if (pending) await this.consume(pending);
      pending = block;
      if (first) {
        // Shown now rather than after the next block: the first points of the curves.
        this.firstAfterStart = false;
        this.quietBlocks = 2;
        await this.consume(block);
        pending = null;
      }
      if (this.quietBlocks > 0) this.quietBlocks -= 1;
      else if (!this.firstAfterStart) await this.measures.betweenBlocks();
      await this.run.yieldToEvents();
    }
    if (pending) await this.consume(pending);
  }

  /** After the loop: the final status, then the measures' own after-work. */
  private async afterLoop(): Promise<void> {
    if (!this.run.current()) return;
    const { trainer } = this.run;
    const halted = this.halting;
    if (this.rolledBackTo !== null) {
      // Show the restored state: a checkpoint at the good epoch replaces the poisoned ones.
      this.rolledBackTo = null;
      const again = this.measures.prepareCheckpoint(false);
      const values = (await again.tensor.data()) as Float32Array;
      again.tensor.dispose();
      if (!this.run.current()) return;
      this.measures.emit(again.finish(values), false);
    }
    if (halted) return;
    if (this.run.status() === 'running' || trainer.epoch >= this.stopAt) {
      const finished = trainer.epoch >= trainer.config.epochs && !this.stopIsStep;
      this.run.setStatus(finished ? 'done' : 'paused');
    }
    await this.measures.afterTraining();
  }

  private async consume(block: PendingBlock): Promise<void> {
    const [lossValues, checkpointValues, state] = await Promise.all([block.loss?.data(), block.checkpoint?.tensor.data(), block.state]);
    block.loss?.dispose();
    block.checkpoint?.tensor.dispose();
    if (!this.run.current()) return;
    // Blocks queued after a rollback trained on poisoned weights: drop them.
    if (this.rolledBackTo !== null && block.endEpoch > this.rolledBackTo) return;
    const end = this.run.now();
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
    this.run.post({
      type: 'progress',
      runId: this.run.id,
      epoch: block.endEpoch,
      epochsPerSec: this.epochsPerSec,
      trainSeconds: this.trainMs / 1000,
      trainLoss: loss,
      checkpointEvery: this.checkpointEvery,
    });
    if (block.checkpoint && checkpointValues) {
      this.run.trainer.confirmGood();
      if (state) this.postState(state);
      this.measures.emit(block.checkpoint.finish(checkpointValues as Float32Array), true);
    }
  }

  /** The checkpoint's state, just before the checkpoint itself (the page saves it, then shows both). */
  private postState(resume: TrainerState): void {
    const { trainer, analysis } = this.run;
    this.run.post({
      type: 'checkpointState',
      runId: this.run.id,
      state: { epoch: resume.t, config: { ...trainer.config }, trainIndices: trainer.dataset.train, keyFreqs: analysis?.keyFreqs ?? null, snapshots: [], snapshotEpochs: [], resume },
    });
  }

  /** NaN or Infinity appeared: pause, and go back to the last checkpoint whose metrics were finite. */
  private rollBack(epoch: number, loss: number): void {
    const { trainer, post, id } = this.run;
    const restored = trainer.restoreGood();
    if (this.run.status() === 'running') this.run.setStatus('paused');
    if (restored === null) {
      post({ type: 'error', runId: id, fault: 'nan', fatal: false, message: `The training loss became ${loss} at epoch ${epoch} and there is no earlier good state; reset the run, with a lower learning rate.` });
      return;
    }
    this.rolledBackTo = restored;
    this.run.analysis?.snapshots.truncateAfter(restored);
    post({
      type: 'error',
      runId: id,
      fault: 'nan',
      fatal: false,
      message: `The training loss became ${loss} at epoch ${epoch}. Training is paused and the run is back at epoch ${restored}, its last good checkpoint (weights and Adam moments). Lower the learning rate before resuming.`,
    });
  }

  /** Updates the speed estimate, the block length and the checkpoint interval. */
  private adapt(block: PendingBlock, elapsedMs: number): void {
    const { checkpointMs, heavyMs } = this.measures;
    const measuring = block.checkpoint ? (checkpointMs || 0) + (block.heavy ? heavyMs || 0 : 0) : 0;
    const trainMs = Math.max(elapsedMs - measuring, elapsedMs / 2);
    this.msPerEpoch = ema(this.msPerEpoch, trainMs / block.updates);
    this.epochsPerSec = 1000 / this.msPerEpoch;
    const ideal = PROGRESS_INTERVAL_MS / this.msPerEpoch;
    this.stepsPerBlock = Math.max(1, Math.min(MAX_BLOCK, Math.round(0.5 * this.stepsPerBlock + 0.5 * ideal)));
    if (!this.fixedEvery) {
      const minEpochs = Math.max(MIN_CHECKPOINT_INTERVAL_MS, (checkpointMs || 0) / EVAL_BUDGET) / this.msPerEpoch;
      const every = NICE_INTERVALS.find((n) => n >= minEpochs) ?? NICE_INTERVALS[NICE_INTERVALS.length - 1];
      if (every !== this.checkpointEvery) {
        this.checkpointEvery = every;
        this.nextCheckpoint = this.alignCheckpoint(this.run.trainer.epoch);
      }
    }
  }
}
