/**
 * Picks saved runs (and branches' parents) to overlay on the training curves: reads each run's
 * history from IndexedDB (the file alone, not its snapshots) into the compare store.
 */
import { useAppStore } from '../../store/store.ts';
import { useCompareStore } from '../../store/compare.ts';
import { RunStore } from '../storage/run-store.ts';

let opened: Promise<RunStore | null> | null = null;
const db = () => (opened ??= RunStore.open().catch(() => null));

/** Overlays (or removes) the saved run `key`. */
export async function compareRun(key: string, on: boolean): Promise<void> {
  if (!on) {
    useCompareStore.getState().remove(key);
    return;
  }
  try {
    const rs = await db();
    if (!rs) throw new Error('this browser keeps no saved runs (IndexedDB is unavailable)');
    const run = await rs.loadHistory(key);
    const col = (k: 'epoch' | 'trainLoss' | 'testLoss' | 'trainAcc' | 'testAcc') => run.history.map((h) => h[k]);
    useCompareStore.getState().add({ key, name: run.name, config: run.config, epoch: col('epoch'), trainLoss: col('trainLoss'), testLoss: col('testLoss'), trainAcc: col('trainAcc'), testAcc: col('testAcc') });
  } catch (err) {
    useAppStore.getState().notify('warning', `This run cannot be overlaid: ${err instanceof Error ? err.message : String(err)}`);
  }
}
