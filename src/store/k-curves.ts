/**
 * The K-dependent curves (restricted and excluded loss, restricted accuracy, logit FVE: §5.6) of
 * every K the person has left, kept by K set. After a K change only the weight snapshots can be
 * re-measured, so going back (e.g. "Use the rule" after pinning k = 14) restores every point that
 * was measured with that set instead of leaving the snapshots alone.
 */
import type { KeyFreqsState, RecomputedRow } from '../run/protocol.ts';
import type { History } from './history.ts';

/** K sets remembered per run (each costs a few numbers per checkpoint). */
export const K_CURVE_SETS = 8;

/** The same set in any order gives the same key. */
export const keyFreqsKey = (ks: readonly number[]): string => [...ks].sort((a, b) => a - b).join(',');

export class KCurveCache {
  private sets = new Map<string, Map<number, RecomputedRow>>();

  /**
   * The active K changes from `prev` to `next`: the rows measured with `prev` are kept, and the
   * rows once measured with `next`'s set come back (tagged with its version). Returns how many.
   */
  switchTo(history: History, prev: KeyFreqsState | null, next: KeyFreqsState): number {
    if (prev && prev.version === next.version) return 0;
    if (prev && prev.active.length > 0) this.keep(history, keyFreqsKey(prev.active), prev.version);
    const rows = this.sets.get(keyFreqsKey(next.active));
    if (!rows) return 0;
    let restored = 0;
    for (const row of rows.values()) if (history.applyRecomputed(row, next.version)) restored++;
    return restored;
  }

  clear(): void {
    this.sets.clear();
  }

  private keep(history: History, key: string, version: number): void {
    const versions = history.column('keyFreqsVersion');
    const rows = this.sets.get(key) ?? new Map<number, RecomputedRow>();
    const epoch = history.column('epoch');
    const col = (name: 'restrictedLoss' | 'restrictedAcc' | 'excludedLoss' | 'logitFVE') => history.column(name);
    for (let i = 0; i < history.length; i++) {
      if (versions[i] !== version) continue;
      rows.set(epoch[i], {
        epoch: epoch[i],
        restrictedLoss: col('restrictedLoss')[i],
        restrictedAcc: col('restrictedAcc')[i],
        excludedLoss: col('excludedLoss')[i],
        excludedLossPerFreq: history.excludedLossPerFreq(i),
        logitFVE: col('logitFVE')[i],
      });
    }
    this.sets.delete(key);
    this.sets.set(key, rows);
    while (this.sets.size > K_CURVE_SETS) this.sets.delete(this.sets.keys().next().value!);
  }
}
