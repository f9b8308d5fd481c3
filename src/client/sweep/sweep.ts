/**
 * The page's side of the sweep worker (issue #13): starts it on the page's backend, forwards its
 * events to the sweep store, keeps each finished run (snapshots, weights and Adam moments) and
 * opens one as the page's run — with every single-run view — when its curve or cell is clicked.
 */
import { checkConsistency, type TrainConfig } from '../../config/schema.ts';
import { decodeSweep, encodeSweep, expandSweep, type SweepSpec } from '../../config/sweep.ts';
import type { Checkpoint } from '../../run/history-columns.ts';
import type { LoadableRun } from '../../run/protocol.ts';
import type { RunData } from '../../files/run-file.ts';
import type { SweepCommand, SweepEvent } from '../../run/sweep-protocol.ts';
import { useAppStore } from '../../store/store.ts';
import { summarize, useSweepStore } from '../../store/sweep.ts';
import { saveNow } from '../storage/persistence.ts';
import { openImportedRun } from '../runs/run-files.ts';
import { SweepKeep } from './sweep-keep.ts';

/** Models per batch in the page (the memory check may lower it). */
export const PAGE_SWEEP_BATCH = 8;
/** Snapshots a finished run keeps for its scrubber and heavy views: at most this per run, and
 * this over the whole sweep (the page holds every finished run until one is opened). */
export const RUN_SNAPSHOT_BYTES = 24 * 1024 * 1024;
export const SWEEP_SNAPSHOT_BYTES = 384 * 1024 * 1024;

let worker: Worker | null = null;
/** Finished runs by sweep index, ready to open. */
const finished = new Map<number, { run: LoadableRun; history: Checkpoint[] }>();

function send(cmd: SweepCommand): void {
  worker?.postMessage(cmd);
}

/** The kept sweep's store (IndexedDB), opened on first use; null where it cannot be. */
let keepStore: Promise<SweepKeep | null> | null = null;
/** Writes to it, in order (a sweep's description before its runs). */
let writes: Promise<void> = Promise.resolve();
let keepFailed = false;

function keptSweeps(): Promise<SweepKeep | null> {
  keepStore ??= SweepKeep.open().catch(() => null);
  return keepStore;
}

function keep(write: (k: SweepKeep) => Promise<void>): void {
  const store = keptSweeps();
  writes = writes
    .then(async () => {
      const k = await store;
      if (k) await write(k);
    })
    .catch((err: unknown) => {
      if (keepFailed) return;
      keepFailed = true;
      useAppStore.getState().notify('warning', `This sweep's runs cannot be kept for a reload (IndexedDB: ${err instanceof Error ? err.message : String(err)}); they stay open in this page.`);
    });
}

function onEvent(event: SweepEvent): void {
  if (event.type === 'run') {
    finished.set(event.index, { run: event.run, history: event.history });
    keep((k) => k.keepRun({ index: event.index, run: event.run, history: event.history }));
  }
  useSweepStore.getState().receive(event);
  // Its runs are here now: free the worker's backend (GPU memory included).
  if (event.type === 'done' || event.type === 'error') endSweepWorker();
}

/**
 * Trains the sweep (a fresh worker: a sweep already training is ended). Returns the problem in
 * words instead when the sweep cannot start (a combination that is impossible, a bad epochs count).
 */
export function startSweep(spec: SweepSpec, base: TrainConfig, epochs: number, every: number): string | null {
  if (!Number.isInteger(epochs) || epochs < 1) return `epochs must be a whole number ≥ 1, got ${epochs}`;
  if (!Number.isInteger(every) || every < 1) return `the checkpoint interval must be a whole number ≥ 1, got ${every}`;
  const baseProblems = checkConsistency(base);
  if (baseProblems.length > 0) return `the base configuration: ${baseProblems[0].message}`;
  const { points, issues } = expandSweep(base, spec);
  if (issues.length > 0) return issues[0].message;
  endSweepWorker();
  finished.clear();
  const w = new Worker(new URL('../../worker/sweep.worker.ts', import.meta.url), { type: 'module' });
  w.onmessage = (e: MessageEvent<SweepEvent>) => {
    if (w === worker) onEvent(e.data);
  };
  w.onerror = (e: ErrorEvent) => {
    e.preventDefault();
    if (w !== worker) return;
    useSweepStore.getState().fail(`The sweep worker failed: ${e.message || 'unknown error'}. The runs trained so far stay open.`);
    endSweepWorker();
  };
  worker = w;
  useSweepStore.getState().begin(spec, base, points, epochs, every);
  const app = useAppStore.getState();
  keep((k) => k.begin({ sweep: encodeSweep(spec), base, epochs, every, backend: app.backend?.name ?? null, startedAt: new Date().toISOString() }));
  send({ type: 'train', configs: points.map((p) => ({ ...p.config, epochs })), epochs, every, backend: app.backend?.name ?? app.backendRequest, batch: PAGE_SWEEP_BATCH, snapshotBudgetBytes: Math.min(RUN_SNAPSHOT_BYTES, Math.floor(SWEEP_SNAPSHOT_BYTES / points.length)) });
  return null;
}

