/**
 * What the views show: the viewed checkpoint (the scrubber's epoch, or the newest), its heavy
 * analysis, curves that all use one K, and the detected phases. Pure functions of the store.
 */
import { detectPhases, type Phase } from '../analysis/phases.ts';
import { detectSlingshots, type Slingshot } from '../analysis/slingshots.ts';
import type { HistoryColumn } from '../run/history-columns.ts';
import type { HeavyResult } from '../run/protocol.ts';
import type { AppState } from './store.ts';

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

/**
 * The snapshot whose weights the heavy views show for the viewed epoch: the last one at or before
 * it (never weights from the future of the epoch shown), the first one before any.
 */
export function viewedSnapshot(s: Pick<AppState, 'viewEpoch' | 'history' | 'snapshotEpochs'>): number | null {
  const target = s.viewEpoch ?? s.history.last()?.epoch ?? null;
  if (target === null || s.snapshotEpochs.length === 0) return null;
  let at: number | null = null;
  for (const e of s.snapshotEpochs) if (e <= target && (at === null || e > at)) at = e;
  return at ?? Math.min(...s.snapshotEpochs);
}

/**
 * The heavy analysis for the viewed epoch: live → the newest one; scrubbed → the one of its
 * snapshot (at or before it) if computed, else the newest cached one at or before it, else the
 * nearest after it (marked not exact, and `ahead`).
 */
export function viewedHeavy(s: AppState): { result: HeavyResult; exact: boolean; ahead?: boolean } | null {
  if (s.viewEpoch === null) {
    const latest = s.latestHeavyEpoch !== null ? s.heavy.get(s.latestHeavyEpoch) : undefined;
    return latest ? { result: latest, exact: true } : null;
  }
  const want = viewedSnapshot(s);
  if (want !== null) {
    const hit = s.heavy.get(want);
    if (hit) return { result: hit, exact: true };
  }
  // Not ready yet (Play faster than this machine prepares views, #21 item 10): the newest prepared
  // snapshot at or before the shown epoch, so a view never runs ahead of the scrubber; only when
  // none is, the nearest after it. The views' labels name the epoch they show.
  let before: HeavyResult | null = null;
  let after: HeavyResult | null = null;
  for (const h of s.heavy.values()) {
    if (h.epoch <= s.viewEpoch) {
      if (!before || h.epoch > before.epoch) before = h;
    } else if (!after || h.epoch < after.epoch) after = h;
  }
  const best = before ?? after;
  return best ? { result: best, exact: false, ahead: best.epoch > s.viewEpoch } : null;
}

/**
 * What a heavy view draws from (for a chart's watch): the analysis it shows, so one prepared for
 * another snapshot (Play asks ahead) redraws nothing on screen.
 */
