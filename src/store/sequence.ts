/**
 * The page's appendix-tasks room (App. D.3, Figs. 29–34): the chosen preset, the run's status and
 * its checkpoints. A store of its own beside the main one: the run on show is not touched; the
 * worker (worker/sequence.worker.ts) trains, client/sequence.ts forwards its events here.
 */
import { create } from 'zustand';
import { SEQUENCE_PRESETS, type SequencePresetName } from '../config/sequence-presets.ts';
import type { SequenceCheckpoint } from '../model/sequence/config.ts';
import type { SequenceTaskName } from '../task/sequence.ts';
import type { SequenceEvent } from '../run/sequence-protocol.ts';

export type SequenceStatus = 'idle' | 'starting' | 'running' | 'done' | 'stopped' | 'error' | 'recorded';

/** An authors' saved run on show (files/torch/sequence-import.ts): its curves, and its model's measures once taken. */
export interface SequenceRecord {
  task: SequenceTaskName;
  name: string;
  description: string;
  /** Its model's measures and the fresh problems they were taken on; null: not (yet) measured, or no model in the file. */
  measured: { problems: number; seed: number; checkpoint: SequenceCheckpoint } | null;
  hasModel: boolean;
}

export interface SequenceState {
  preset: SequencePresetName;
  /** The preset the checkpoints are of (the chooser may have moved on). */
  trained: SequencePresetName | null;
  status: SequenceStatus;
  backend: string | null;
  checkpoints: SequenceCheckpoint[];
  record: SequenceRecord | null;
  /** Training seconds up to the last checkpoint. */
  seconds: number;
  message: string | null;
  version: number;
  choose: (preset: SequencePresetName) => void;
  /** A run of the chosen preset is asked for. */
  begin: () => void;
  receive: (event: SequenceEvent) => void;
  /** Shows an authors' saved run: its curves as checkpoints (the room's run, if any, is replaced). */
  showRecord: (record: SequenceRecord, checkpoints: SequenceCheckpoint[]) => void;
}

export const useSequenceStore = create<SequenceState>()((set, get) => ({
  preset: 'skip3-inf',
  trained: null,
  status: 'idle',
  backend: null,
  checkpoints: [],
  record: null,
  seconds: 0,
  message: null,
  version: 0,
  choose: (preset) => set({ preset }),
  begin: () => set((s) => ({ trained: s.preset, record: null, status: 'starting', checkpoints: [], seconds: 0, message: null, version: s.version + 1 })),
  showRecord: (record, checkpoints) => set((s) => ({ record, trained: null, status: 'recorded', checkpoints, seconds: 0, message: null, version: s.version + 1 })),
  receive: (event) => {
    const s = get();
    switch (event.type) {
      case 'started':
        set({ status: s.record ? 'recorded' : 'running', backend: event.backend });
        break;
      case 'measured': {
        if (!s.record) break;
        // The model's measures join the file's last row (its losses stay the file's).
        const rows = s.checkpoints.slice();
        const at = rows.length && rows.at(-1)!.epoch === event.checkpoint.epoch ? rows.length - 1 : rows.length;
        rows[at] = { ...event.checkpoint, trainLoss: rows[at]?.trainLoss ?? NaN, testLoss: rows[at] && Number.isFinite(rows[at].testLoss) ? rows[at].testLoss : event.checkpoint.testLoss };
        set({ checkpoints: rows, record: { ...s.record, measured: { problems: event.problems, seed: event.seed, checkpoint: event.checkpoint } }, version: s.version + 1 });
        break;
      }
      // A run stopped for a saved one on show (showRecord) may still report: its rows are not the record's.
      case 'checkpoint':
        if (!s.record) set({ checkpoints: [...s.checkpoints, event.checkpoint], seconds: event.seconds, version: s.version + 1 });
        break;
      case 'done':
        if (!s.record) set({ status: event.stopped ? 'stopped' : 'done', seconds: event.seconds });
        break;
      case 'error':
        set({ status: s.record ? 'recorded' : 'error', message: event.message });
        break;
      default:
        event satisfies never;
    }
  },
}));

/** The task of the checkpoints on show (or of the chosen preset before any run). */
export function shownTask(s: SequenceState): SequenceTaskName {
  return s.record?.task ?? SEQUENCE_PRESETS[s.trained ?? s.preset].task;
}
