/**
 * Nothing lost: the page's side of saving runs.
 *
 * - Every checkpoint is made durable before the page shows it: the worker sends the checkpoint's
 *   weights and Adam moments just before it, and they go to IndexedDB (a small journal after the
 *   saved file) first, so a reload or a closed tab resumes at the last checkpoint shown.
 * - The whole run (history, snapshots, state) is saved every AUTOSAVE_MS while it trains, when it
 *   pauses, when the tab is hidden, and before anything replaces it (Reset, Open, Import).
 * - One owner per run (run-owner.ts): a second tab never saves under the same key.
 * - A save never drops a snapshot; the storage budget thins the oldest runs' snapshots, then deletes
 *   the oldest runs, and says what went. A full quota is named as such, once, with what to do.
 * - An imported run (a file, a copy of another tab's run, a branch, a sweep's run) is the person's
 *   data: it is saved as a new run as soon as it opens.
 * - The database cleared under a training tab (site data cleared, deleted in another tab): it is
 *   opened again (recreated) and the open run written again whole, with one notice.
 * If the worker crashes the run restarts from its last save; if the GPU device is lost it continues
 * on the next backend from its last save. Opening and importing files: run-files.ts.
 */
import { maxOf } from '../../run/extent.ts';
import type { BackendName } from '../../config/backends.ts';
import { matchPreset } from '../../config/presets.ts';
import type { Checkpoint } from '../../run/history-columns.ts';
import type { ExportedState, LoadableRun } from '../../run/protocol.ts';
import type { RunData } from '../../files/run-file.ts';
import type { SavedRunMeta } from '../../store/saved-runs.ts';
import { useAppStore } from '../../store/store.ts';
import { llcSeriesUpTo, useLlcStore } from '../../store/llc.ts';
import { requestState, restartWorker, setPersistenceHooks, setWorkerLostHandler } from '../client.ts';
import { claimRun, openElsewhere, ownsRun, releaseRun } from './run-owner.ts';
import { RunStore, STORAGE_BUDGET_BYTES, isAbortedError, isClosedError, newRunKey } from './run-store.ts';
import { reportBudget, saved, tellCleared, warnSave } from './save-notices.ts';
import { trackTraining } from './was-training.ts';

/** How often a training run is saved whole. */
export const AUTOSAVE_MS = 15_000;

let runStore: Promise<RunStore | null> | null = null;
let openStore: RunStore | null = null;
/** The next write writes the whole run: the database was opened again, or past snapshots came late (a recording's pieces). */
let refill = false;
export const saveAllSnapshotsNext = (): void => void (refill = true);
/** A run opened to be kept (an import): saved once the worker has it. */
let pendingKeep = false;
/** The key being deleted by this tab (its journal's absence is then no clear of the database). */
let deleting: string | null = null;

/** Snapshot epochs of the current run already in IndexedDB. */
let savedSnapshots = new Set<number>();
/** The last history epoch in the saved file, and the rows after it (what the journal adds). */
let fileEpoch = -1;
let journalRows: Checkpoint[] = [];
/** The newest durable checkpoint's state (a full save while training saves at that epoch). */
let lastDurable: { state: ExportedState; runId: number } | null = null;
/** The open run was deleted: nothing is saved until the person presses Save now. */
let detached = false;
/** The run trained in this page since it was built or opened (so it has something to save). */
let trainedHere = false;
let saving: Promise<void> | null = null;
/** What the next 'ready' adopts: a run being opened (its key, or null for a copy or an import). */
let loading: { key: string | null; name: string; snapshots: number[]; fileEpoch: number; keep?: boolean } | null = null;
/** Backends that failed in this page (a lost device is not tried again). */
const failedBackends: BackendName[] = [];

const store = () => useAppStore.getState();

export function db(): Promise<RunStore | null> {
  if (openStore?.closed) {
    // Closed under this page: open again (a deleted database is recreated empty).
    openStore = null;
    runStore = null;
    refill = true;
  }
  runStore ??= RunStore.open().then((rs) => (openStore = rs)).catch((err: unknown) => {
    store().notify('warning', `Runs cannot be saved in this browser (IndexedDB: ${err instanceof Error ? err.message : String(err)}); export them as files instead.`);
    return null;
  });
  return runStore;
}

function runName(): string {
  const s = store();
  const c = s.applied ?? s.draft;
  return s.currentRunName || `P=${c.p}, λ=${c.weightDecay}, seed ${c.seed} · ${new Date().toLocaleString('en-US', { dateStyle: 'medium', timeStyle: 'short' })}`;
}

