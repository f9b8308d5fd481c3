/**
 * Messages between the page and the training worker: two discriminated unions, imported with
 * `import type` on both sides. Handlers switch on `type` with a `never` default, so a message
 * that is added but not handled does not compile.
 */
import type { HeavyAnalysis } from '../analysis/analyzer.ts';
import type { BackendInfo, BackendMeasurement, BackendName } from '../config/backends.ts';
import type { LlcSchedule, LlcSeries, LlcSettings } from '../config/llc.ts';
import type { TrainConfig } from '../config/schema.ts';
import type { ForwardPath, TrainerState } from '../model/trainer.ts';
import type { EvidenceRequest, EvidenceResult } from './evidence.ts';
import type { Checkpoint } from './history-columns.ts';
import type { RecordedLoss } from './integrity.ts';

/** The hyperparameters that apply to a running training without a reset. */
export interface LiveSettings {
  lr: number;
  weightDecay: number;
  grokfastLambda: number;
  /** ⊥Grad on (1) or off (0). */
  orthoGrad: number;
  /** Training stops at this epoch. */
  epochs: number;
}

/** Restricted/excluded loss of a past checkpoint, recomputed with a new K (§5.6). */
export interface RecomputedRow {
  epoch: number;
  restrictedLoss: number;
  restrictedAcc: number;
  excludedLoss: number;
  excludedLossPerFreq: number[];
  logitFVE: number;
}

/** Key frequencies: the K every curve uses (`active`), and what the rule says now (`live`). */
export interface KeyFreqsState {
  version: number;
  active: number[];
  live: number[];
  /** Set by hand (click or ?k=) rather than by the rule. */
  pinned: boolean;
}

/** The heavy measures of one snapshot (ANALYSIS.md §5.9, 5.11, 5.12), with the sizes to draw them. */
export interface HeavyResult extends HeavyAnalysis {
  epoch: number;
  p: number;
  dMlp: number;
  heads: number;
}

/** One backend's timing by the bench harness (src/worker/bench/bench.ts). */
export interface BenchResult {
  backend: string;
  path: ForwardPath;
  msPerEpoch: number;
  /** Milliseconds per update of each timed block. */
  blockMsPerEpoch: number[];
  epochsPerBlock: number;
  epochsTimed: number;
  /** Matrix-product GFLOP of one update, counted from the shapes (src/model/flops.ts). */
  gflopPerEpoch: number;
  /** Achieved: gflopPerEpoch / seconds per epoch. */
  gflops: number;
  /** One checkpoint's full analysis (all-pairs forward, metrics, §5 measures, heavy views), or NaN. */
  analysisMs: number;
  /** tfjs kernels one update runs (tf.profile), NaN when not counted. */
  kernelsPerEpoch: number;
  /** GPU compute dispatches one update records (WebGPU only; null elsewhere). */
  dispatchesPerEpoch: number | null;
  /** Tensors alive after the benchmark minus before it: 0 when nothing leaks. */
  numTensorsDelta: number;
}

/**
 * N models of one shape trained batched (src/model/batched) against the same N trained one after
 * another, measured in one run with the blocks interleaved (src/worker/bench/batched.ts).
 */
export interface BatchedBenchResult {
  backend: string;
  models: number;
  /** Median ms of one batched update (all N models). */
  batchedMsPerEpoch: number;
  /** Median ms of one update of each single model. */
  singleMsPerEpoch: number[];
  /** models·epochs/s: batched, and the N single runs one after another. */
  batchedModelEpochsPerSec: number;
  sequentialModelEpochsPerSec: number;
  /** batched / sequential. */
  speedup: number;
  /** GPU compute dispatches of one batched update and of one single model's (WebGPU only; null elsewhere). */
  dispatchesBatched: number | null;
  dispatchesSingle: number | null;
  /**
   * CPU backends: the ms of one batched update spent in its matrix products (tf.profile), and
   * sequential / that: the speed-up batching could reach were all other work free. Null on GPUs.
   */
  batchedProductMs: number | null;
  ceiling: number | null;
  numTensorsDelta: number;
}

