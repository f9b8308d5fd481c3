/**
 * Owns a training session's commands and status: it builds a run (a trainer, its analysis, its
 * block loop and measure scheduler), answers each command in order, and reports faults. It is
 * independent of where it runs: the Web Worker wires it to postMessage, the CLI to a terminal, the
 * tests to an array. The loop lives in block-loop.ts, the measuring in measure-scheduler.ts.
 */
import type { BackendInfo } from '../../config/backends.ts';
import type { LlcSchedule } from '../../config/llc.ts';
import { checkKeyFreqs } from '../../config/keyfreqs.ts';
import { configsEqual, type TrainConfig } from '../../config/schema.ts';
import { checkMemory, type DeviceLimits } from '../../model/memory.ts';
import { unflattenWeights } from '../../model/transformer/params.ts';
import type { Trainer, TrainerOptions } from '../../model/trainer.ts';
import type { Command, LiveSettings, LoadableRun, RunStatus, WorkerEvent } from '../../run/protocol.ts';
import { checkRecordedLoss } from '../../run/recompute-loss.ts';
import { BlockLoop } from './block-loop.ts';
import { MeasureScheduler } from './measure-scheduler.ts';
import { RunAnalysis } from '../analysis/run-analysis.ts';
import { postExportedState, type RunContext } from './run-context.ts';

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
  /** Send every checkpoint's state before it (the page makes it durable before showing it). */
  durableCheckpoints?: boolean;
  /** Makes another backend the active one (moveBackend); absent: the run never moves. */
  switchBackend?: (info: BackendInfo) => Promise<void>;
  /** Lets queued messages in between blocks; default: a macrotask. */
  yieldToEvents?: () => Promise<void>;
}

/** A run as built: its trainer and analysis, and the parts that train and measure it. */
interface BuiltRun {
  context: RunContext;
  loop: BlockLoop;
  measures: MeasureScheduler;
  /** The build's ticket (a moved run keeps it). */
  ticket: number;
  /** Ends the work in flight of these parts (the run moved to new ones). */
  retire(): void;
}

export class TrainingSession {
  private run: BuiltRun | null = null;
  private runId = 0;
  private status: RunStatus = 'starting';
  private statusAt = 0;
  private readonly withAnalysis: boolean;
  private readonly now: () => number;
  private readonly yieldToEvents: () => Promise<void>;
  /** Commands are handled one at a time, in order. */
  private queue: Promise<void> = Promise.resolve();
  /** Builds (init, reset, load) asked for so far: a run built for an older one is superseded. */
  private buildsAsked = 0;
  /** Train, Resume or Step commands queued and not yet handled. */
  private startsWaiting = 0;
  /** Evidence requests asked: one queued behind a newer is stale (the scheduler keeps only the newest). */
  private evidenceAsked = 0;
  /** The page's LLC over training (null: off); every run built gets it. */
  private llcSchedule: LlcSchedule | null = null;

  constructor(private readonly opts: SessionOptions) {
    this.now = opts.now ?? (() => performance.now());
    this.yieldToEvents = opts.yieldToEvents ?? (() => new Promise((r) => setTimeout(r, 0)));
    this.withAnalysis = opts.analysis ?? true;
  }

  get currentTrainer(): Trainer | null {
    return this.run?.context.trainer ?? null;
  }

  get currentAnalysis(): RunAnalysis | null {
    return this.run?.context.analysis ?? null;
  }

  get currentStatus(): RunStatus {
    return this.status;
  }

  /** Queues a command; resolves when it has been handled (not when training ends). */
  handle(cmd: Command): Promise<void> {
    // Each build is numbered when it is asked for: one that finds a higher number is superseded.
    const ticket = cmd.type === 'init' || cmd.type === 'reset' || cmd.type === 'load' ? ++this.buildsAsked : 0;
    const starts = cmd.type === 'start' || cmd.type === 'resume' || cmd.type === 'step';
    if (starts) this.startsWaiting += 1;
    const evidence = cmd.type === 'evidence' ? ++this.evidenceAsked : 0;
    this.queue = this.queue
      .then(() => {
        if (starts) this.startsWaiting -= 1;
        // A pass for a request the page has replaced would only delay what follows (K, #21).
        if (evidence && evidence < this.evidenceAsked) return;
        return this.dispatch(cmd, ticket);
      })
      .catch((err) => this.fail(err));
    return this.queue;
  }