/** The run as a file's data: the store's history (up to the state's epoch) plus the worker's state. */
export function runData(state: ExportedState, snapshots: RunData['snapshots'], history: Checkpoint[] = store().history.toArray()): RunData {
  const s = store();
  return {
    name: runName(),
    config: state.config,
    trainIndices: state.trainIndices,
    keyFreqs: state.keyFreqs,
    history: history.filter((c) => c.epoch <= state.resume.t),
    snapshots,
    resume: state.resume,
    backend: s.backend ? { name: s.backend.name, adapter: s.backend.adapter } : null,
    createdAt: new Date().toISOString(),
    llc: llcSeriesUpTo(useLlcStore.getState(), state.resume.t),
  };
}


export async function refreshSavedRuns(): Promise<void> {
  const rs = await db();
  if (!rs) return;
  const runs = await rs.list();
  const estimate = await navigator.storage?.estimate?.().catch(() => undefined);
  useAppStore.setState({ savedRuns: runs, storageBytes: runs.reduce((n, r) => n + r.bytes, 0), storageQuota: estimate?.quota ?? null });
}

let writes: Promise<void> = Promise.resolve();

/**
 * Writes one at a time: two first saves at once would otherwise make two keys. `durableOnly`
 * resolves once the run is in IndexedDB, before the storage budget is enforced and the list of
 * saved runs refreshed (the next write still waits for those): a new run's first checkpoint is
 * shown that much sooner (issue #25).
 */
function write(state: ExportedState, history?: Checkpoint[], durableOnly = false): Promise<void> {
  const next = writes.then(() => writeNow(state, history));
  const whole = next.then((after) => (durableOnly ? after().catch((err: unknown) => warnSave('The saved runs could not be tidied', err)) : after()));
  writes = whole.catch(() => undefined);
  return durableOnly ? next.then(() => undefined) : whole;
}

/**
 * Writes the whole run under its key (a new key, owned by this tab, for a run never saved);
 * returns what follows the write (the budget and the list), for `write` to run.
 */
async function writeNow(state: ExportedState, history?: Checkpoint[]): Promise<() => Promise<void>> {
  const rs = await db();
  const s = store();
  const nothing = async () => undefined;
  // A recording being opened: the store's curves are its, not the run in hand's (saved before it).
  if (!rs || detached || s.recordingRequest) return nothing;
  let key = s.currentRunKey;
  if (!key || !ownsRun(key)) {
    key = newRunKey();
    await claimRun(key);
  }
  if (refill) {
    // The database was opened again: what it held may be gone, so every snapshot is written.
    refill = false;
    savedSnapshots = new Set();
    fileEpoch = -1;
    const { runId: _id, ...full } = await requestState(-1);
    state = { ...state, snapshots: full.snapshots };
  }
  const name = runName();
  const fresh = state.snapshots.filter((x) => !savedSnapshots.has(x.epoch) && x.epoch <= state.resume.t);
  const run = runData(state, [], history);
  await rs.save({ key, name, finished: s.status === 'done', run, newSnapshots: fresh });
  for (const x of fresh) savedSnapshots.add(x.epoch);
  fileEpoch = run.history.at(-1)?.epoch ?? -1;
  journalRows = journalRows.filter((c) => c.epoch > fileEpoch);
  useAppStore.setState({ currentRunKey: key, currentRunName: name, lastSavedAt: Date.now() });
  saved();
  return async () => {
    reportBudget(await rs.enforceBudget(STORAGE_BUDGET_BYTES, key));
    await refreshSavedRuns();
  };
}

/**
 * Saves the current run now (one at a time; a save under way is waited for). While training, it is
 * saved at its newest durable checkpoint, so a reload resumes at the last checkpoint shown.
 * `explicit` (the Save now button) also saves a run whose save was deleted, as a new run.
 */
export async function saveNow(opts: { explicit?: boolean; keep?: boolean } = {}): Promise<void> {
  if (opts.explicit) detached = false;
  const s = store();
  // A fresh run at epoch 0 has nothing to keep; an imported one (keep) is kept whatever its epoch.
  if (detached || !s.applied || (s.epoch === 0 && !opts.keep) || s.status === 'starting' || s.status === 'error') return;
  // A run opened and not trained here is already where it came from (a save, the site's recording).
  if (!opts.explicit && !opts.keep && !trainedHere && s.status !== 'running') return;
  if (saving) return saving;
  saving = (async () => {
    try {
      // The run this save is for: if another replaces it meanwhile, the answer is not its state.
      const forRun = store().run?.runId;
      const after = maxOf(savedSnapshots, -1);
      let state: ExportedState = await requestState(after).then(({ runId, ...st }) => {
        if (runId !== forRun || runId !== store().run?.runId) throw new Error('stale');
        return st;
      });
      const durable = lastDurable && lastDurable.runId === store().run?.runId ? lastDurable.state : null;
      if (store().status === 'running' && durable && durable.resume.t <= state.resume.t) {
        state = { ...state, epoch: durable.resume.t, resume: durable.resume };
      }
      try {
        await write(state);
      } catch (err) {
        // The connection closed under the page: open the database again and write the run whole.
        if (!isClosedError(err)) throw err;
        await db();
        refill = true;
        await write(state);
        tellCleared(state.resume.t);
      }
    } catch (err) {
      if (!(err instanceof Error && err.message === 'stale')) await warnSave('The run could not be saved', err);
    } finally {
      saving = null;
    }
  })();
  return saving;
}

