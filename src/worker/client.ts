/**
 * The page's side of the worker: creates it once (module scope, so React StrictMode's double
 * effects cannot start two), forwards its events to the store, and turns the person's actions
 * into commands.
 */
import { useAppStore, liveSettings, needsReset } from '../store/store.ts';
import type { PresetName } from '../config/presets.ts';
import { checkConsistency, type TrainConfig } from '../config/schema.ts';
import type { Command, LiveSettings, WorkerEvent } from './protocol.ts';

let worker: Worker | null = null;

function getWorker(): Worker {
  if (worker) return worker;
  worker = new Worker(new URL('./train.worker.ts', import.meta.url), { type: 'module' });
  worker.onmessage = (e: MessageEvent<WorkerEvent>) => useAppStore.getState().receive(e.data);
  worker.onerror = (e: ErrorEvent) => {
    e.preventDefault();
    useAppStore.getState().notify('error', `The training worker failed: ${e.message || 'unknown error'}. Reload the page to start it again.`);
  };
  return worker;
}

function send(cmd: Command): void {
  getWorker().postMessage(cmd);
}

const store = () => useAppStore.getState();

/** Before the first update there is nothing to lose: form changes rebuild the run at once. */
function applyIfUntrained(): void {
  const s = store();
  if (s.epoch === 0 && s.status !== 'running' && needsReset(s.draft, s.applied) && checkConsistency(s.draft).length === 0) {
    send({ type: 'reset', config: s.draft, keyFreqs: s.keyFreqsRequest });
  }
}

export const commands = {
  /** Starts the worker with the configuration from the URL. */
  init(): void {
    const s = store();
    send({ type: 'init', config: s.draft, backend: s.backendRequest, keyFreqs: s.keyFreqsRequest });
  },

  /** Train: applies pending form changes first if the run has not trained yet, then runs. */
  train(): void {
    const s = store();
    if (checkConsistency(s.draft).length > 0) return;
    if (needsReset(s.draft, s.applied) && s.epoch === 0) send({ type: 'reset', config: s.draft, keyFreqs: s.keyFreqsRequest });
    send({ type: s.status === 'paused' ? 'resume' : 'start' });
  },

  pause(): void {
    send({ type: 'pause' });
  },

  step(epochs: number): void {
    const s = store();
    if (checkConsistency(s.draft).length > 0) return;
    if (needsReset(s.draft, s.applied) && s.epoch === 0) send({ type: 'reset', config: s.draft, keyFreqs: s.keyFreqsRequest });
    send({ type: 'step', epochs });
  },

  /** Throws the run away and builds the form's configuration (if it is a possible one). */
  reset(): void {
    const s = store();
    if (checkConsistency(s.draft).length > 0) return;
    send({ type: 'reset', config: s.draft, keyFreqs: s.keyFreqsRequest });
  },

  /** Changes live settings (λ, lr, …): the draft, the URL and the running training. */
  setLive(changes: Partial<LiveSettings>): void {
    store().setDraft(changes as Partial<TrainConfig>);
    send({ type: 'set', settings: changes });
  },

  /** Pins the key frequencies (null: back to the rule); the curves are re-measured with them. */
  setKeyFreqs(keyFreqs: number[] | null): void {
    useAppStore.setState({ keyFreqsRequest: keyFreqs });
    send({ type: 'setKeyFreqs', keyFreqs });
  },

  /** Asks for the heavy measures (neurons, spectra, attention) at an epoch. */
  inspect(epoch: number): void {
    send({ type: 'inspect', epoch });
  },

  /** Changes fields that apply on Reset; applied at once while the run has not trained. */
  setConfig(changes: Partial<TrainConfig>): void {
    store().setDraft(changes);
    applyIfUntrained();
  },

  choosePreset(name: PresetName): void {
    store().choosePreset(name);
    send({ type: 'set', settings: liveSettings(store().draft) });
    applyIfUntrained();
  },
};
