/**
 * The page's side of the appendix-tasks worker (App. D.3): started on first use, on the backend of
 * the page's run, it trains the chosen preset and its events go to the room's store.
 */
import { SEQUENCE_PRESETS } from '../config/sequence-presets.ts';
import { defaultSequenceConfig } from '../model/sequence/config.ts';
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
