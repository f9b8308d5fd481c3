/**
 * The last sweep outlives the page (#13; "nothing lost", #16): each run is written to IndexedDB as
 * it finishes, so a reload, a closed tab or a crash mid-sweep keeps every finished run, openable as
 * before. A run keeps its history, its weights and Adam moments (it can train on) and its last
 * snapshot; the older snapshots stay in the page (up to 24 MB a run), not on disk. A new sweep
 * replaces the kept one, as it replaces the one on show.
 */
import type { TrainConfig } from '../../config/schema.ts';
import type { Checkpoint } from '../../run/history-columns.ts';
import type { LoadableRun } from '../../run/protocol.ts';
import { done, request } from '../storage/run-store.ts';

const DB_NAME = 'grokscope-sweep';
const META = 'meta';
const RUNS = 'runs';

/** What the kept sweep was: enough to lay out its runs again. */
export interface KeptSweepMeta {
  /** `encodeSweep(spec)`: `wd:0.3,1;seed:0,1`. */
  sweep: string;
  base: TrainConfig;
  epochs: number;
  every: number;
  backend: string | null;
  startedAt: string;
}

export interface KeptRun {
  index: number;
  run: LoadableRun;
  history: Checkpoint[];
}

export class SweepKeep {
  private constructor(private readonly db: IDBDatabase) {}

  static async open(factory: IDBFactory = indexedDB, name = DB_NAME): Promise<SweepKeep> {
    const open = factory.open(name, 1);
    open.onupgradeneeded = () => {
      open.result.createObjectStore(META);
      open.result.createObjectStore(RUNS);
    };
    return new SweepKeep(await request(open));
  }

  /** A new sweep: forgets the kept one and keeps this one's description. */
  async begin(meta: KeptSweepMeta): Promise<void> {
    const tx = this.db.transaction([META, RUNS], 'readwrite');
    tx.objectStore(RUNS).clear();
    tx.objectStore(META).put(meta, 'sweep');
    await done(tx);
  }

  /** A finished run, with its last snapshot only (the weights it ended on). */
  async keepRun(r: KeptRun): Promise<void> {
    const tx = this.db.transaction(RUNS, 'readwrite');
    tx.objectStore(RUNS).put({ ...r, run: { ...r.run, snapshots: r.run.snapshots.slice(-1) } }, r.index);
    await done(tx);
  }

  /** The kept sweep and its finished runs (by index), or null when none was kept. */
  async load(): Promise<{ meta: KeptSweepMeta; runs: KeptRun[] } | null> {
    const tx = this.db.transaction([META, RUNS], 'readonly');
    const meta = (await request(tx.objectStore(META).get('sweep'))) as KeptSweepMeta | undefined;
    const runs = (await request(tx.objectStore(RUNS).getAll())) as KeptRun[];
    if (!meta) return null;
    return { meta, runs: runs.sort((a, b) => a.index - b.index) };
  }

  close(): void {
    this.db.close();
  }
}
