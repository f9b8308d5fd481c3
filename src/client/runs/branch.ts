/**
 * "Branch here" (issue #13): pauses the run, saves it, and opens a new run that starts from the
 * scrubbed checkpoint with changed settings (src/files/branch.ts). The parent stays under Runs and is
 * overlaid on the training curves for comparison.
 */
import { branchRun, describeChanges, type BranchChanges } from '../../files/branch.ts';
import { useAppStore } from '../../store/store.ts';
import { commands, requestState } from '../client.ts';
import { compareRun } from './compare.ts';
import { saveNow } from '../storage/persistence.ts';
import { openImportedRun } from './run-files.ts';

/** Branches at `epoch` (null: the latest); returns the problem in words when it cannot. */
export async function branchHere(epoch: number | null, changes: BranchChanges): Promise<string | null> {
  const s = useAppStore.getState();
  if (!s.applied || s.history.length === 0) return 'there is no checkpoint to branch from yet';
  if (s.status === 'running') commands.pause();
  try {
    if (!s.recording) await saveNow();
    const parentKey = useAppStore.getState().currentRunKey;
    const parentName = useAppStore.getState().currentRunName || s.recording?.name || 'run';
    const state = await requestState(-1);
    const at = epoch ?? state.resume.t;
    const history = useAppStore.getState().history.toArray();
    const what = describeChanges(state.config, changes);
    const probe = branchRun(state, history, at, changes, '');
    const b = branchRun(state, history, at, changes, `${parentName.slice(0, 80)} · branch at ${probe.from.toLocaleString('en-US')}: ${what}`);
    await openImportedRun(
      b.run,
      b.exact
        ? `Branched at epoch ${b.from.toLocaleString('en-US')} with that epoch's weights and Adam moments (${what}); it continues exactly as resuming would. Press Train.`
        : `Branched at epoch ${b.from.toLocaleString('en-US')} (the kept snapshot at or before ${at.toLocaleString('en-US')}) with its weights (${what}). Runs keep Adam moments only at their latest epoch, so this branch starts with fresh moments. Press Train.`,
    );
    if (parentKey) void compareRun(parentKey, true);
    return null;
  } catch (err) {
    return `cannot branch: ${err instanceof Error ? err.message : String(err)}`;
  }
}