/** Writes the whole run at this checkpoint (its first save, or after its saved copy vanished). */
async function writeWhole(state: ExportedState, checkpoint: Checkpoint, runId: number): Promise<boolean> {
  const { runId: id, ...full } = await requestState(-1);
  if (id !== runId) return false;
  await write({ ...full, epoch: state.resume.t, resume: state.resume, keyFreqs: state.keyFreqs }, [...store().history.toArray(), checkpoint], true);
  return true;
}

/** Makes a checkpoint durable before it is shown (client.ts holds it until this resolves). */
async function onCheckpointState(state: ExportedState, checkpoint: Checkpoint, runId: number): Promise<void> {
  if (runId !== store().run?.runId) return;
  trainedHere = true;
  journalRows.push(checkpoint);
  // Set last: a full save while training saves at this state, so only once it is durable.
  const durable = () => {
    lastDurable = { state, runId };
  };
  const key = store().currentRunKey;
  if (detached || (key && !ownsRun(key))) return durable();
  const rs = await db();
  if (!rs) return durable();
  const journal = (to: RunStore) => to.journal(key!, { t: state.resume.t, weights: state.resume.weights, m: state.resume.m, v: state.resume.v, rows: journalRows.filter((c) => c.epoch > fileEpoch), keyFreqs: state.keyFreqs, llc: llcSeriesUpTo(useLlcStore.getState(), state.resume.t) });
  try {
    if (!key) {
      // The first save of a run: with every snapshot it holds, at this checkpoint's state.
      if (!(await writeWhole(state, checkpoint, runId))) return;
    } else if (state.resume.t <= fileEpoch && !refill) return;
    else {
      let written = false;
      try {
        written = !refill && (await journal(rs));
      } catch (err) {
        if (isAbortedError(err)) written = await journal(rs).catch((again: unknown) => (isClosedError(again) ? false : Promise.reject(again)));
        else if (!isClosedError(err)) throw err;
      }
      if (!written) {
        if (deleting === key || detached) detach(); // this tab deleted its save meanwhile
        else {
          // Its save is gone, but not by this tab: the database was cleared or deleted. Open it
          // again and write the whole run, so nothing trained is lost at the next reload.
          await db();
          refill = true;
          if (!(await writeWhole(state, checkpoint, runId))) return;
          tellCleared(state.resume.t);
        }
      } else saved();
    }
    durable();
  } catch (err) {
    await warnSave(`The run could not be saved at epoch ${checkpoint.epoch}`, err);
  }
}

function detach(): void {
  detached = true;
  useAppStore.setState({ currentRunKey: null, lastSavedAt: null });
}

/** Says what the next 'ready' is: a saved run (its key) or a copy or import (null). */
export function expectLoad(next: { key: string | null; name: string; snapshots: number[]; fileEpoch: number; keep?: boolean }): void {
  loading = next;
}

/** A new run (built or reset) gets a new identity when first saved; an opened one keeps its own. */
function onReady(): void {
  const previous = store().currentRunKey;
  // Only a loaded run's 'ready' is the load expected: the page's first, fresh run can become ready
  // after a run was sent to load (the load waits for that build), and must not take its key.
  const loaded = store().readyLoaded;
  const next = loaded ? loading : null;
  if (loaded) loading = null;
  if (previous && previous !== next?.key) releaseRun(previous);
  savedSnapshots = new Set(next?.snapshots ?? []);
  fileEpoch = next?.fileEpoch ?? -1;
  journalRows = [];
  lastDurable = null;
  detached = false;
  trainedHere = false;
  // An import is kept as a new saved run once the worker has measured it (status leaves 'starting').
  pendingKeep = next?.keep === true && next.key === null;
  useAppStore.setState({ currentRunKey: next?.key ?? null, currentRunName: next?.name ?? '', lastSavedAt: null });
  if (pendingKeep && store().status !== 'starting') keepImported();
}

