/**
 * The page's side of the appendix-tasks worker (App. D.3): started on first use, on the backend of
 * the page's run, it trains the chosen preset and its events go to the room's store.
 */
import { SEQUENCE_PRESETS } from '../config/sequence-presets.ts';
import { defaultSequenceConfig, type SequenceCheckpoint } from '../model/sequence/config.ts';
import { readFloats } from '../files/safetensors/safetensors.ts';
import type { SequenceImport } from '../files/torch/sequence-import.ts';
import type { SequenceCommand, SequenceEvent } from '../run/sequence-protocol.ts';
import { useAppStore } from '../store/store.ts';
import { useSequenceStore } from '../store/sequence.ts';

let worker: Worker | null = null;

function send(cmd: SequenceCommand): void {
  worker?.postMessage(cmd);
}

function ensureWorker(): Worker {
  if (worker) return worker;
  const w = new Worker(new URL('../worker/sequence.worker.ts', import.meta.url), { type: 'module' });
  w.onmessage = (e: MessageEvent<SequenceEvent>) => useSequenceStore.getState().receive(e.data);
  w.onerror = (e) => {
    e.preventDefault();
    useSequenceStore.getState().receive({ type: 'error', message: `the appendix-tasks worker failed: ${e.message || 'it could not start'}` });
    worker?.terminate();
    worker = null;
  };
  worker = w;
  return w;
}

/** Trains the chosen preset from a fresh seeded model (seed 0, as the CLI's default). */
export function trainSequencePreset(): void {
  const store = useSequenceStore.getState();
  if (store.status === 'starting' || store.status === 'running') return;
  const preset = SEQUENCE_PRESETS[store.preset];
  store.begin();
  const app = useAppStore.getState();
  ensureWorker();
  send({ type: 'train', config: { ...defaultSequenceConfig(preset.task), data: preset.data }, epochs: preset.epochs, every: preset.every, backend: app.backend?.name ?? app.backendRequest ?? null });
}

export function stopSequence(): void {
  send({ type: 'stop' });
}

/** Rows of the room's charts a saved run's curves are thinned to. */
export const MAX_RECORD_ROWS = 2000;

/**
 * An authors' saved run's curves as the room's checkpoints, on one epoch axis: a train curve k times
 * as long as the test one is per update (repeat: 4 batches an epoch), so each epoch's last update
 * is its row. Thinned to at most MAX_RECORD_ROWS rows, the last kept.
 */
export function recordCheckpoints(train: number[] | null, test: number[] | null): SequenceCheckpoint[] {
  const t = train ?? [];
  const u = test ?? [];
  const k = t.length > u.length && u.length > 0 && t.length % u.length === 0 ? t.length / u.length : 1;
  const epochs = Math.max(Math.floor(t.length / k), u.length);
  const every = Math.max(1, Math.ceil(epochs / MAX_RECORD_ROWS));
  const rows: SequenceCheckpoint[] = [];
  for (let e = 0; e < epochs; e++) {
    if (e % every !== 0 && e !== epochs - 1) continue;
    const trainLoss = t[e * k + k - 1] ?? NaN;
    // Fresh data every update: the one curve is the train and the test loss.
    const testLoss = test ? (u[e] ?? NaN) : trainLoss;
    rows.push({ epoch: e, trainLoss, testLoss, testAcc: NaN });
  }
  return rows;
}

/** Shows an authors' saved run of an appendix task in the room; its model, if any, is measured as `analyze` does. */
export function showSequenceFile(q: SequenceImport, fileName: string): void {
  const store = useSequenceStore.getState();
  if (store.status === 'starting' || store.status === 'running') stopSequence();
  const rows = recordCheckpoints(q.trainLosses, q.data === Infinity ? null : q.testLosses);
  store.showRecord({ task: q.task, name: fileName.slice(0, 120), description: q.description, measured: null, hasModel: q.weights !== null }, rows);
  if (!q.weights) return;
  const app = useAppStore.getState();
  ensureWorker();
  const weights = [...q.weights].map(([name, t]) => ({ name, shape: t.shape, values: readFloats(t) }));
  send({ type: 'measure', task: q.task, weights, epoch: rows.at(-1)?.epoch ?? 0, testSize: defaultSequenceConfig(q.task).testSize, seed: 0, backend: app.backend?.name ?? app.backendRequest ?? null });
}
