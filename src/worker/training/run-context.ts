/** Owns nothing: the view of the run in hand that the parts of a training session share. */
import type { Trainer } from '../../model/trainer.ts';
import type { RunStatus, WorkerEvent } from '../../run/protocol.ts';
import type { RunAnalysis } from '../analysis/run-analysis.ts';

/**
 * One built run, as session.ts hands it to the block loop (block-loop.ts) and the measure
 * scheduler (measure-scheduler.ts). A reset or a load builds a new run: work still in flight for
 * the old one sees `current()` turn false and drops its result.
 */
export interface RunContext {
  readonly id: number;
  readonly trainer: Trainer;
  /** Null when the session measures nothing (to time training alone). */
  readonly analysis: RunAnalysis | null;
  post(event: WorkerEvent): void;
  now(): number;
  /** Lets queued commands in between blocks. */
  yieldToEvents(): Promise<void>;
  /** A newer build (reset, load) is queued: this run will be replaced, so skip optional work. */
  superseded(): boolean;
  /** Train was pressed while the run was built: its first checkpoint should come at once (#25). */
  startWaiting(): boolean;
  /** Whether this is still the session's run. */
  current(): boolean;
  status(): RunStatus;
  /** ms since the status last changed. */
  statusAge(): number;
  setStatus(status: RunStatus): void;
  /** Send each checkpoint's weights and Adam moments just before it ('checkpointState'). */
  readonly durableCheckpoints: boolean;
  /** Reports an error of this run's background work (and pauses the run). */
  fail(err: unknown): void;
}

/** Answers 'exportState': the run's state, with the snapshots newer than `snapshotsAfter`. */
export async function postExportedState(run: RunContext, requestId: number, snapshotsAfter: number): Promise<void> {
  const { trainer, analysis } = run;
  const resume = await trainer.readState();
  if (!run.current()) return;
  const snaps = analysis?.snapshots.all() ?? [];
  run.post({
    type: 'state',
    runId: run.id,
    requestId,
    state: {
      epoch: resume.t,
      config: { ...trainer.config },
      trainIndices: trainer.dataset.train,
      keyFreqs: analysis?.keyFreqs ?? null,
      snapshots: snaps.filter((x) => x.epoch > snapshotsAfter).map((x) => ({ epoch: x.epoch, weights: x.weights.slice() })),
      snapshotEpochs: snaps.map((x) => x.epoch),
      resume,
    },
  });
}
