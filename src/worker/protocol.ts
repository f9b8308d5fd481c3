/**
 * Messages between the page and the training worker: two discriminated unions, imported with
 * `import type` on both sides. Handlers switch on `type` with a `never` default, so a message
 * that is added but not handled does not compile.
 */
import type { TrainConfig } from '../config/schema.ts';

export const BACKENDS = ['webgpu', 'webgl', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKENDS)[number];

export interface BackendInfo {
  name: BackendName;
  /** Human-readable device: the GPU adapter's name, or what runs the math on the CPU. */
  adapter: string;
  /** The backend asked for (?backend=), or null for the default order. */
  requested: BackendName | null;
  /** Why earlier backends in the order were skipped, e.g. "webgpu: no adapter". */
  skipped: string[];
}

/** The hyperparameters that apply to a running training without a reset. */
export interface LiveSettings {
  lr: number;
  weightDecay: number;
  grokfastLambda: number;
  /** Training stops at this epoch. */
  epochs: number;
}

/** One evaluation of the run, on the weights after `epoch` updates (epoch 0 = the init). */
export interface Checkpoint {
  epoch: number;
  trainLoss: number;
  testLoss: number;
  trainAcc: number;
  testAcc: number;
  sumSquaredWeights: number;
  /** The lr and λ the next update uses. */
  lr: number;
  weightDecay: number;
}

export type RunStatus = 'starting' | 'idle' | 'running' | 'paused' | 'done' | 'error';

export type Command =
  /** Pick the backend and build the run. Sent once when the worker starts. */
  | { type: 'init'; config: TrainConfig; backend: BackendName | null }
  /** Train until `epochs` (from idle or paused). */
  | { type: 'start' }
  | { type: 'pause' }
  | { type: 'resume' }
  /** Train exactly `epochs` more updates, then pause. */
  | { type: 'step'; epochs: number }
  /** Throw the run away and build a new one with `config` (new weights, split, optimizer). */
  | { type: 'reset'; config: TrainConfig }
  /** Change live settings; the next update uses them. */
  | { type: 'set'; settings: Partial<LiveSettings> };

export type WorkerEvent =
  | { type: 'ready'; runId: number; backend: BackendInfo; numParams: number; nTrain: number; nTest: number; config: TrainConfig }
  | { type: 'status'; runId: number; status: RunStatus; epoch: number }
  | { type: 'checkpoint'; runId: number; checkpoint: Checkpoint }
  | {
      type: 'progress';
      runId: number;
      epoch: number;
      epochsPerSec: number;
      /** Training loss of the latest update (of the weights before it). */
      trainLoss: number;
      /** Epochs between checkpoints at the moment (adaptive). */
      checkpointEvery: number;
    }
  | { type: 'error'; runId: number; message: string; fatal: boolean };
