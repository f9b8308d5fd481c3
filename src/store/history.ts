/**
 * The checkpoint history of one run, as growable typed columns (and row-per-checkpoint matrices
 * for the per-frequency measures). It is mutated in place and versioned: the store holds a
 * `historyVersion` number, views subscribe to it and read the columns they draw, so a 40k-epoch
 * run costs no per-checkpoint React state copies.
 */
import { HISTORY_COLUMNS, HISTORY_MATRICES, type Checkpoint, type HistoryColumn, type HistoryMatrix } from '../run/history-columns.ts';
import type { RecomputedRow } from '../run/protocol.ts';

export class History {
  length = 0;
  private cols: Record<HistoryColumn, Float64Array>;
  private mats: Record<HistoryMatrix, { width: number; data: Float32Array }>;
  private perFreq: number[][] = [];

  constructor(capacity = 256) {
    this.cols = Object.fromEntries(HISTORY_COLUMNS.map((c) => [c, new Float64Array(capacity)])) as Record<HistoryColumn, Float64Array>;
    this.mats = Object.fromEntries(HISTORY_MATRICES.map((m) => [m, { width: 0, data: new Float32Array(0) }])) as Record<
      HistoryMatrix,
      { width: number; data: Float32Array }
    >;
  }

  /**
   * Appends a checkpoint. A checkpoint at or before the last epoch (a run resumed from an older
   * save) first drops the later ones, so epochs stay strictly increasing.
   */
  push(c: Checkpoint): void {
    while (this.length > 0 && this.cols.epoch[this.length - 1] >= c.epoch) this.length -= 1;
    this.perFreq.length = this.length;
    if (this.length === this.cols.epoch.length) this.grow();
    for (const name of HISTORY_COLUMNS) this.cols[name][this.length] = c[name];
    for (const name of HISTORY_MATRICES) {
      const m = this.mats[name];
      const row = c[name];
      if (m.width === 0 && row.length > 0) {
        m.width = row.length;
        m.data = new Float32Array(this.cols.epoch.length * m.width).fill(NaN);
      }
      if (m.width > 0) {
        if (row.length === m.width) m.data.set(row, this.length * m.width);
        else m.data.fill(NaN, this.length * m.width, (this.length + 1) * m.width);
      }
    }
    this.perFreq.push([...c.excludedLossPerFreq]);
    this.length += 1;
  }

  /** Replaces the K-dependent measures of the checkpoint at `row.epoch`, if present. */
  applyRecomputed(row: RecomputedRow, version: number): boolean {
    const i = this.indexOf(row.epoch);
    if (i < 0) return false;
    this.cols.restrictedLoss[i] = row.restrictedLoss;
    this.cols.restrictedAcc[i] = row.restrictedAcc;
    this.cols.excludedLoss[i] = row.excludedLoss;
    this.cols.logitFVE[i] = row.logitFVE;
    this.cols.keyFreqsVersion[i] = version;
    this.perFreq[i] = [...row.excludedLossPerFreq];
    return true;
  }

  /** Sets the neuron count measured by a heavy pass at `epoch`. */
  setNeuronsWellExplained(epoch: number, count: number): void {
    const i = this.indexOf(epoch);
    if (i >= 0) this.cols.neuronsWellExplained[i] = count;
  }

  /** Index of the checkpoint at exactly `epoch` (binary search), or −1. */
  indexOf(epoch: number): number {
    const e = this.cols.epoch;
    let lo = 0;
    let hi = this.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (e[mid] === epoch) return mid;
      if (e[mid] < epoch) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  /** Index of the last checkpoint at or before `epoch` (0 if none is). */
  indexAtOrBefore(epoch: number): number {
    const e = this.cols.epoch;
    let lo = 0;
    let hi = this.length - 1;
    let best = 0;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (e[mid] <= epoch) {
        best = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return best;
  }

  /** A view (no copy) of one column's filled part. */
  column(name: HistoryColumn): Float64Array {
    return this.cols[name].subarray(0, this.length);
  }

  /** Width of a per-frequency matrix (0 until a checkpoint with it arrives). */
  width(name: HistoryMatrix): number {
    return this.mats[name].width;
  }

  /** One checkpoint's row of a matrix (a view). */
  row(name: HistoryMatrix, i: number): Float32Array {
    const m = this.mats[name];
    return m.data.subarray(i * m.width, (i + 1) * m.width);
  }

  /** Column j of a matrix over all checkpoints (a copy). */
  matrixColumn(name: HistoryMatrix, j: number): Float32Array {
    const m = this.mats[name];
    const out = new Float32Array(this.length);
    for (let i = 0; i < this.length; i++) out[i] = m.data[i * m.width + j];
    return out;
  }

  excludedLossPerFreq(i: number): number[] {
    return this.perFreq[i] ?? [];
  }

  at(i: number): Checkpoint {
    const out = {} as Checkpoint;
    for (const name of HISTORY_COLUMNS) out[name] = this.cols[name][i];
    for (const name of HISTORY_MATRICES) out[name] = Array.from(this.mats[name].width > 0 ? this.row(name, i) : []);
    out.excludedLossPerFreq = this.excludedLossPerFreq(i);
    return out;
  }

  last(): Checkpoint | null {
    return this.length > 0 ? this.at(this.length - 1) : null;
  }

  toArray(): Checkpoint[] {
    return Array.from({ length: this.length }, (_, i) => this.at(i));
  }

  clear(): void {
    this.length = 0;
    this.perFreq = [];
    for (const name of HISTORY_MATRICES) this.mats[name] = { width: 0, data: new Float32Array(0) };
  }

  private grow(): void {
    const capacity = this.cols.epoch.length * 2;
    for (const name of HISTORY_COLUMNS) {
      const bigger = new Float64Array(capacity);
      bigger.set(this.cols[name]);
      this.cols[name] = bigger;
    }
    for (const name of HISTORY_MATRICES) {
      const m = this.mats[name];
      if (m.width === 0) continue;
      const bigger = new Float32Array(capacity * m.width).fill(NaN);
      bigger.set(m.data);
      m.data = bigger;
    }
  }
}
