/**
 * Saved runs in IndexedDB, so a run survives a reload, a crash or a lost GPU.
 *
 *   runs       key → SavedRunMeta (small: what the list shows)
 *   files      key → Uint8Array, the run file without snapshots (history, split, K, weights and
 *              Adam moments to resume exactly) — the same format as an exported run
 *   snapshots  [key, epoch] → Float32Array of all weights at that epoch
 *
 * Storage is bounded: above the budget the oldest runs' snapshots are thinned first (every other
 * one), never a run's latest snapshot, and never its resume state.
 */
import { numParams } from '../model/params.ts';
import { decodeRun, encodeRun, type RunData, type RunSnapshot } from '../run/run-file.ts';
import type { SavedRunMeta } from '../store/saved-runs.ts';

export const DB_NAME = 'grokscope';
const DB_VERSION = 1;
/** Default bound on what saved runs may take (the browser's own quota is usually far larger). */
export const STORAGE_BUDGET_BYTES = 400 * 1024 * 1024;

export interface SaveRequest {
  key: string;
  name: string;
  finished: boolean;
  run: RunData;
  /** Snapshots not yet saved (the run's `snapshots` are ignored by save). */
  newSnapshots: RunSnapshot[];
  /** The snapshots the run still keeps: saved ones not in this list are deleted (thinned). */
  keepSnapshotEpochs: number[];
}

function request<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error ?? new Error('IndexedDB request failed'));
  });
}

function done(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error ?? new Error('IndexedDB transaction failed'));
    tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction aborted (storage full?)'));
  });
}

/** A fresh key for a new run. */
export function newRunKey(): string {
  return `${Date.now().toString(36)}-${Math.floor(Math.random() * 1e9).toString(36)}`;
}

export class RunStore {
  private constructor(private readonly db: IDBDatabase) {}

  static async open(factory: IDBFactory = indexedDB, name = DB_NAME): Promise<RunStore> {
    const req = factory.open(name, DB_VERSION);
    req.onupgradeneeded = () => {
      const db = req.result;
      if (!db.objectStoreNames.contains('runs')) db.createObjectStore('runs', { keyPath: 'key' });
      if (!db.objectStoreNames.contains('files')) db.createObjectStore('files');
      if (!db.objectStoreNames.contains('snapshots')) db.createObjectStore('snapshots');
    };
    return new RunStore(await request(req));
  }

  close(): void {
    this.db.close();
  }

  /** Saved runs, most recently updated first. */
  async list(): Promise<SavedRunMeta[]> {
    const tx = this.db.transaction('runs', 'readonly');
    const all = (await request(tx.objectStore('runs').getAll())) as SavedRunMeta[];
    return all.sort((a, b) => b.updatedAt - a.updatedAt);
  }

  /** Writes a run: its file (replaced), its new snapshots, and deletes thinned snapshots. */
  async save(req: SaveRequest): Promise<SavedRunMeta> {
    const file = encodeRun({ ...req.run, snapshots: [] });
    const tx = this.db.transaction(['runs', 'files', 'snapshots'], 'readwrite');
    const runs = tx.objectStore('runs');
    const snaps = tx.objectStore('snapshots');
    const previous = (await request(runs.get(req.key))) as SavedRunMeta | undefined;
    const keep = new Set(req.keepSnapshotEpochs);
    const saved = new Set(previous?.snapshotEpochs ?? []);
    for (const e of saved) if (!keep.has(e)) snaps.delete([req.key, e]);
    for (const s of req.newSnapshots) {
      snaps.put(s.weights, [req.key, s.epoch]);
      saved.add(s.epoch);
    }
    const epochs = [...saved].filter((e) => keep.has(e)).sort((a, b) => a - b);
    const meta: SavedRunMeta = {
      key: req.key,
      name: req.name,
      createdAt: previous?.createdAt ?? Date.now(),
      updatedAt: Date.now(),
      epoch: req.run.resume?.t ?? req.run.history.at(-1)?.epoch ?? 0,
      config: req.run.config,
      finished: req.finished,
      bytes: file.byteLength + epochs.length * 4 * numParams(req.run.config),
      snapshotEpochs: epochs,
    };
    tx.objectStore('files').put(file, req.key);
    runs.put(meta);
    await done(tx);
    return meta;
  }

