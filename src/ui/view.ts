/**
 * What the views show: the viewed checkpoint (the scrubber's epoch, or the newest), its heavy
 * analysis, curves that all use one K, and the detected phases. Pure functions of the store.
 */
import { detectPhases, type Phase } from '../analysis/phases.ts';
import type { HistoryColumn } from '../run/history-columns.ts';
import type { HeavyResult } from '../run/protocol.ts';
import type { AppState } from '../store/store.ts';

/** Index in the history of the viewed checkpoint (the last one at or before the scrubber). */
export function viewIndex(s: AppState): number {
  if (s.history.length === 0) return -1;
  return s.viewEpoch === null ? s.history.length - 1 : s.history.indexAtOrBefore(s.viewEpoch);
}

/** The epoch the views show. */
export function viewedEpoch(s: AppState): number | null {
  const i = viewIndex(s);
  return i < 0 ? null : s.history.column('epoch')[i];
}

/** The snapshot epoch nearest to the viewed epoch (where the heavy views can be computed). */
export function nearestSnapshot(s: AppState): number | null {
  const target = s.viewEpoch ?? s.history.last()?.epoch ?? null;
  if (target === null || s.snapshotEpochs.length === 0) return null;
  return s.snapshotEpochs.reduce((best, e) => (Math.abs(e - target) < Math.abs(best - target) ? e : best));
}

/**
 * The heavy analysis for the viewed epoch: live → the newest one; scrubbed → the one at the nearest
 * snapshot if computed, else the cached one closest in time (marked not exact).
 */
export function viewedHeavy(s: AppState): { result: HeavyResult; exact: boolean } | null {
  if (s.viewEpoch === null) {
    const latest = s.latestHeavyEpoch !== null ? s.heavy.get(s.latestHeavyEpoch) : undefined;
    return latest ? { result: latest, exact: true } : null;
  }
  const want = nearestSnapshot(s);
  if (want !== null) {
    const hit = s.heavy.get(want);
    if (hit) return { result: hit, exact: true };
  }
  let best: HeavyResult | null = null;
  for (const h of s.heavy.values()) if (!best || Math.abs(h.epoch - s.viewEpoch) < Math.abs(best.epoch - s.viewEpoch)) best = h;
  return best ? { result: best, exact: false } : null;
}

const K_DEPENDENT: readonly HistoryColumn[] = ['restrictedLoss', 'restrictedAcc', 'excludedLoss', 'logitFVE'];

/**
 * A history column; the K-dependent ones only where they were measured with the current K, so
 * every curve on screen uses one K (§5.6) — the others show as gaps until re-measured.
 */
export function curve(s: AppState, name: HistoryColumn): Float64Array {
  const col = s.history.column(name);
  if (!K_DEPENDENT.includes(name) || !s.keyFreqs) return col;
  const versions = s.history.column('keyFreqsVersion');
  const v = s.keyFreqs.version;
  return col.map((x, i) => (versions[i] === v ? x : NaN));
}

let phaseCache: { version: number; phases: Phase[] } | null = null;

/** The phases of the run so far, computed once per history version. */
export function phases(s: AppState): Phase[] {
  if (phaseCache && phaseCache.version === s.historyVersion) return phaseCache.phases;
  const h = s.history;
  const result =
    h.length < 3
      ? []
      : detectPhases({
          epoch: h.column('epoch'),
          testLoss: h.column('testLoss'),
          excludedLoss: curve(s, 'excludedLoss'),
          testAcc: h.column('testAcc'),
          giniWL: h.column('giniWL'),
        });
  phaseCache = { version: s.historyVersion, phases: result };
  return result;
}

/** "14, 35, 41" or "none yet". */
export function formatK(ks: readonly number[] | undefined | null): string {
  return ks && ks.length > 0 ? ks.join(', ') : 'none yet';
}