/** One LLC estimate of a weight snapshot, made beside training (src/worker/training/llc-scheduler.ts). */
export interface LlcEstimate {
  epoch: number;
  llc: number;
  /** The stated error: the chains' standard deviation over √chains. */
  error: number;
  llcPerChain: number[];
  /** L(w*), the snapshot's full training loss. */
  initLoss: number;
  /** Each chain's draws' minibatch losses. */
  traces: number[][];
  settledPerChain: boolean[];
  settled: boolean;
  /** The settings used (nβ resolved). */
  settings: LlcSettings;
  seconds: number;
}

/** A backend timed fastest on an earlier visit, remembered by the page (per device and model size). */
export interface CachedBackendChoice {
  name: BackendName;
  /** The adapter it ran on then: a different one means another device, so it is timed again. */
  adapter: string;
  skipped: string[];
  measured: BackendMeasurement[];
}

export type RunStatus = 'starting' | 'idle' | 'running' | 'paused' | 'done' | 'error';

/** A saved or imported run, for the worker to continue or show. */
export interface LoadableRun {
  config: TrainConfig;
  trainIndices: Int32Array;
  keyFreqs: KeyFreqsState | null;
  snapshots: { epoch: number; weights: Float32Array }[];
  /** Exact weights and Adam moments of the last epoch; without them the run continues from its
   * last snapshot with fresh moments. */
  resume: TrainerState | null;
  /** The LLC over training the run file brought: its snapshots at these settings are not estimated again. */
  llc?: LlcSeries | null;
}

/** What the page saves of the worker's side of a run. */
export interface ExportedState {
  epoch: number;
  config: TrainConfig;
  trainIndices: Int32Array;
  keyFreqs: KeyFreqsState | null;
  /** Snapshots newer than the request's `snapshotsAfter`. */
  snapshots: { epoch: number; weights: Float32Array }[];
  /** Epochs of every snapshot the worker still keeps (older ones were thinned). */
  snapshotEpochs: number[];
  resume: TrainerState;
}

/** Faults the page reacts to beyond showing the message. */
export type FaultKind = 'nan' | 'device-lost' | 'gpu-error' | 'out-of-memory';

export type Command =
  /**
   * Pick the backend (the requested one; else the remembered fastest, if it still starts on the
   * same adapter; else the fastest by measurement; never an excluded one) and build the run — or
   * load `run`. Sent once when the worker starts.
   */
  | { type: 'init'; config: TrainConfig; backend: BackendName | null; keyFreqs?: number[] | null; exclude?: BackendName[]; run?: LoadableRun; cachedBackend?: CachedBackendChoice | null; provisional?: boolean }
  /**
   * The backend timed fastest (by the page's measuring worker): the run moves to it at its next
   * checkpoint (at once when it is not training), weights and Adam moments carried over.
   */
  | { type: 'moveBackend'; backend: BackendInfo }
  /** Train until `epochs` (from idle or paused). */
  | { type: 'start' }
  | { type: 'pause' }
  | { type: 'resume' }
  /** Train exactly `epochs` more updates, then pause. */
  | { type: 'step'; epochs: number }
  /** Throw the run away and build a new one with `config` (new weights, split, optimizer). */
  | { type: 'reset'; config: TrainConfig; keyFreqs?: number[] | null }
  /** Change live settings; the next update uses them. */
  | { type: 'set'; settings: Partial<LiveSettings> }
  /** Pin the key frequencies (null: back to the default rule); past checkpoints are re-measured. */
  | { type: 'setKeyFreqs'; keyFreqs: number[] | null }
  /** Compute the heavy measures of the snapshot nearest to `epoch`. */
  | { type: 'inspect'; epoch: number }
  /** §4's evidence of a checkpoint, with an intervention and one input (src/worker/training/evidence-scheduler.ts). */
  | { type: 'evidence'; request: EvidenceRequest }
  /** Replace the run by a saved or imported one. */
  | { type: 'load'; run: LoadableRun }
  /** The LLC over training: estimate the run's snapshots beside training (null: stop), for this run and the next. */
  | { type: 'llc'; schedule: LlcSchedule | null }
  /** Past snapshots of the loaded run that arrived later (a recording's pieces, src/files/recording.ts). */
  | { type: 'addSnapshots'; snapshots: { epoch: number; weights: Float32Array }[] }
  /**
   * Check a run before it replaces this one: its configuration must reproduce the training loss
   * its history recorded at `recorded.epoch` on `recorded.weights` (src/run/integrity.ts).
   * Answered by 'verified'; the current run is not touched.
   */
  | { type: 'verify'; requestId: number; config: TrainConfig; trainIndices: Int32Array; recorded: RecordedLoss }
  /** Send the run's state (to save it): weights, moments, and snapshots after `snapshotsAfter`. */
  | { type: 'exportState'; requestId: number; snapshotsAfter: number }
  /** Fault injection for tests: an uncaught error, NaN weights, or a destroyed GPU device. */
  | { type: 'debug'; action: 'crash' | 'poison' | 'lose-device' }
  /**
   * Pauses the run and times training on this backend (src/worker/bench/bench.ts); answered by 'bench'.
   * With `models`: that many seeds of `config` batched against one after another (src/worker/bench/batched.ts).
   */
  | { type: 'bench'; requestId: number; config: TrainConfig; paths: ForwardPath[]; blocks: number; targetBlockMs: number; analysis: boolean; analysisOnly?: boolean; models?: number };