function keepImported(): void {
  pendingKeep = false;
  void saveNow({ keep: true });
}

/** Shows a run's configuration in the form and the URL, as it was trained. */
export function adoptConfig(run: RunData): void {
  useAppStore.setState({
    draft: run.config,
    preset: matchPreset(run.config),
    keyFreqsRequest: run.keyFreqs?.pinned ? run.keyFreqs.active : null,
    currentRunName: run.name,
    recordingRequest: null,
  });
}

export function toLoadable(run: RunData): LoadableRun {
  return { config: run.config, trainIndices: run.trainIndices, keyFreqs: run.keyFreqs, snapshots: run.snapshots, resume: run.resume, llc: run.llc ?? null };
}

/** Deletes a saved run; it stays deleted (the open run is no longer saved until Save now). */
export async function deleteSavedRun(key: string): Promise<void> {
  const rs = await db();
  if (!rs) return;
  const meta = store().savedRuns.find((r) => r.key === key);
  const current = store().currentRunKey === key;
  if (!current && (await openElsewhere(key, 0))) {
    store().notify('warning', `“${meta?.name ?? key}” is open in another tab; close it there before deleting it.`);
    return;
  }
  await saving;
  deleting = key;
  try {
    await rs.delete(key);
  } finally {
    deleting = null;
  }
  if (current) {
    releaseRun(key);
    detach();
    store().notify('info', `Deleted the saved run “${meta?.name ?? key}”. The run stays open here but is no longer saved; press Save now to save it again as a new run.`);
  }
  await refreshSavedRuns();
}

/** The worker died or lost its GPU: restart it (without a failed GPU) and continue from the last save. */
async function recover(reason: string, fault: 'crash' | 'device-lost'): Promise<void> {
  const s = store();
  const backend = s.backend?.name;
  if (fault === 'device-lost' && backend && !failedBackends.includes(backend)) failedBackends.push(backend);
  const key = s.currentRunKey;
  const rs = await db();
  let run: RunData | null = null;
  if (key && rs) run = await rs.load(key).catch(() => null);
  const from = run ? `epoch ${run.resume?.t ?? run.history.at(-1)?.epoch ?? 0}, its last save` : 'the start (it had not been saved yet)';
  const what = fault === 'crash' ? `The training worker crashed (${reason}).` : `${reason}`;
  const next = fault === 'device-lost' ? ' on the next backend' : '';
  s.notify('warning', `${what} The run continues${next} from ${from}.`);
  if (run && key) {
    adoptConfig(run);
    expectLoad({ key, name: run.name, snapshots: run.snapshots.map((x) => x.epoch), fileEpoch: run.history.at(-1)?.epoch ?? -1 });
    useAppStore.setState({ pendingHistory: run.history });
    useLlcStore.setState({ pending: run.llc ?? null });
  }
  restartWorker({ exclude: failedBackends, run: run ? toLoadable(run) : undefined });
}

/** Starts saving and the recovery handlers; offers to resume the last unfinished run. */
export function startPersistence(opts: { offerResume: boolean }): void {
  setWorkerLostHandler((reason, fault) => void recover(reason, fault));
  trackTraining();
  setPersistenceHooks({ checkpointState: onCheckpointState, beforeReplace: () => saveNow() });
  let timer: ReturnType<typeof setInterval> | undefined;
  useAppStore.subscribe(
    (s) => s.status,
    (status, prev) => {
      if (pendingKeep && status !== 'starting') keepImported();
      if (status === 'running') trainedHere = true;
      if (status === 'running' && !timer) timer = setInterval(() => void saveNow(), AUTOSAVE_MS);
      if (status !== 'running' && timer) {
        clearInterval(timer);
        timer = undefined;
      }
      if (prev === 'running' && (status === 'paused' || status === 'done')) void saveNow();
    },
  );
  useAppStore.subscribe((s) => s.readyCount, onReady);
  // Each checkpoint is already durable; a tab going away also saves the epochs since, if it can.
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'hidden') void saveNow();
  });
  window.addEventListener('pagehide', () => void saveNow());
  void refreshSavedRuns().then(async () => {
    if (!opts.offerResume) return;
    const candidate = store().savedRuns.find((r) => !r.finished && r.epoch > 0);
    if (!candidate) return;
    const elsewhere = await openElsewhere(candidate.key);
    useAppStore.setState({ resumeOffer: { ...candidate, openElsewhere: elsewhere } });
  });
}

export function dismissResume(): void {
  useAppStore.setState({ resumeOffer: null });
}
export type { SavedRunMeta };
