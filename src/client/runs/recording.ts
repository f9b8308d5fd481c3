/**
 * Recorded runs on show: opening one (asking first when it would replace what is open), and
 * "train this configuration yourself", which builds the recording's configuration afresh and
 * trains it.
 */
import { useAppStore } from '../../store/store.ts';
import { commands } from '../client.ts';
import { saveNow } from '../storage/persistence.ts';
import { REFERENCE_RUNS, openReferenceRun } from './run-files.ts';

/** What opening another run would replace, in words, or null when nothing would be lost from view. */
export function whatWouldBeReplaced(): string | null {
  const s = useAppStore.getState();
  if (s.recording) return `the recorded run “${s.recording.name}”`;
  if (s.epoch > 0) return `your run at epoch ${s.epoch.toLocaleString('en-US')} (it is saved first, and stays under Runs)`;
  return null;
}

/** Opens a recorded run; asks `confirm` first when it would replace an open recording or run. */
export function openRecording(key: string, confirm: (message: string) => boolean): boolean {
  const s = useAppStore.getState();
  if (s.recording?.key === key) return false;
  const ref = REFERENCE_RUNS[key];
  const replaced = whatWouldBeReplaced();
  if (ref && replaced && !confirm(`Open the recorded run “${ref.label}” in place of ${replaced}?`)) return false;
  // A run of your own is saved before it leaves the page (a recording needs no saving).
  const save = !s.recording && s.epoch > 0 ? saveNow() : Promise.resolve();
  void save.then(() => openReferenceRun(key));
  return true;
}

/** Builds the recording's configuration as a new run and trains it. */
export function trainRecordingYourself(): void {
  commands.reset();
  commands.train();
}