export type WorkerEvent =
  | {
      type: 'ready';
      runId: number;
      backend: BackendInfo;
      numParams: number;
      nTrain: number;
      nTest: number;
      config: TrainConfig;
      /** The epoch a loaded run continues from, or null for a new run. */
      loadedAt: number | null;
    }
  | { type: 'state'; runId: number; requestId: number; state: ExportedState }
  /**
   * The state of the checkpoint that follows (same epoch), sent just before it so the page can
   * make it durable before showing it: a reload then resumes at the last checkpoint shown.
   */
  | { type: 'checkpointState'; runId: number; state: ExportedState }
  | { type: 'verified'; runId: number; requestId: number; problem: string | null }
  | { type: 'bench'; runId: number; requestId: number; backend: BackendInfo; results: BenchResult[]; batched?: BatchedBenchResult; error?: string }
  | { type: 'status'; runId: number; status: RunStatus; epoch: number }
  | { type: 'checkpoint'; runId: number; checkpoint: Checkpoint }
  | {
      type: 'progress';
      runId: number;
      epoch: number;
      epochsPerSec: number;
      /** Wall time this run has trained in this worker (pauses excluded). */
      trainSeconds: number;
      /** Training loss of the latest update (of the weights before it). */
      trainLoss: number;
      /** Epochs between checkpoints at the moment (adaptive). */
      checkpointEvery: number;
    }
  | { type: 'keyFreqs'; runId: number; keyFreqs: KeyFreqsState }
  | { type: 'recomputed'; runId: number; version: number; rows: RecomputedRow[]; remaining: number }
  | { type: 'heavy'; runId: number; result: HeavyResult; latest: boolean }
  /** `answer`: for the page's last 'evidence' request; `series`: a point of the curves over training. */
  | { type: 'evidence'; runId: number; result: EvidenceResult; answer: boolean; series: boolean }
  | { type: 'snapshots'; runId: number; epochs: number[] }
  /** An LLC estimate of a snapshot is done. */
  | { type: 'llc'; runId: number; estimate: LlcEstimate }
  /** The estimate in progress: the snapshot, draws taken of all its chains' (done = total: finished). */
  | { type: 'llcProgress'; runId: number; epoch: number; done: number; total: number }
  /** The run continues on another backend (or the provisional one was confirmed) from `epoch`. */
  | { type: 'backend'; runId: number; backend: BackendInfo; epoch: number }
  | { type: 'error'; runId: number; message: string; fatal: boolean; fault?: FaultKind };

/** What the page asks the measuring worker (measure.worker.ts), and its one answer (#25). */
export type MeasureRequest = { config: TrainConfig; exclude: BackendName[] };
export type MeasureAnswer = { type: 'chosen'; backend: BackendInfo } | { type: 'failed'; message: string };
