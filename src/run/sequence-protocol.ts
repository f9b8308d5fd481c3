/**
 * What the page and the appendix-tasks worker (worker/sequence.worker.ts) say to each other: train
 * one of the tasks of App. D.3 (Figs. 29–34) beside the run on show, and its checkpoints back.
 */
import type { BackendName } from '../config/backends.ts';
import type { SequenceCheckpoint, SequenceRunConfig } from '../model/sequence/config.ts';
import type { SequenceTaskName } from '../task/sequence.ts';

export type SequenceCommand =
  /** `every`: epochs between checkpoints; `backend`: the page run's backend (null: the first that starts). */
  | { type: 'train'; config: SequenceRunConfig; epochs: number; every: number; backend: BackendName | null }
  /** An authors' saved model (files/torch/sequence-import.ts) measured on fresh problems, as `analyze` does. */
  | { type: 'measure'; task: SequenceTaskName; weights: { name: string; shape: number[]; values: Float32Array }[]; epoch: number; testSize: number; seed: number; backend: BackendName | null }
  | { type: 'stop' };

export type SequenceEvent =
  | { type: 'started'; backend: string }
  /** `seconds`: training time so far (measuring excluded). */
  | { type: 'checkpoint'; checkpoint: SequenceCheckpoint; seconds: number }
  | { type: 'done'; stopped: boolean; seconds: number }
  /** A saved model's measures (a 'measure' answered); `problems`: the fresh problems it was measured on. */
  | { type: 'measured'; checkpoint: SequenceCheckpoint; problems: number; seed: number }
  | { type: 'error'; message: string };
