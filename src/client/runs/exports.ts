/**
 * Exports of the current run as files, all made in the page (nothing is sent anywhere): the
 * history (every checkpoint: scalars as columns, per-frequency measures as lists) as CSV or JSON,
 * and the weights at the viewed epoch (the nearest snapshot, or the live weights) as a safetensors
 * checkpoint with TransformerLens names that PyTorch and TransformerLens load.
 */
import { maxOf } from '../../run/extent.ts';
import { encodeCheckpoint } from '../../files/safetensors/checkpoint.ts';
import { unflattenWeights } from '../../model/transformer/params.ts';
import { HISTORY_COLUMNS, HISTORY_MATRICES } from '../../run/history-columns.ts';
import { useAppStore } from '../../store/store.ts';
import { requestState } from '../client.ts';
import { saveBlob } from './download.ts';

function save(data: BlobPart, type: string, filename: string): void {
  saveBlob(new Blob([data], { type }), filename);
}

function stem(): string {
  const s = useAppStore.getState();
  const c = s.applied ?? s.draft;
  return `grokscope-P${c.p}-wd${c.weightDecay}-seed${c.seed}`;
}

const csvCell = (v: number) => (Number.isNaN(v) ? '' : String(v));

/** The history as CSV: one row per checkpoint; per-frequency measures as `normsWE[k]` columns. */
export function historyCsv(): string {
  const rows = useAppStore.getState().history.toArray();
  const width = (m: (typeof HISTORY_MATRICES)[number]) => maxOf(rows.map((r) => r[m].length), 0);
  const mats = HISTORY_MATRICES.map((m) => [m, width(m)] as const);
  const header = [...HISTORY_COLUMNS, ...mats.flatMap(([m, w]) => Array.from({ length: w }, (_, k) => `${m}[${k}]`))];
  const lines = rows.map((r) => [...HISTORY_COLUMNS.map((c) => csvCell(r[c])), ...mats.flatMap(([m, w]) => Array.from({ length: w }, (_, k) => csvCell(r[m][k] ?? NaN)))].join(','));
  return `${header.join(',')}\n${lines.join('\n')}\n`;
}

export function exportHistory(format: 'csv' | 'json'): void {
  const s = useAppStore.getState();
  if (format === 'csv') save(historyCsv(), 'text/csv', `${stem()}-history.csv`);
  else save(JSON.stringify({ config: s.applied, keyFreqs: s.keyFreqs, history: s.history.toArray() }, (_, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v)), 'application/json', `${stem()}-history.json`);
}

/** The weights at the viewed epoch: the nearest snapshot (or the live weights when following training). */
export async function exportWeightsAtView(): Promise<void> {
  const s = useAppStore.getState();
  try {
    const state = await requestState(-1);
    const target = s.viewEpoch ?? state.epoch;
    let epoch = state.resume.t;
    let flat = state.resume.weights;
    if (target !== epoch) {
      const nearest = state.snapshots.reduce<(typeof state.snapshots)[number] | null>((b, x) => (!b || Math.abs(x.epoch - target) < Math.abs(b.epoch - target) ? x : b), null);
      if (nearest && Math.abs(nearest.epoch - target) < Math.abs(epoch - target)) ({ epoch, weights: flat } = nearest);
    }
    const bytes = encodeCheckpoint({ config: state.config, weights: unflattenWeights(state.config, flat), epoch, trainIndices: state.trainIndices });
    save(bytes as BlobPart, 'application/octet-stream', `${stem()}-epoch${epoch}.safetensors`);
    if (epoch !== target) s.notify('info', `Saved the weights of epoch ${epoch}, the snapshot nearest to epoch ${target}.`);
  } catch (err) {
    s.notify('error', `The weights could not be exported: ${err instanceof Error ? err.message : String(err)}`);
  }
}
