/**
 * Which preset the form names: one whose configuration equals the draft, and whose live settings
 * (λ, learning rate) the run was trained with all along. After a live change the run is no longer
 * the preset's experiment ("No weight decay… never groks" for a run trained mostly with λ = 1), so
 * the menu says "custom".
 */
import { matchPreset, presetConfig, type PresetName } from '../../config/presets.ts';
import type { AppState } from '../../store/store.ts';

export function shownPreset(s: Pick<AppState, 'draft' | 'history'>): PresetName | null {
  const name = matchPreset(s.draft);
  if (name === null) return null;
  const config = presetConfig(name);
  const trainedAs = (col: Float64Array, value: number) => col.every((v) => !Number.isFinite(v) || v === value);
  if (!trainedAs(s.history.column('weightDecay'), config.weightDecay) || !trainedAs(s.history.column('lr'), config.lr)) return null;
  return name;
}
