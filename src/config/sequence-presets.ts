/**
 * The six runs of App. D.3 (Figs. 29–34) as presets of the page's appendix-tasks room: each task on
 * the paper's fixed data set and on fresh data every update. Their epochs are the paper's; on a CPU
 * an epoch of digits5 on 700 problems takes ~1 s, so a person watches the start and stops when
 * they like (the curves are live).
 */
import type { SequenceTaskName } from '../task/sequence.ts';

export interface SequencePreset {
  task: SequenceTaskName;
  /** Training examples; Infinity: a fresh batch every update. */
  data: number;
  epochs: number;
  /** Epochs between checkpoints. */
  every: number;
  label: string;
  figure: string;
}

export const SEQUENCE_PRESETS = {
  'skip3-inf': { task: 'skip3', data: Infinity, epochs: 3000, every: 25, label: 'Skip trigrams, fresh data', figure: 'Figs. 33–34' },
  'skip3-512': { task: 'skip3', data: 512, epochs: 5000, every: 25, label: 'Skip trigrams, 512 sequences', figure: 'Figs. 33–34' },
  'digits5-inf': { task: 'digits5', data: Infinity, epochs: 6000, every: 25, label: '5-digit addition, fresh data', figure: 'Fig. 29' },
  'digits5-700': { task: 'digits5', data: 700, epochs: 18053, every: 10, label: '5-digit addition, 700 problems', figure: 'Fig. 30' },
  'repeat-inf': { task: 'repeat', data: Infinity, epochs: 6000, every: 10, label: 'Repeated subsequences, fresh data', figure: 'Figs. 31–32' },
  'repeat-512': { task: 'repeat', data: 512, epochs: 71455, every: 5, label: 'Repeated subsequences, 512 sequences', figure: 'Figs. 31–32' },
} as const satisfies Record<string, SequencePreset>;

export type SequencePresetName = keyof typeof SEQUENCE_PRESETS;
export const SEQUENCE_PRESET_NAMES = Object.keys(SEQUENCE_PRESETS) as SequencePresetName[];

export function isSequencePreset(name: string): name is SequencePresetName {
  return Object.hasOwn(SEQUENCE_PRESETS, name);
}
