/**
 * A branch (issue #13): a new run that starts from a checkpoint of another — its weights, and its
 * Adam moments where they exist — with changed settings (λ, lr, Grokfast). Runs keep the moments
 * only of their latest epoch (the resume state; snapshots hold weights alone), so a branch there
 * continues exactly as resuming would with the new settings; a branch at an older snapshot starts
 * with fresh moments, and says so.
 */
import type { TrainConfig } from '../config/schema.ts';
import type { Checkpoint } from '../run/history-columns.ts';
import type { ExportedState } from '../run/protocol.ts';
import type { RunData } from './run-file.ts';

/** What a branch may change: the live settings of the paper's ablations. */
export type BranchChanges = Partial<Pick<TrainConfig, 'lr' | 'weightDecay' | 'grokfastLambda'>>;

export interface Branch {
  run: RunData;
  /** The epoch it starts from (the snapshot at or before the one asked for). */
  from: number;
  /** Whether the Adam moments came with it (the run's latest epoch). */
  exact: boolean;
}

/** The branch at `epoch` of the run in `state` (its history in `history`); throws when there is no snapshot to start from. */
export function branchRun(state: ExportedState, history: Checkpoint[], epoch: number, changes: BranchChanges, name: string): Branch {
  const config: TrainConfig = { ...state.config, ...changes };
  const exact = epoch >= state.resume.t;
  let from = state.resume.t;
  if (!exact) {
    const at = state.snapshots.filter((s) => s.epoch <= epoch).at(-1);
    if (!at) throw new Error(`no snapshot at or before epoch ${epoch} is kept to branch from`);
    from = at.epoch;
  }
  const run: RunData = {
    name,
    config: { ...config, epochs: Math.max(config.epochs, from + 1) },
    trainIndices: state.trainIndices,
    keyFreqs: state.keyFreqs,
    history: history.filter((h) => h.epoch <= from),
    snapshots: state.snapshots.filter((s) => s.epoch <= from),
    resume: exact ? state.resume : null,
    backend: null,
    createdAt: new Date().toISOString(),
  };
  return { run, from, exact };
}

/** `λ 1 → 0.3, lr 1e-3 → 3e-3`: what a branch changes, for its name and the notice. */
export function describeChanges(before: TrainConfig, changes: BranchChanges): string {
  const names: Record<keyof BranchChanges, string> = { weightDecay: 'λ', lr: 'lr', grokfastLambda: 'Grokfast λ' };
  const parts = (Object.keys(changes) as (keyof BranchChanges)[]).filter((k) => changes[k] !== undefined && changes[k] !== before[k]).map((k) => `${names[k]} ${before[k]} → ${changes[k]}`);
  return parts.length > 0 ? parts.join(', ') : 'same settings';
}
