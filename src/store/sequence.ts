/**
 * The page's appendix-tasks room (App. D.3, Figs. 29–34): the chosen preset, the run's status and
 * its checkpoints. A store of its own beside the main one: the run on show is not touched; the
 * worker (worker/sequence.worker.ts) trains, client/sequence.ts forwards its events here.
 */
import { create } from 'zustand';
import { SEQUENCE_PRESETS, type SequencePresetName } from '../config/sequence-presets.ts';
import type { SequenceCheckpoint } from '../model/sequence/trainer.ts';
import type { SequenceEvent } from '../run/sequence-protocol.ts';

export type SequenceStatus = 'idle' | 'starting' | 'running' | 'done' | 'stopped' | 'error';

export interface SequenceState {
  preset: SequencePresetName;
  /** The preset the checkpoints are of (the chooser may have moved on). */
  trained: SequencePresetName | null;
  status: SequenceStatus;
  backend: string | null;
  checkpoints: SequenceCheckpoint[];
  /** Training seconds up to the last checkpoint. */
  seconds: number;
  message: string | null;
  version: number;
  choose: (preset: SequencePresetName) => void;
  /** A run of the chosen preset is asked for. */
  begin: () => void;
  receive: (event: SequenceEvent) => void;
}

export const useSequenceStore = create<SequenceState>()((set, get) => ({
  preset: 'skip3-inf',
  trained: null,
  status: 'idle',
  backend: null,
  checkpoints: [],
  seconds: 0,
  message: null,
  version: 0,
  choose: (preset) => set({ preset }),
  begin: () => set((s) => ({ trained: s.preset, status: 'starting', checkpoints: [], seconds: 0, message: null, version: s.version + 1 })),
  receive: (event) => {
    const s = get();
    switch (event.type) {
      case 'started':
        set({ status: 'running', backend: event.backend });
        break;
      case 'checkpoint':
        set({ checkpoints: [...s.checkpoints, event.checkpoint], seconds: event.seconds, version: s.version + 1 });
        break;
      case 'done':
        set({ status: event.stopped ? 'stopped' : 'done', seconds: event.seconds });
        break;
      case 'error':
        set({ status: 'error', message: event.message });
        break;
      default:
        event satisfies never;
    }
  },
}));

/** The task of the checkpoints on show (or of the chosen preset before any run). */
export function shownTask(s: SequenceState) {
  return SEQUENCE_PRESETS[s.trained ?? s.preset].task;
}
