/**
 * Runs overlaid on the training curves (issue #13): saved runs and branches picked for comparison,
 * one colour each, labelled by the settings in which they differ from the others and from the run
 * on show. Filled by src/client/runs/compare.ts; drawn by src/ui/compare.
 */
import { create } from 'zustand';
import { CONFIG_KEYS, FIELDS, type TrainConfig } from '../config/schema.ts';

/** One colour per compared run: Okabe–Ito and Tol colours the loss chart does not use already
 * (its blue, vermillion, green and purple are the run on show's train, test, restricted, excluded). */
export const COMPARE_COLORS = ['#E69F00', '#56B4E9', '#332288', '#882255', '#777777', '#117733', '#000000'] as const;

export interface ComparedRun {
  key: string;
  name: string;
  config: TrainConfig;
  color: string;
  epoch: number[];
  trainLoss: number[];
  testLoss: number[];
  trainAcc: number[];
  testAcc: number[];
}

export interface CompareState {
  runs: ComparedRun[];
  version: number;
  add: (run: Omit<ComparedRun, 'color'>) => void;
  remove: (key: string) => void;
}

export const useCompareStore = create<CompareState>()((set, get) => ({
  runs: [],
  version: 0,
  add: (run) => {
    const runs = get().runs.filter((r) => r.key !== run.key);
    const used = new Set(runs.map((r) => r.color));
    const color = COMPARE_COLORS.find((c) => !used.has(c)) ?? COMPARE_COLORS[runs.length % COMPARE_COLORS.length];
    set({ runs: [...runs, { ...run, color }], version: get().version + 1 });
  },
  remove: (key) => set({ runs: get().runs.filter((r) => r.key !== key), version: get().version + 1 }),
}));

/**
 * For each config, the settings (URL keys) in which the configs differ, e.g. `wd=0.3, lr=0.003`:
 * the legend names a run by what sets it apart. Epochs are left out (a limit, not a setting).
 */
export function differingSettings(configs: TrainConfig[]): string[] {
  const keys = CONFIG_KEYS.filter((k) => k !== 'epochs' && configs.some((c) => c[k] !== configs[0][k]));
  return configs.map((c) => (keys.length === 0 ? 'same settings' : keys.map((k) => `${FIELDS[k].key}=${c[k]}`).join(', ')));
}
