/**
 * "Time to grok, honestly": when a run of a known preset should reach cleanup, from its speed
 * now, rather than the time to the epoch limit (pure; tested).
 */
import { matchPreset, presetConfig, presetGroks, type PresetName } from '../../config/presets.ts';
import type { TrainConfig } from '../../config/schema.ts';
import { epochFlops } from '../../model/flops.ts';
import type { AppState } from '../../store/store.ts';
import { presetOfRun } from './preset-shown.ts';

/** Past this wait, the page offers the quick preset and the recorded run. */
export const LONG_WAIT_SECONDS = 5 * 60;
export const QUICK_PRESET: PresetName = 'quick';

export interface GrokEstimate {
  preset: PresetName;
  /** Epoch by which the preset's run reaches 99% test accuracy, and who says so. */
  grokEpoch: number;
  source: string;
  /** Seconds from the current epoch to it, at the current speed. */
  seconds: number;
  /** The quick preset's expected wait on this machine, when offering it makes sense. */
  quickSeconds: number | null;
}

export function estimateGrok(config: TrainConfig, epoch: number, epochsPerSec: number): GrokEstimate | null {
  const preset = matchPreset(config);
  const groks = preset ? presetGroks(preset) : undefined;
  // A run limited to fewer epochs than the preset needs stops before it groks: no estimate to quote.
  if (!preset || !groks || !(epochsPerSec > 0) || epoch >= groks.epoch || config.epochs < groks.epoch) return null;
  const seconds = (groks.epoch - epoch) / epochsPerSec;
  let quickSeconds: number | null = null;
  const quick = presetGroks(QUICK_PRESET);
  if (preset !== QUICK_PRESET && seconds > LONG_WAIT_SECONDS && quick) {
    // Same machine, same backend: speed scales with the matrix products of an update.
    const ratio = epochFlops(config).train / epochFlops(presetConfig(QUICK_PRESET)).train;
    quickSeconds = quick.epoch / (epochsPerSec * ratio);
  }
  return { preset, grokEpoch: groks.epoch, source: groks.source, seconds, quickSeconds };
}

/**
 * The estimate for the run as it trains now: its built configuration with the live λ and lr it
 * uses next, and only while it is still a preset's experiment (a λ changed live voids the
 * preset's grokking epoch, even once changed back).
 */
export function estimateForRun(s: Pick<AppState, 'applied' | 'draft' | 'history' | 'epoch' | 'epochsPerSec'>): GrokEstimate | null {
  if (!s.applied) return null;
  const config: TrainConfig = { ...s.applied, weightDecay: s.draft.weightDecay, lr: s.draft.lr };
  if (presetOfRun({ draft: config, history: s.history }) === null) return null;
  return estimateGrok(config, s.epoch, s.epochsPerSec);
}