export function viewedHeavyKey(s: AppState): readonly unknown[] {
  const h = viewedHeavy(s);
  return [h?.result ?? null, h?.exact ?? null, h?.ahead ?? null];
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

/** The measured points of a curve (a K-dependent one has them only where measured with the current K). */
export function curvePoints(s: AppState, name: HistoryColumn): { x: number[]; y: number[]; complete: boolean } {
  const epoch = s.history.column('epoch');
  const values = curve(s, name);
  const x: number[] = [];
  const y: number[] = [];
  values.forEach((v, i) => {
    if (Number.isFinite(v)) {
      x.push(epoch[i]);
      y.push(v);
    }
  });
  return { x, y, complete: x.length === values.length };
}

/**
 * Fig. 15: for each key frequency k of the current K, the excluded loss with k alone removed from
 * the logits (§5.5), at the checkpoints measured with the current K.
 */
export function excludedLossPerFreqCurves(s: AppState): { k: number; x: number[]; y: number[] }[] {
  const K = s.keyFreqs?.active ?? [];
  if (!s.keyFreqs || K.length === 0) return [];
  const epoch = s.history.column('epoch');
  const versions = s.history.column('keyFreqsVersion');
  const out = K.map((k) => ({ k, x: [] as number[], y: [] as number[] }));
  for (let i = 0; i < s.history.length; i++) {
    if (versions[i] !== s.keyFreqs.version) continue;
    const row = s.history.excludedLossPerFreq(i);
    if (row.length !== K.length) continue;
    row.forEach((v, j) => {
      if (!Number.isFinite(v)) return;
      out[j].x.push(epoch[i]);
      out[j].y.push(v);
    });
  }
  return out;
}

/**
 * Re-measuring after a K change: how many of the run's snapshots have the current K's measures, or
 * null when all have (the curves are complete again).
 */
export function remeasuring(s: AppState): { done: number; total: number } | null {
  if (!s.keyFreqs || s.snapshotEpochs.length === 0) return null;
  const versions = s.history.column('keyFreqsVersion');
  let total = 0;
  let done = 0;
  for (const e of s.snapshotEpochs) {
    const i = s.history.indexOf(e);
    if (i < 0) continue;
    total++;
    if (versions[i] === s.keyFreqs.version) done++;
  }
  return done < total ? { done, total } : null;
}

let phaseCache: { version: number; runId: number | null; phases: Phase[] } | null = null;
/** The run's last complete excluded-loss curve measured with the rule's K (not a K pinned to explore). */
let ruleExcluded: { runId: number | null; values: Float64Array } | null = null;

/**
 * The phases of the run so far, computed once per history version, and only from complete curves
 * of the rule's K: while past snapshots are re-measured, or while K is pinned by hand to explore,
 * the memorization rule reads the excluded loss last measured completely with the rule's K.
 */
export function phases(s: AppState): Phase[] {
  if (phaseCache && phaseCache.version === s.historyVersion) return phaseCache.phases;
  const runId = s.run?.runId ?? null;
  const h = s.history;
  const current = curve(s, 'excludedLoss');
  const complete = remeasuring(s) === null;
  if (complete && !s.keyFreqs?.pinned) ruleExcluded = { runId, values: current.slice() };
  let excluded: Float64Array = current;
  if (ruleExcluded && ruleExcluded.runId === runId && (!complete || s.keyFreqs?.pinned)) {
    excluded = new Float64Array(h.length).fill(NaN);
    excluded.set(ruleExcluded.values.subarray(0, h.length));
  } else if (!complete && phaseCache && phaseCache.runId === runId) {
    phaseCache = { ...phaseCache, version: s.historyVersion };
    return phaseCache.phases;
  }
  const result =
    h.length < 3
      ? []
      : detectPhases({
          epoch: h.column('epoch'),
          testLoss: h.column('testLoss'),
          excludedLoss: excluded,
          testAcc: h.column('testAcc'),
          giniWL: h.column('giniWL'),
        });
  phaseCache = { version: s.historyVersion, runId, phases: result };
  return result;
}

let slingshotCache: { version: number; list: Slingshot[] } | null = null;

/** The run's slingshots (App. D.2) by the rule of analysis/slingshots.ts, once per history version. */
export function slingshots(s: AppState): Slingshot[] {
  if (slingshotCache && slingshotCache.version === s.historyVersion) return slingshotCache.list;
  const h = s.history;
  const list = detectSlingshots(h.column('epoch'), h.column('trainLoss'), h.column('trainAcc'));
  slingshotCache = { version: s.historyVersion, list };
  return list;
}

/** The phase an epoch falls in, as far as the run has shown it. */
export function phaseAt(s: AppState, epoch: number): Phase | null {
  return phases(s).find((p) => epoch >= p.start && (p.end === null || epoch < p.end)) ?? null;
}

/** A live setting changed between two checkpoints. */
export interface LiveChange {
  /** The first checkpoint with the new value, and the one before it. */
  epoch: number;
  before: number;
  setting: 'weight decay λ' | 'learning rate';
  from: number;
  to: number;
}

/** Every change of λ or the learning rate during the run, from the history's own columns. */
export function liveChanges(s: AppState): LiveChange[] {
  const epoch = s.history.column('epoch');
  const out: LiveChange[] = [];
  for (const [name, setting] of [
    ['weightDecay', 'weight decay λ'],
    ['lr', 'learning rate'],
  ] as const) {
    const col = s.history.column(name);
    for (let i = 1; i < col.length; i++) {
      if (Number.isFinite(col[i]) && Number.isFinite(col[i - 1]) && col[i] !== col[i - 1]) out.push({ epoch: epoch[i], before: epoch[i - 1], setting, from: col[i - 1], to: col[i] });
    }
  }
  return out.sort((a, b) => a.epoch - b.epoch);
}

/** "14, 35, 41" or "none yet". */
export function formatK(ks: readonly number[] | undefined | null): string {
  return ks && ks.length > 0 ? ks.join(', ') : 'none yet';
}
