/**
 * Which preset the form names, and whether the run is still that preset's experiment. The menu
 * follows the settings: a preset's name whenever every setting equals it (a link without ?preset=
 * that equals one, the empty link included, shows its name), "custom" otherwise. What the preset
 * promises ("groks by epoch N", "never groks") holds only for a run trained with its λ and learning
 * rate all along: after a live change the run is no longer the preset's experiment.
 */
import { matchPreset, presetConfig, type PresetName } from '../../config/presets.ts';
import type { AppState } from '../../store/store.ts';

export function shownPreset(s: Pick<AppState, 'draft'>): PresetName | null {
  return matchPreset(s.draft);
}

/** The preset whose experiment this run is: the settings equal it and every checkpoint was trained with its λ and lr. */
export function presetOfRun(s: Pick<AppState, 'draft' | 'history'>): PresetName | null {
  const name = matchPreset(s.draft);
  if (name === null) return null;
  const config = presetConfig(name);
  const trainedAs = (col: Float64Array, value: number) => col.every((v) => !Number.isFinite(v) || v === value);
  if (!trainedAs(s.history.column('weightDecay'), config.weightDecay) || !trainedAs(s.history.column('lr'), config.lr)) return null;
  return name;
}
