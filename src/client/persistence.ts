/**
 * Nothing lost: the page's side of saving runs. The current run is saved to IndexedDB every
 * AUTOSAVE_MS while it trains, when it pauses or finishes, and when the page is hidden; a saved
 * run can be reopened (continuing the same curve: same weights and Adam moments), renamed,
 * deleted, exported as one file and imported. If the worker crashes the run restarts from its last
 * save; if the GPU device is lost it continues on the next backend from its last save.
 */
import type { BackendName } from '../config/backends.ts';
import { matchPreset } from '../config/presets.ts';
import { checkConsistency } from '../config/schema.ts';
import { decodeCheckpoint } from '../model/checkpoint.ts';
import { SafetensorsError } from '../model/safetensors.ts';
import type { ExportedState, LoadableRun } from '../run/protocol.ts';
import { MAX_RUN_BYTES, decodeRun, encodeRun, isGzip, type RunData } from '../run/run-file.ts';
import type { SavedRunMeta } from '../store/saved-runs.ts';
import { useAppStore } from '../store/store.ts';
import { commands, loadRun, requestState, restartWorker, setWorkerLostHandler } from './client.ts';
import { RunStore, STORAGE_BUDGET_BYTES, newRunKey } from './run-store.ts';

/** How often a training run is saved. */
export const AUTOSAVE_MS = 15_000;

let runStore: Promise<RunStore | null> | null = null;
/** Snapshot epochs of the current run already in IndexedDB. */
let savedSnapshots = new Set<number>();
let lastState: ExportedState | null = null;
let saving: Promise<void> | null = null;
/** Backends that failed in this page (a lost device is not tried again). */
const failedBackends: BackendName[] = [];

const store = () => useAppStore.getState();

