/**
 * The checkpoint history of one run, as growable typed columns. It is mutated in place and
 * versioned: the store holds a `historyVersion` number, views subscribe to it and read the
 * columns they draw, so a 40k-epoch run costs no per-checkpoint React state copies.
 */
import type { Checkpoint } from '../worker/protocol.ts';

export const HISTORY_COLUMNS = [
  'epoch',
  'trainLoss',
  'testLoss',
  'trainAcc',
  'testAcc',
  'sumSquaredWeights',
  'lr',
  'weightDecay',
] as const satisfies readonly (keyof Checkpoint)[];

export type HistoryColumn = (typeof HISTORY_COLUMNS)[number];

export class History {
  length = 0;
  private cols: Record<HistoryColumn, Float64Array>;

  constructor(capacity = 256) {
    this.cols = Object.fromEntries(HISTORY_COLUMNS.map((c) => [c, new Float64Array(capacity)])) as Record<HistoryColumn, Float64Array>;
  }

  /**
   * Appends a checkpoint. A checkpoint at or before the last epoch (a run resumed from an older
   * save) first drops the later ones, so epochs stay strictly increasing.
   */
  push(c: Checkpoint): void {
    while (this.length > 0 && this.cols.epoch[this.length - 1] >= c.epoch) this.length -= 1;
    if (this.length === this.cols.epoch.length) this.grow();
    for (const name of HISTORY_COLUMNS) this.cols[name][this.length] = c[name];
    this.length += 1;
  }

  /** A view (no copy) of one column's filled part. */
  column(name: HistoryColumn): Float64Array {
    return this.cols[name].subarray(0, this.length);
  }

  at(i: number): Checkpoint {
    const out = {} as Checkpoint;
    for (const name of HISTORY_COLUMNS) out[name] = this.cols[name][i];
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
  }

  private grow(): void {
    for (const name of HISTORY_COLUMNS) {
      const bigger = new Float64Array(this.cols[name].length * 2);
      bigger.set(this.cols[name]);
      this.cols[name] = bigger;
    }
  }
}