  /** The whole run (file and snapshots), checked as an imported file would be. */
  async load(key: string): Promise<RunData> {
    const tx = this.db.transaction(['runs', 'files', 'snapshots'], 'readonly');
    const meta = (await request(tx.objectStore('runs').get(key))) as SavedRunMeta | undefined;
    const file = (await request(tx.objectStore('files').get(key))) as Uint8Array | undefined;
    if (!meta || !file) throw new Error('this saved run no longer exists');
    const snapshots: RunSnapshot[] = [];
    for (const epoch of meta.snapshotEpochs) {
      const w = (await request(tx.objectStore('snapshots').get([key, epoch]))) as Float32Array | undefined;
      if (w) snapshots.push({ epoch, weights: w });
    }
    const run = decodeRun(file);
    return { ...run, name: meta.name, snapshots };
  }

  /** A run's file alone (history, config; no snapshots): cheap, for overlaying its curves. */
  async loadHistory(key: string): Promise<RunData> {
    const tx = this.db.transaction(['runs', 'files'], 'readonly');
    const meta = (await request(tx.objectStore('runs').get(key))) as SavedRunMeta | undefined;
    const file = (await request(tx.objectStore('files').get(key))) as Uint8Array | undefined;
    if (!meta || !file) throw new Error('this saved run no longer exists');
    return { ...decodeRun(file), name: meta.name };
  }

  async rename(key: string, name: string): Promise<void> {
    const tx = this.db.transaction('runs', 'readwrite');
    const meta = (await request(tx.objectStore('runs').get(key))) as SavedRunMeta | undefined;
    if (meta) tx.objectStore('runs').put({ ...meta, name: name.slice(0, 200) });
    await done(tx);
  }

  async delete(key: string): Promise<void> {
    const tx = this.db.transaction(['runs', 'files', 'snapshots'], 'readwrite');
    const meta = (await request(tx.objectStore('runs').get(key))) as SavedRunMeta | undefined;
    for (const e of meta?.snapshotEpochs ?? []) tx.objectStore('snapshots').delete([key, e]);
    tx.objectStore('files').delete(key);
    tx.objectStore('runs').delete(key);
    await done(tx);
  }

  /** Total bytes of all saved runs. */
  async usage(): Promise<number> {
    return (await this.list()).reduce((n, r) => n + r.bytes, 0);
  }

  /**
   * Thins snapshots until the saved runs fit `budget`: the least recently updated run first, every
   * other snapshot but its latest; then the next run. Returns the bytes freed.
   */
  async enforceBudget(budget = STORAGE_BUDGET_BYTES): Promise<number> {
    let runs = await this.list();
    let total = runs.reduce((n, r) => n + r.bytes, 0);
    const start = total;
    for (let pass = 0; pass < 20 && total > budget; pass++) {
      let thinned = false;
      for (const run of [...runs].reverse()) {
        if (total <= budget) break;
        if (run.snapshotEpochs.length < 3) continue;
        const per = 4 * numParams(run.config);
        const latest = run.snapshotEpochs.at(-1)!;
        const drop = run.snapshotEpochs.filter((e, i) => i % 2 === 1 && e !== latest);
        const tx = this.db.transaction(['runs', 'snapshots'], 'readwrite');
        for (const e of drop) tx.objectStore('snapshots').delete([run.key, e]);
        const kept = run.snapshotEpochs.filter((e) => !drop.includes(e));
        const bytes = Math.round(run.bytes - drop.length * per);
        tx.objectStore('runs').put({ ...run, snapshotEpochs: kept, bytes });
        await done(tx);
        total -= run.bytes - bytes;
        thinned = true;
      }
      if (!thinned) break;
      runs = await this.list();
    }
    return start - total;
  }
}