  /** Resolves when the training loop and background re-measuring (if any) have stopped. */
  async idle(): Promise<void> {
    await this.queue;
    await this.run?.loop.idle();
    await this.run?.measures.idle();
  }

  private async dispatch(cmd: Command, ticket: number): Promise<void> {
    const run = this.run;
    switch (cmd.type) {
      case 'init':
        if (cmd.run) {
          await this.build(ticket, cmd.run.config, cmd.run.keyFreqs?.pinned ? cmd.run.keyFreqs.active : null, cmd.run);
          return;
        }
        await this.build(ticket, cmd.config, cmd.keyFreqs ?? null);
        return;
      case 'reset':
        await this.stopRun();
        await this.build(ticket, cmd.config, cmd.keyFreqs ?? null);
        return;
      case 'load':
        await this.stopRun();
        await this.build(ticket, cmd.run.config, cmd.run.keyFreqs?.pinned ? cmd.run.keyFreqs.active : null, cmd.run);
        return;
      case 'exportState':
        if (run) await postExportedState(run.context, cmd.requestId, cmd.snapshotsAfter);
        return;
      case 'verify': {
        // A throwaway trainer on this backend; the run in hand is not touched.
        let problem: string | null;
        try {
          problem = (await checkRecordedLoss(cmd.config, cmd.trainIndices, cmd.recorded)).problem;
        } catch (err) {
          problem = `its weights cannot be evaluated here (${err instanceof Error ? err.message : String(err)})`;
        }
        this.opts.post({ type: 'verified', runId: this.runId, requestId: cmd.requestId, problem });
        return;
      }
      case 'debug':
        if (cmd.action === 'poison') run?.context.trainer.poison();
        // 'crash' and 'lose-device' concern the worker itself, not the run (train.worker.ts).
        return;
      case 'bench':
        // The worker runs benchmarks beside the session (train.worker.ts).
        return;
      case 'moveBackend':
        await this.move(cmd.backend);
        return;
      case 'start':
      case 'resume':
        if (!run || this.status === 'running') return;
        run.loop.start();
        return;
      case 'step':
        if (!run) return;
        await run.loop.stop();
        run.loop.start(cmd.epochs);
        return;
      case 'pause':
        await run?.loop.stop();
        return;
      case 'set':
        this.applySettings(cmd.settings);
        return;
      case 'setKeyFreqs': {
        if (!run?.context.analysis) return;
        if (cmd.keyFreqs) {
          const problem = checkKeyFreqs(cmd.keyFreqs, run.context.trainer.config.p);
          if (problem) throw new Error(`key frequencies: ${problem}`);
        }
        run.measures.pinKeyFreqs(cmd.keyFreqs);
        return;
      }
      case 'addSnapshots': {
        const analysis = run?.context.analysis;
        if (!run || !analysis) return;
        analysis.insertSnapshots(cmd.snapshots.filter((x) => x.epoch <= run.context.trainer.epoch && x.weights.length === run.context.trainer.flatWeightsLength));
        run.measures.postSnapshots();
        run.measures.startBackground();
        run.measures.llc.startBackground();
        return;
      }
      case 'llc':
        this.llcSchedule = cmd.schedule;
        run?.measures.llc.set(cmd.schedule);
        return;
      case 'inspect':
        await run?.measures.requestInspect(cmd.epoch);
        return;
      case 'evidence':
        await run?.measures.evidence.ask(cmd.request);
        return;
      default: {
        const never: never = cmd;
        throw new Error(`unknown command ${JSON.stringify(never)}`);
      }
    }
  }

  /** Stops the run's loop and its background re-measuring, before it is replaced. */
  private async stopRun(): Promise<void> {
    await this.run?.loop.stop();
    // Retired first: its background passes (a new K over every snapshot, then their evidence) stop
    // after the one in flight instead of holding the new run back (#21: a load waited minutes).
    this.run?.retire();
    await this.run?.measures.idle();
  }

