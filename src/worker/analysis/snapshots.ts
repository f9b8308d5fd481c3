/**
 * Weight snapshots of a run, kept so that past checkpoints can be re-measured (a new K, §5.6) and
 * viewed in full (the scrubber). Held as flat float32 arrays within a byte budget: snapshots are
 * taken at least `spacing` epochs apart, and when the budget is full the spacing doubles and the
 * store is thinned to it — so a run of any length keeps an evenly spread set, the first (epoch 0)
 * and the latest always included.
 */

/** Default memory for snapshots: ~100 mainline snapshots (905 KB each). */
export const SNAPSHOT_BUDGET_BYTES = 96 * 1024 * 1024;

export interface Snapshot {
  epoch: number;
  /** All parameters flattened in paramSpecs order. */
  weights: Float32Array;
}

export class SnapshotStore {
  private snapshots: Snapshot[] = [];
  private spacing: number;
  readonly capacity: number;

  constructor(
    bytesPerSnapshot: number,
    budgetBytes = SNAPSHOT_BUDGET_BYTES,
    initialSpacing = 1,
  ) {
    this.capacity = Math.max(8, Math.floor(budgetBytes / bytesPerSnapshot));
    this.spacing = initialSpacing;
  }

  get size(): number {
    return this.snapshots.length;
  }

  get minSpacing(): number {
    return this.spacing;
  }

  /** Whether a checkpoint at `epoch` should be kept as a snapshot. */
  wants(epoch: number): boolean {
    const last = this.snapshots.at(-1);
    return !last || epoch >= last.epoch + this.spacing || epoch < last.epoch;
  }

  /**
   * Adds a snapshot (replacing any at or after its epoch: a resumed or rewound run), thinning when
   * over capacity. The previous latest is kept only if it fits the spacing.
   */
  add(epoch: number, weights: Float32Array): void {
    while (this.snapshots.length > 0 && this.snapshots.at(-1)!.epoch >= epoch) this.snapshots.pop();
    const prev = this.snapshots.at(-1);
    // The previous latest was kept unconditionally; drop it if it is too close to its predecessor.
    if (prev && this.snapshots.length >= 2 && prev.epoch - this.snapshots.at(-2)!.epoch < this.spacing) this.snapshots.pop();
    this.snapshots.push({ epoch, weights });
    while (this.snapshots.length > this.capacity) this.thin();
  }

  /** Doubles the spacing and keeps the first, then every snapshot at least `spacing` after the last kept, and the latest. */
  private thin(): void {
    this.spacing *= 2;
    const kept: Snapshot[] = [];
    const latest = this.snapshots.at(-1)!;
    for (const s of this.snapshots) {
      if (kept.length === 0 || s.epoch >= kept.at(-1)!.epoch + this.spacing) kept.push(s);
    }
    if (kept.at(-1) !== latest) kept.push(latest);
    this.snapshots = kept;
  }

  /** The snapshot whose epoch is nearest to `epoch` (the earlier one on a tie). */
  nearest(epoch: number): Snapshot | null {
    let best: Snapshot | null = null;
    for (const s of this.snapshots) if (!best || Math.abs(s.epoch - epoch) < Math.abs(best.epoch - epoch)) best = s;
    return best;
  }

  /** The last snapshot at or before `epoch` (the first one when all are later): weights the shown epoch had. */
  atOrBefore(epoch: number): Snapshot | null {
    let best: Snapshot | null = null;
    for (const s of this.snapshots) if (s.epoch <= epoch && (!best || s.epoch > best.epoch)) best = s;
    return best ?? this.snapshots[0] ?? null;
  }

  at(epoch: number): Snapshot | null {
    return this.snapshots.find((s) => s.epoch === epoch) ?? null;
  }

  epochs(): number[] {
    return this.snapshots.map((s) => s.epoch);
  }

  all(): readonly Snapshot[] {
    return this.snapshots;
  }

  /** Drops the snapshots after `epoch` (a rolled-back run). */
  truncateAfter(epoch: number): void {
    this.snapshots = this.snapshots.filter((s) => s.epoch <= epoch);
  }

  /** Replaces the store's content (a run loaded from a save or a file). */
  restore(snapshots: readonly Snapshot[]): void {
    this.snapshots = [...snapshots].sort((a, b) => a.epoch - b.epoch);
    while (this.snapshots.length > this.capacity) this.thin();
  }

  /** Adds past snapshots that arrived late (a recording's pieces), keeping those already held. */
  insert(snapshots: readonly Snapshot[]): void {
    const held = new Set(this.snapshots.map((s) => s.epoch));
    this.restore([...this.snapshots, ...snapshots.filter((s) => !held.has(s.epoch))]);
  }

  clear(): void {
    this.snapshots = [];
  }
}
