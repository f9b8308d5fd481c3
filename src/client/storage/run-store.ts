/**
 * Saved runs in IndexedDB, so a run survives a reload, a crash or a lost GPU.
 *
 *   runs       key → SavedRunMeta (small: what the list shows)
 *   files      key → Uint8Array, the run file without snapshots (history, split, K, weights and
 *              Adam moments to resume exactly) — the same format as an exported run
 *   snapshots  [key, epoch] → Float32Array of all weights at that epoch
 *   journal    key → the weights, Adam moments and history rows of the run's last checkpoint,
 *              written at every checkpoint before the page shows it (cheap: no snapshots, no
 *              re-encoding of the history); a load takes it when it is newer than the file
 *
 * A save never drops a snapshot the run holds. Storage is bounded: above the budget the oldest
 * runs' snapshots are thinned first (every other one), never a run's latest snapshot, and never
 * its resume state; if that is not enough the oldest whole runs go (never the one open), and the
 * caller is told what went.
 */
import { numParams } from '../../model/transformer/params.ts';
import type { Checkpoint } from '../../run/history-columns.ts';
import type { KeyFreqsState } from '../../run/protocol.ts';
import type { LlcSeries } from '../../config/llc.ts';
import { decodeRun, encodeRun, type RunData, type RunSnapshot } from '../../files/run-file.ts';
import type { SavedRunMeta } from '../../store/saved-runs.ts';

export const DB_NAME = 'grokscope';
const DB_VERSION = 2;
/** Default bound on what saved runs may take (the browser's own quota is usually far larger). */
export const STORAGE_BUDGET_BYTES = 400 * 1024 * 1024;

export interface SaveRequest {
  key: string;
  name: string;
  finished: boolean;
  run: RunData;
  /** Snapshots not yet saved (the run's `snapshots` are ignored by save). */
  newSnapshots: RunSnapshot[];
}

/** What the last checkpoint adds to the saved file. */
export interface JournalEntry {
  t: number;
  weights: Float32Array;
  m: Float32Array;
  v: Float32Array;
  /** History rows after the file's last one, up to and including epoch t. */
  rows: Checkpoint[];
  keyFreqs: KeyFreqsState | null;
  /** The LLC estimates made by this checkpoint (#23): they come between checkpoints, not with them. */
  llc?: LlcSeries | null;
}

/** What enforcing the budget had to remove. */
export interface BudgetReport {
  freed: number;
  /** Names of runs whose snapshots were thinned, and of runs deleted whole. */
  thinned: string[];
  deleted: string[];
  /** Still over the budget (the open run alone is larger). */
  over: boolean;
}

/** The browser refused to store more: its quota for this page is full. */
export class StorageFullError extends Error {
  override name = 'StorageFullError';
}

/**
 * The connection to the database is gone: the browser cleared the site's data, or another tab
 * deleted or upgraded the database. Opening it again (RunStore.open) recreates what is missing.
 */
export class StoreClosedError extends Error {
  override name = 'StoreClosedError';
}

/** Whether an IndexedDB error means the connection is closed (InvalidStateError: "the database connection is closing"). */
export function isClosedError(err: unknown): boolean {
  const e = err as { name?: string; message?: string } | null;
  return err instanceof StoreClosedError || e?.name === 'InvalidStateError' || /connection (is|was) clos/i.test(e?.message ?? '');
}

/**
 * A transaction aborted under its request: a clear of the site's data does that to the one in
 * flight (the connection closes after it). Asked again, the store says whether the save is gone.
 */
export function isAbortedError(err: unknown): boolean {
  const e = err as { name?: string; message?: string } | null;
  return e?.name === 'AbortError' || /transaction was aborted/i.test(e?.message ?? '');
}

function storageError(err: unknown, fallback: string): Error {
  const e = err as { name?: string; message?: string } | null;
  if (e?.name === 'QuotaExceededError' || /quota/i.test(e?.message ?? '')) return new StorageFullError(e?.message || 'QuotaExceededError');
  if (isClosedError(err)) return new StoreClosedError(e?.message || 'the database connection is closed');
  if (err instanceof Error && err.message) return err;
  return new Error(e?.name ? `${e.name}${e.message ? `: ${e.message}` : ''}` : fallback);
}

/** An IndexedDB request as a promise; a full quota rejects as StorageFullError (also for sweep-keep.ts). */
export function request<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(storageError(r.error, 'IndexedDB request failed'));
  });
}

/** Settles when a transaction commits; a full quota rejects as StorageFullError. */
export function done(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(storageError(tx.error, 'IndexedDB transaction failed'));
    tx.onabort = () => reject(storageError(tx.error, 'IndexedDB transaction aborted'));
  });
}

/** A fresh key for a new run. */
export function newRunKey(): string {
  return `${Date.now().toString(36)}-${Math.floor(Math.random() * 1e9).toString(36)}`;
}

