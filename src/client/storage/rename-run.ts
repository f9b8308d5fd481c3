/** Renaming a saved run: in IndexedDB, in the header when it is the open run, and in the list. */
import { useAppStore } from '../../store/store.ts';
import { db, refreshSavedRuns } from './persistence.ts';

export async function renameSavedRun(key: string, name: string): Promise<void> {
  const rs = await db();
  if (!rs) return;
  await rs.rename(key, name);
  if (useAppStore.getState().currentRunKey === key) useAppStore.setState({ currentRunName: name });
  await refreshSavedRuns();
}