function db(): Promise<RunStore | null> {
  runStore ??= RunStore.open().catch((err: unknown) => {
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

/** The run as a file's data: the store's history plus the worker's state. */
function runData(state: ExportedState, snapshots: RunData['snapshots']): RunData {
  const s = store();
  return {
    name: runName(),
    config: state.config,
    trainIndices: state.trainIndices,
    keyFreqs: state.keyFreqs,
    history: s.history.toArray(),
    snapshots,
    resume: state.resume,
    backend: s.backend ? { name: s.backend.name, adapter: s.backend.adapter } : null,
    createdAt: new Date().toISOString(),
  };
}

export async function refreshSavedRuns(): Promise<void> {
  const rs = await db();
  if (!rs) return;
  const runs = await rs.list();
  const estimate = await navigator.storage?.estimate?.().catch(() => undefined);
  useAppStore.setState({ savedRuns: runs, storageBytes: runs.reduce((n, r) => n + r.bytes, 0), storageQuota: estimate?.quota ?? null });
}

async function write(state: ExportedState): Promise<void> {
  const rs = await db();
  const s = store();
  if (!rs || s.history.length === 0) return;
  const key = s.currentRunKey ?? newRunKey();
  const name = runName();
  useAppStore.setState({ currentRunKey: key, currentRunName: name });
  const fresh = state.snapshots.filter((x) => !savedSnapshots.has(x.epoch));
  await rs.save({
    key,
    name,
    finished: s.status === 'done',
    run: runData(state, []),
    newSnapshots: fresh,
    keepSnapshotEpochs: state.snapshotEpochs,
  });
  savedSnapshots = new Set(state.snapshotEpochs);
  await rs.enforceBudget(STORAGE_BUDGET_BYTES);
  useAppStore.setState({ lastSavedAt: Date.now() });
  await refreshSavedRuns();
}

/** Saves the current run now (one at a time; a save already under way is waited for). */
export async function saveNow(): Promise<void> {
  const s = store();
  if (!s.applied || s.epoch === 0 || s.status === 'starting' || s.status === 'error') return;
  if (saving) return saving;
  saving = (async () => {
    try {
      const after = savedSnapshots.size > 0 ? Math.max(...savedSnapshots) : -1;
      const state = await requestState(after);
      lastState = state;
      await write(state);
    } catch (err) {
      store().notify('warning', `The run could not be saved: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      saving = null;
    }
  })();
  return saving;
}

/** A new run (built or reset in the worker) gets a new identity; a loaded one keeps its own. */
function onReady(loadedKey: string | null): void {
  savedSnapshots = new Set();
  lastState = null;
  useAppStore.setState({ currentRunKey: loadedKey, currentRunName: loadedKey ? store().currentRunName : '' });
}

let loadingKey: string | null = null;

/** Shows a run's configuration in the form and the URL, as it was trained. */
function adoptConfig(run: RunData): void {
  useAppStore.setState({
    draft: run.config,
    preset: matchPreset(run.config),
    keyFreqsRequest: run.keyFreqs?.pinned ? run.keyFreqs.active : null,
    currentRunName: run.name,
    recordingRequest: null,
  });
}

function toLoadable(run: RunData): LoadableRun {
  return { config: run.config, trainIndices: run.trainIndices, keyFreqs: run.keyFreqs, snapshots: run.snapshots, resume: run.resume };
}

/** Opens a saved run: it continues where it was saved. */
export async function openSavedRun(key: string): Promise<void> {
  const rs = await db();
  if (!rs) return;
  try {
    const run = await rs.load(key);
    adoptConfig(run);
    loadingKey = key;
    savedSnapshots = new Set(run.snapshots.map((x) => x.epoch));
    loadRun(toLoadable(run), run.history);
  } catch (err) {
    store().notify('error', `This saved run cannot be opened: ${err instanceof Error ? err.message : String(err)}`);
  }
}

export async function renameSavedRun(key: string, name: string): Promise<void> {
  const rs = await db();
  if (!rs) return;
  await rs.rename(key, name);
  if (store().currentRunKey === key) useAppStore.setState({ currentRunName: name });
  await refreshSavedRuns();
}

export async function deleteSavedRun(key: string): Promise<void> {
  const rs = await db();
  if (!rs) return;
  await rs.delete(key);
  if (store().currentRunKey === key) useAppStore.setState({ currentRunKey: null });
  await refreshSavedRuns();
}

async function gunzip(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as BlobPart]).stream().pipeThrough(new DecompressionStream('gzip'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

async function gzip(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as BlobPart]).stream().pipeThrough(new CompressionStream('gzip'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** Reads a run file's bytes (gzip or not) and checks them; throws a message for the person. */
export async function readRunBytes(raw: Uint8Array): Promise<RunData> {
  if (raw.byteLength > MAX_RUN_BYTES) throw new SafetensorsError(`the file is ${(raw.byteLength / 1e6).toFixed(0)} MB, more than the ${MAX_RUN_BYTES / 1e6} MB a run file may be`);
  let bytes = raw;
  if (isGzip(raw)) {
    try {
      bytes = await gunzip(raw);
    } catch {
      throw new SafetensorsError('the file is gzip-compressed but truncated or corrupt');
    }
  }
  return decodeRun(bytes);
}

/** Imports a run file: it is checked first, so a broken file changes nothing. */
export async function importRunFile(file: Blob & { name?: string }): Promise<void> {
  try {
    const run = await readRunBytes(new Uint8Array(await file.arrayBuffer()));
    adoptConfig(run);
    loadingKey = null;
    loadRun(toLoadable(run), run.history);
    store().notify('info', `Opened “${run.name}” (${run.history.length} checkpoints, ${run.snapshots.length} snapshots${run.resume ? ', resumable' : ''}).`);
  } catch (err) {
    store().notify('error', `This file cannot be opened as a run${file.name ? ` (${file.name})` : ''}: ${err instanceof Error ? err.message : String(err)}. Your runs are unchanged.`);
  }
}

/** Opens a run built from imported files (a PyTorch run): its history as recorded, then training may continue. */
export function openImportedRun(run: RunData, message: string): void {
  adoptConfig(run);
  loadingKey = null;
  loadRun(toLoadable(run), run.history);
  store().notify('info', message);
}

/** Imports model weights (.safetensors): a new run starting from them. */
export async function importCheckpointFile(file: Blob & { name?: string }): Promise<void> {
  try {
    const ckpt = decodeCheckpoint(new Uint8Array(await file.arrayBuffer()));
    const problems = checkConsistency(ckpt.config);
    if (problems.length > 0) throw new Error(problems[0].message);
    const flat = new Float32Array(Object.values(ckpt.weights).reduce((n, w) => n + w.length, 0));
    let o = 0;
    for (const w of Object.values(ckpt.weights)) {
      flat.set(w, o);
      o += w.length;
    }
    const run: RunData = {
      name: `${file.name ?? 'imported weights'} (epoch ${ckpt.epoch})`,
      config: ckpt.config,
      trainIndices: ckpt.trainIndices ?? (await import('../model/data.ts')).splitPairs(ckpt.config.p, ckpt.config.frac, ckpt.config.seed, ckpt.config.split).train,
      keyFreqs: null,
      history: [],
      snapshots: [{ epoch: ckpt.epoch, weights: flat }],
      resume: null,
      backend: null,
      createdAt: new Date().toISOString(),
    };
    adoptConfig(run);
    loadingKey = null;
    loadRun(toLoadable(run), []);
    store().notify('info', `Loaded weights from ${file.name ?? 'the file'} at epoch ${ckpt.epoch}; training continues from them with fresh Adam moments.`);
  } catch (err) {
    store().notify('error', `These weights cannot be imported${file.name ? ` (${file.name})` : ''}: ${err instanceof Error ? err.message : String(err)}. Nothing was changed.`);
  }
}

/** Downloads the current run as one file (all snapshots in float32, resumable), gzip-compressed. */
export async function exportCurrentRun(): Promise<void> {
  try {
    const state = await requestState(-1);
    const run = runData(state, state.snapshots);
    const bytes = await gzip(encodeRun(run));
    download(bytes, `${run.name.replace(/[^\w.=-]+/g, '_').slice(0, 80)}.grokrun.gz`);
  } catch (err) {
    store().notify('error', `The run could not be exported: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function download(bytes: Uint8Array, filename: string): void {
  const url = URL.createObjectURL(new Blob([bytes as BlobPart], { type: 'application/octet-stream' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** The recorded reference runs shipped with the site, by ?run= name. */
export const REFERENCE_RUNS: Record<string, { file: string; label: string }> = {
  reference: { file: 'runs/reference.grokrun.gz', label: 'mainline, seed 0, 16k epochs' },
  'no-wd': { file: 'runs/no-wd.grokrun.gz', label: 'no weight decay (λ = 0), the control' },
};

/** Opens a recorded run from the site (lazily fetched, not part of the first load). */
export async function openReferenceRun(name: string): Promise<void> {
  const ref = REFERENCE_RUNS[name];
  if (!ref) {
    store().notify('warning', `There is no recorded run "${name.slice(0, 40)}"; known: ${Object.keys(REFERENCE_RUNS).join(', ')}.`);
    return;
  }
  try {
    const res = await fetch(new URL(ref.file, document.baseURI));
    if (!res.ok) throw new Error(`the server answered ${res.status}`);
    const run = await readRunBytes(new Uint8Array(await res.arrayBuffer()));
    adoptConfig(run);
    useAppStore.setState({ recordingRequest: { key: name, name: run.name } });
    loadingKey = null;
    loadRun(toLoadable(run), run.history);
  } catch (err) {
    store().notify('error', `The recorded run could not be opened: ${err instanceof Error ? err.message : String(err)}`);
  }
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
  if (run) {
    adoptConfig(run);
    loadingKey = key;
    savedSnapshots = new Set(run.snapshots.map((x) => x.epoch));
    useAppStore.setState({ pendingHistory: run.history });
  }
  restartWorker({ exclude: failedBackends, run: run ? toLoadable(run) : undefined });
}

/** Starts autosaving and the recovery handlers; offers to resume the last unfinished run. */
export function startPersistence(opts: { offerResume: boolean }): void {
  setWorkerLostHandler((reason, fault) => void recover(reason, fault));
  let timer: ReturnType<typeof setInterval> | undefined;
  useAppStore.subscribe(
    (s) => s.status,
    (status, prev) => {
      if (status === 'running' && !timer) timer = setInterval(() => void saveNow(), AUTOSAVE_MS);
      if (status !== 'running' && timer) {
        clearInterval(timer);
        timer = undefined;
      }
      if (prev === 'running' && (status === 'paused' || status === 'done')) void saveNow();
    },
  );
  useAppStore.subscribe(
    (s) => s.readyCount,
    () => {
      onReady(loadingKey);
      loadingKey = null;
    },
  );
  // Best effort when the tab goes away: write what the last save read, with the newest history.
  window.addEventListener('pagehide', () => {
    if (lastState) void write(lastState);
  });
  void refreshSavedRuns().then(() => {
    if (!opts.offerResume) return;
    const s = store();
    const candidate = s.savedRuns.find((r) => !r.finished && r.epoch > 0);
    if (candidate) useAppStore.setState({ resumeOffer: candidate });
  });
}

export function dismissResume(): void {
  useAppStore.setState({ resumeOffer: null });
}

export async function acceptResume(meta: SavedRunMeta): Promise<void> {
  useAppStore.setState({ resumeOffer: null });
  await openSavedRun(meta.key);
}