/** Asks the sweep to stop after the current block; the runs trained so far are kept. */
export function stopSweep(): void {
  send({ type: 'stop' });
}

/** Ends the sweep worker at once (its sweep is over, or a new one starts). */
export function endSweepWorker(): void {
  worker?.terminate();
  worker = null;
}

/** Whether run `index` has finished and can be opened. */
export function canOpenSweepRun(index: number): boolean {
  return finished.has(index);
}

/** Opens a finished run of the sweep as the page's run (the open run of your own is saved first). */
export async function openSweepRun(index: number): Promise<boolean> {
  const entry = finished.get(index);
  const sweep = useSweepStore.getState();
  const point = sweep.runs[index];
  if (!entry || !point) return false;
  if (useAppStore.getState().epoch > 0 && !useAppStore.getState().recording) await saveNow();
  const run: RunData = {
    name: `sweep run ${index + 1}: ${point.label}`,
    // It may train on, up to the base's epochs (the sweep stopped all runs at its own).
    config: { ...entry.run.config, epochs: Math.max(entry.run.config.epochs, sweep.base?.epochs ?? 0) },
    trainIndices: entry.run.trainIndices,
    keyFreqs: entry.run.keyFreqs,
    history: entry.history,
    snapshots: entry.run.snapshots,
    resume: entry.run.resume,
    backend: sweep.backend ? { name: sweep.backend, adapter: '' } : null,
    createdAt: new Date().toISOString(),
  };
  await openImportedRun(run, `Opened sweep run ${index + 1} (${point.label}): ${entry.history.length} checkpoints, ${entry.run.snapshots.length} snapshots; it can train on from epoch ${entry.run.resume?.t ?? '?'}.`);
  useSweepStore.getState().setOpened(index);
  return true;
}

/**
 * Shows the sweep kept before this page loaded (its finished runs, openable), when the page has no
 * sweep of its own yet. A kept sweep that no longer reads as one (another version) is left alone.
 */
export async function restoreKeptSweep(): Promise<void> {
  const k = await keptSweeps();
  const kept = await k?.load().catch(() => null);
  if (!kept || kept.runs.length === 0 || useSweepStore.getState().status !== 'idle') return;
  const { spec } = decodeSweep(kept.meta.sweep);
  if (!spec || checkConsistency(kept.meta.base).length > 0) return;
  const { points, issues } = expandSweep(kept.meta.base, spec);
  if (issues.length > 0) return;
  const runs = kept.runs.filter((r) => r.index < points.length && r.history.length > 0);
  const sweep = useSweepStore.getState();
  if (sweep.text === '') sweep.setText(kept.meta.sweep);
  sweep.begin(spec, kept.meta.base, points, kept.meta.epochs, kept.meta.every);
  for (const r of runs) finished.set(r.index, { run: r.run, history: r.history });
  const rest = runs.length < points.length ? ' The others had not finished: train the sweep again for them.' : '';
  useSweepStore.getState().restore(
    runs.map((r) => ({ index: r.index, rows: r.history.map((h) => ({ epoch: h.epoch, trainLoss: h.trainLoss, testLoss: h.testLoss, trainAcc: h.trainAcc, testAcc: h.testAcc })), summary: summarize(r.history) })),
    `${runs.length} of ${points.length} runs of the last sweep (${kept.meta.sweep}), kept from before this page loaded: click a cell or a curve to open one.${rest}`,
  );
}