  private applySettings(s: Partial<LiveSettings>): void {
    if (!this.run) return;
    const t = this.run.context.trainer;
    t.setHyper({ lr: s.lr, weightDecay: s.weightDecay, grokfastLambda: s.grokfastLambda, orthoGrad: s.orthoGrad });
    if (s.epochs !== undefined) {
      t.config.epochs = s.epochs;
      this.run.loop.setEpochLimit(s.epochs);
      if (this.status === 'done' && t.epoch < s.epochs) this.setStatus('idle');
    }
  }

  private async build(ticket: number, config: TrainConfig, keyFreqs: number[] | null, loaded?: LoadableRun): Promise<void> {
    freeRun(this.run);
    this.run = null;
    this.runId += 1;
    const id = this.runId;
    this.setStatus('starting');
    const limits = this.opts.limits?.();
    const tooBig = limits ? checkMemory(config, limits) : null;
    if (tooBig) throw new MemoryLimitError(tooBig);
    const last = loaded?.snapshots.at(-1);
    const trainer = this.opts.createTrainer(config, loaded ? { trainIndices: loaded.trainIndices, weights: loaded.resume ? undefined : last ? unflattenWeights(config, last.weights) : undefined } : {});
    if (loaded?.resume) trainer.loadState(loaded.resume);
    else if (last) trainer.setEpoch(last.epoch);
    if (keyFreqs) {
      const problem = checkKeyFreqs(keyFreqs, config.p);
      if (problem) {
        this.opts.post({ type: 'error', runId: id, message: `key frequencies ${keyFreqs.join(', ')}: ${problem}; using the default rule`, fatal: false });
        keyFreqs = null;
      }
    }
    const analysis = this.withAnalysis ? new RunAnalysis(trainer, { pinnedKeyFreqs: keyFreqs, snapshotBudgetBytes: this.opts.snapshotBudgetBytes }) : null;
    if (analysis && loaded) {
      analysis.snapshots.restore(loaded.snapshots.filter((x) => x.epoch <= trainer.epoch));
      if (loaded.keyFreqs) analysis.restoreKeyFreqs(loaded.keyFreqs);
    }
    this.run = this.assemble(id, ticket, trainer, analysis);
    const measures = this.run.measures;
    measures.llc.restore(loaded?.llc);
    this.opts.post({
      type: 'ready',
      runId: id,
      backend: this.opts.backendInfo(),
      numParams: trainer.flatWeightsLength,
      nTrain: trainer.dataset.train.length,
      nTest: trainer.dataset.test.length,
      config: { ...trainer.config },
      loadedAt: loaded ? trainer.epoch : null,
    });
    measures.postKeyFreqs();
    if (loaded) measures.postSnapshots();
    if (this.buildsAsked === ticket) await measures.first();
    this.setStatus(trainer.epoch >= config.epochs ? 'done' : 'idle');
    measures.llc.startBackground();
  }

  /** A run's parts around its trainer and analysis; `retired()` ends its work when it moves. */
  private assemble(id: number, ticket: number, trainer: Trainer, analysis: RunAnalysis | null): BuiltRun {
    let retired = false;
    const context: RunContext = {
      id,
      trainer,
      analysis,
      post: (event) => this.opts.post(event),
      now: this.now,
      yieldToEvents: this.yieldToEvents,
      durableCheckpoints: this.opts.durableCheckpoints ?? false,
      current: () => this.runId === id && !retired,
      superseded: () => this.buildsAsked !== ticket,
      startWaiting: () => this.startsWaiting > 0,
      status: () => this.status,
      statusAge: () => this.now() - this.statusAt,
      setStatus: (status) => this.setStatus(status),
      fail: (err) => this.fail(err),
    };
    const measures = new MeasureScheduler(context);
    measures.llc.set(this.llcSchedule);
    return { context, measures, loop: new BlockLoop(context, measures, this.opts.checkpointEvery), ticket, retire: () => (retired = true) };
  }