export class RunStore {
  /** The connection was closed under this page (site data cleared, the database deleted elsewhere). */
  closed = false;

  private constructor(private readonly db: IDBDatabase) {
    // Cleared by the browser or another tab: the browser closes the connection.
    db.onclose = () => {
      this.closed = true;
    };
    // Another tab deletes or upgrades the database: let it (a connection left open blocks it), and
    // open again when next needed.
    db.onversionchange = () => {
      this.closed = true;
      db.close();
    };
  }

  /** A transaction, or StoreClosedError when the connection is gone. */
  private tx(stores: string | string[], mode: IDBTransactionMode): IDBTransaction {
    if (this.closed) throw new StoreClosedError('the database connection is closed');
    try {
      return this.db.transaction(stores, mode);
    } catch (err) {
      if (isClosedError(err)) {
        this.closed = true;
        throw new StoreClosedError(err instanceof Error ? err.message : String(err));
      }
      throw err;
    }
  }

  /**
   * Opens (or recreates) the database. An open that races a clear of the site's data fails with
   * "The connection was closed": asked again a moment later it succeeds, so saving never stops for it.
   */
  static async open(factory: IDBFactory = indexedDB, name = DB_NAME): Promise<RunStore> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await RunStore.openOnce(factory, name);
      } catch (err) {
        if (attempt >= 3 || !(isClosedError(err) || isAbortedError(err))) throw err;
        await new Promise((resolve) => setTimeout(resolve, 200 * (attempt + 1)));
      }
    }
  }

  private static async openOnce(factory: IDBFactory, name: string): Promise<RunStore> {
    const req = factory.open(name, DB_VERSION);
    req.onupgradeneeded = () => {
      const db = req.result;
      if (!db.objectStoreNames.contains('runs')) db.createObjectStore('runs', { keyPath: 'key' });
      if (!db.objectStoreNames.contains('files')) db.createObjectStore('files');
      if (!db.objectStoreNames.contains('snapshots')) db.createObjectStore('snapshots');
      if (!db.objectStoreNames.contains('journal')) db.createObjectStore('journal');
    };
    return new RunStore(await request(req));
  }

  close(): void {
    this.closed = true;
    this.db.close();
  }

  /** Saved runs, most recently updated first. */
  async list(): Promise<SavedRunMeta[]> {
    const tx = this.tx('runs', 'readonly');
    const all = (await request(tx.objectStore('runs').getAll())) as SavedRunMeta[];
    return all.sort((a, b) => b.updatedAt - a.updatedAt);
  }

  /**
   * Writes a run: its file (replaced) and its new snapshots. Snapshots already saved stay (only the
   * budget thins them), except those after the run's epoch: a run rolled back past them.
   */
  async save(req: SaveRequest): Promise<SavedRunMeta> {
    const file = encodeRun({ ...req.run, snapshots: [] });
    const runEpoch = req.run.resume?.t ?? req.run.history.at(-1)?.epoch ?? 0;
    const tx = this.tx(['runs', 'files', 'snapshots', 'journal'], 'readwrite');
    const runs = tx.objectStore('runs');
    const snaps = tx.objectStore('snapshots');
    const previous = (await request(runs.get(req.key))) as SavedRunMeta | undefined;
    const saved = new Set(previous?.snapshotEpochs ?? []);
    for (const s of req.newSnapshots) {
      snaps.put(s.weights, [req.key, s.epoch]);
      saved.add(s.epoch);
    }
    for (const e of saved) {
      if (e > runEpoch) {
        snaps.delete([req.key, e]);
        saved.delete(e);
      }
    }
    const epochs = [...saved].sort((a, b) => a - b);
    // The file now holds everything an older journal said.
    const journal = (await request(tx.objectStore('journal').get(req.key))) as JournalEntry | undefined;
    if (journal && journal.t <= runEpoch) tx.objectStore('journal').delete(req.key);
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

  /** Records the run's last checkpoint (weights, moments, new history rows) after its saved file. */
  async journal(key: string, entry: JournalEntry): Promise<boolean> {
    const tx = this.tx(['runs', 'journal'], 'readwrite');
    const meta = (await request(tx.objectStore('runs').get(key))) as SavedRunMeta | undefined;
    if (!meta) {
      tx.abort();
      await done(tx).catch(() => undefined);
      return false;
    }
    tx.objectStore('journal').put(entry, key);
    tx.objectStore('runs').put({ ...meta, epoch: entry.t, updatedAt: Date.now() });
    await done(tx);
    return true;
  }

  /** The whole run (file, journal and snapshots), checked as an imported file would be. */
  async load(key: string): Promise<RunData> {
    const tx = this.tx(['runs', 'files', 'snapshots', 'journal'], 'readonly');
    const meta = (await request(tx.objectStore('runs').get(key))) as SavedRunMeta | undefined;
    const file = (await request(tx.objectStore('files').get(key))) as Uint8Array | undefined;
    if (!meta || !file) throw new Error('this saved run no longer exists');
    const snapshots: RunSnapshot[] = [];
    for (const epoch of meta.snapshotEpochs) {
      const w = (await request(tx.objectStore('snapshots').get([key, epoch]))) as Float32Array | undefined;
      if (w) snapshots.push({ epoch, weights: w });
    }
    const journal = (await request(tx.objectStore('journal').get(key))) as JournalEntry | undefined;
    const run = decodeRun(file);
    if (journal && journal.t > (run.resume?.t ?? -1)) {
      const last = run.history.at(-1)?.epoch ?? -1;
      run.history = [...run.history, ...journal.rows.filter((c) => c.epoch > last && c.epoch <= journal.t)];
      run.resume = { t: journal.t, weights: journal.weights, m: journal.m, v: journal.v };
      run.keyFreqs = journal.keyFreqs ?? run.keyFreqs;
      run.llc = journal.llc ?? run.llc;
    }
    return { ...run, name: meta.name, snapshots: snapshots.filter((s) => s.epoch <= (run.resume?.t ?? Infinity)) };
  }

  /** A run's file alone (history, config; no snapshots): cheap, for overlaying its curves. */
  async loadHistory(key: string): Promise<RunData> {
    const tx = this.tx(['runs', 'files'], 'readonly');
    const meta = (await request(tx.objectStore('runs').get(key))) as SavedRunMeta | undefined;
    const file = (await request(tx.objectStore('files').get(key))) as Uint8Array | undefined;
    if (!meta || !file) throw new Error('this saved run no longer exists');
    return { ...decodeRun(file), name: meta.name };
  }

  async rename(key: string, name: string): Promise<void> {
    const tx = this.tx('runs', 'readwrite');
    const meta = (await request(tx.objectStore('runs').get(key))) as SavedRunMeta | undefined;
    if (meta) tx.objectStore('runs').put({ ...meta, name: name.slice(0, 200) });
    await done(tx);
  }

  async delete(key: string): Promise<void> {
    const tx = this.tx(['runs', 'files', 'snapshots', 'journal'], 'readwrite');
    const meta = (await request(tx.objectStore('runs').get(key))) as SavedRunMeta | undefined;
    for (const e of meta?.snapshotEpochs ?? []) tx.objectStore('snapshots').delete([key, e]);
    tx.objectStore('journal').delete(key);
    tx.objectStore('files').delete(key);
    tx.objectStore('runs').delete(key);
    await done(tx);
  }

  /** Total bytes of all saved runs. */
  async usage(): Promise<number> {
    return (await this.list()).reduce((n, r) => n + r.bytes, 0);
  }

  /**
   * Fits the saved runs into `budget`: thins snapshots, the least recently updated run first (every
   * other one, never its latest; the open run `protect` last), then deletes the oldest whole runs
   * (never `protect`). Says what it removed.
   */
  async enforceBudget(budget = STORAGE_BUDGET_BYTES, protect: string | null = null): Promise<BudgetReport> {
    const report: BudgetReport = { freed: 0, thinned: [], deleted: [], over: false };
    const oldestFirst = async () => (await this.list()).reverse().sort((a, b) => Number(a.key === protect) - Number(b.key === protect));
    let runs = await oldestFirst();
    let total = runs.reduce((n, r) => n + r.bytes, 0);
    for (let pass = 0; pass < 40 && total > budget; pass++) {
      let thinned = false;
      for (const run of runs) {
        if (total <= budget) break;
        if (run.snapshotEpochs.length < 2) continue;
        const per = 4 * numParams(run.config);
        const latest = run.snapshotEpochs.at(-1)!;
        // Every other one, counted back from the latest (kept): [0, 10, 20, 30] keeps 10 and 30.
        const drop = run.snapshotEpochs.filter((e, i) => (run.snapshotEpochs.length - 1 - i) % 2 === 1 && e !== latest);
        const tx = this.tx(['runs', 'snapshots'], 'readwrite');
        for (const e of drop) tx.objectStore('snapshots').delete([run.key, e]);
        const bytes = Math.round(run.bytes - drop.length * per);
        tx.objectStore('runs').put({ ...run, snapshotEpochs: run.snapshotEpochs.filter((e) => !drop.includes(e)), bytes });
        await done(tx);
        total -= run.bytes - bytes;
        report.freed += run.bytes - bytes;
        if (!report.thinned.includes(run.name)) report.thinned.push(run.name);
        thinned = true;
      }
      if (!thinned) break;
      runs = await oldestFirst();
    }
    for (const run of runs) {
      if (total <= budget) break;
      if (run.key === protect) continue;
      await this.delete(run.key);
      total -= run.bytes;
      report.freed += run.bytes;
      report.deleted.push(run.name);
    }
    report.over = total > budget;
    return report;
  }
}