  /**
   * Moves the run to another backend (#25): at its next checkpoint if it trains, else now. The
   * weights, Adam moments, split, snapshots and K go over as values, so it continues as a run
   * started there would (test/worker/move-backend.test.ts); the page keeps its history.
   */
  private async move(info: BackendInfo): Promise<void> {
    const run = this.run;
    const switchTo = this.opts.switchBackend;
    const current = this.opts.backendInfo();
    if (!run || !switchTo || (info.name === current.name && info.adapter === current.adapter)) {
      await switchTo?.(info);
      // Without a run (its build failed) the page still learns the choice: a Reset builds there.
      this.opts.post({ type: 'backend', runId: run ? run.context.id : -1, backend: this.opts.backendInfo(), epoch: run?.context.trainer.epoch ?? 0 });
      return;
    }
    const going = await run.loop.haltAtCheckpoint();
    const { trainer, analysis, id } = run.context;
    const state = await trainer.readState();
    const snapshots = analysis?.snapshots.all().map((x) => ({ epoch: x.epoch, weights: x.weights.slice() })) ?? [];
    const keyFreqs = analysis?.keyFreqs ?? null;
    const carried = run.loop.carried();
    try {
      await switchTo(info);
    } catch (err) {
      // It does not start here after all: the run goes on where it is, and says why.
      await switchTo(current).catch(() => undefined);
      this.opts.post({ type: 'error', runId: id, fatal: false, message: `The run stays on ${current.name}: ${info.name} did not start in the training worker (${err instanceof Error ? err.message : String(err)}).` });
      if (going) run.loop.start(going.step);
      return;
    }
    run.retire();
    await run.measures.idle();
    this.run = null;
    freeRun(run);
    const moved = this.opts.createTrainer(trainer.config, { trainIndices: trainer.dataset.train });
    moved.loadState(state);
    const again = this.withAnalysis ? new RunAnalysis(moved, { pinnedKeyFreqs: keyFreqs?.pinned ? keyFreqs.active : null, snapshotBudgetBytes: this.opts.snapshotBudgetBytes }) : null;
    if (again) {
      again.snapshots.restore(snapshots);
      if (keyFreqs) again.restoreKeyFreqs(keyFreqs);
    }
    this.run = this.assemble(id, run.ticket, moved, again);
    this.run.loop.carry(carried);
    this.run.measures.llc.restore(run.measures.llc.estimates());
    this.opts.post({ type: 'backend', runId: id, backend: this.opts.backendInfo(), epoch: moved.epoch });
    if (going) this.run.loop.start(going.step);
    else this.run.measures.llc.startBackground();
  }

  private setStatus(status: RunStatus): void {
    this.status = status;
    this.statusAt = this.now();
    this.opts.post({ type: 'status', runId: this.runId, status, epoch: this.currentTrainer?.epoch ?? 0 });
  }

  private fail(err: unknown): void {
    let message = err instanceof Error ? err.message : String(err);
    const oom = err instanceof MemoryLimitError || /out of memory|\boom\b|allocat(e|ion) failed|Array buffer allocation/i.test(message);
    if (oom && !(err instanceof MemoryLimitError)) {
      message = `Training ran out of memory on ${this.opts.backendInfo().name} (${message}). Choose a smaller P or model and press Reset.`;
    }
    const trainer = this.currentTrainer;
    this.opts.post({ type: 'error', runId: this.runId, message, fatal: !trainer, fault: oom ? 'out-of-memory' : undefined });
    this.status = trainer ? 'paused' : 'error';
    this.opts.post({ type: 'status', runId: this.runId, status: this.status, epoch: trainer?.epoch ?? 0 });
  }

  /** Whether a new config differs from the running one in anything that needs a reset. */
  needsReset(config: TrainConfig): boolean {
    const trainer = this.currentTrainer;
    if (!trainer) return true;
    const live = { ...trainer.config, lr: config.lr, weightDecay: config.weightDecay, grokfastLambda: config.grokfastLambda, orthoGrad: config.orthoGrad, epochs: config.epochs };
    return !configsEqual(live, config);
  }

  dispose(): void {
    this.runId += 1;
    this.status = 'paused';
    freeRun(this.run);
    this.run = null;
  }
}

/** Frees a run's tensors: its LLC estimate in flight, its analysis, its trainer. */
function freeRun(run: BuiltRun | null): void {
  run?.measures.llc.dispose();
  run?.context.analysis?.dispose();
  run?.context.trainer.dispose();
}

/** A configuration refused because it cannot fit the device (the message names the limit). */
export class MemoryLimitError extends Error {
  override name = 'MemoryLimitError';
}
