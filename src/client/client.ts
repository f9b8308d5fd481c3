/**
 * The page's side of the worker: creates it once (module scope, so React StrictMode's double
 * effects cannot start two), forwards its events to the store, and turns the person's actions
 * into commands.
 */
import type { BackendName } from '../config/backends.ts';
import type { PresetName } from '../config/presets.ts';
import { checkConsistency, type TrainConfig } from '../config/schema.ts';
import type { ForwardPath } from '../model/trainer.ts';
import type { Checkpoint } from '../run/history-columns.ts';
import type { Command, ExportedState, LiveSettings, LoadableRun, WorkerEvent } from '../run/protocol.ts';
import type { EvidenceRequest } from '../run/evidence.ts';
import { useEvidenceStore } from '../store/evidence.ts';
import { useAppStore, liveSettings, needsReset } from '../store/store.ts';
import { cachedBackendChoice, rememberBackendChoice } from './backend-cache.ts';

let worker: Worker | null = null;
/** Called when the worker crashes or loses its GPU (set by the persistence layer). */
let onWorkerLost: ((reason: string, fault: 'crash' | 'device-lost') => void) | null = null;
const stateRequests = new Map<number, { resolve: (s: ExportedState) => void; reject: (e: Error) => void }>();
const benchRequests = new Map<number, (e: Extract<WorkerEvent, { type: 'bench' }>) => void>();
let nextRequestId = 1;
/** The configuration the worker's backend choice was timed on (until its first 'ready'). */
let timedConfig: TrainConfig | null = null;

function route(event: WorkerEvent): void {
  if (event.type === 'bench') {
    benchRequests.get(event.requestId)?.(event);
    benchRequests.delete(event.requestId);
    return;
  }
  if (event.type === 'state') {
    stateRequests.get(event.requestId)?.resolve(event.state);
    stateRequests.delete(event.requestId);
    return;
  }
  if (event.type === 'evidence') {
    if (event.runId === useAppStore.getState().run?.runId) useEvidenceStore.getState().receive(event);
    return;
  }
  useAppStore.getState().receive(event);
  if (event.type === 'ready' && timedConfig) {
    rememberBackendChoice(timedConfig, event.backend);
    timedConfig = null;
  }
  if (event.type === 'error' && event.fault === 'device-lost') onWorkerLost?.(event.message, 'device-lost');
}

function getWorker(): Worker {
  if (worker) return worker;
  const w = new Worker(new URL('../worker/train.worker.ts', import.meta.url), { type: 'module' });
  w.onmessage = (e: MessageEvent<WorkerEvent>) => {
    if (w === worker) route(e.data);
  };
  w.onerror = (e: ErrorEvent) => {
    e.preventDefault();
    if (w !== worker) return;
    const reason = e.message || 'unknown error';
    if (onWorkerLost) onWorkerLost(reason, 'crash');
    else useAppStore.getState().notify('error', `The training worker failed: ${reason}. Reload the page to start it again.`);
  };
  worker = w;
  return w;
}

function send(cmd: Command, transfer: Transferable[] = []): void {
  getWorker().postMessage(cmd, transfer);
}

/** The worker's side of the run (weights, Adam moments, new snapshots), for saving. */
export function requestState(snapshotsAfter: number, timeoutMs = 60_000): Promise<ExportedState> {
  const requestId = nextRequestId++;
  return new Promise<ExportedState>((resolve, reject) => {
    const timer = setTimeout(() => {
      stateRequests.delete(requestId);
      reject(new Error('the training worker did not answer'));
    }, timeoutMs);
    stateRequests.set(requestId, {
      resolve: (st) => {
        clearTimeout(timer);
        resolve(st);
      },
      reject,
    });
    send({ type: 'exportState', requestId, snapshotsAfter });
  });
}

/**
 * Times training on the worker's backend (pausing the run, which is kept): the browser half of
 * `npm run bench`, and the speed panel's "Benchmark" button.
 */
export function benchWorker(opts: { config: TrainConfig; paths: ForwardPath[]; blocks?: number; targetBlockMs?: number; analysis?: boolean; analysisOnly?: boolean }): Promise<Extract<WorkerEvent, { type: 'bench' }>> {
  const requestId = nextRequestId++;
  return new Promise((resolve) => {
    benchRequests.set(requestId, resolve);
    send({ type: 'bench', requestId, config: opts.config, paths: opts.paths, blocks: opts.blocks ?? 5, targetBlockMs: opts.targetBlockMs ?? 1000, analysis: opts.analysis ?? true, analysisOnly: opts.analysisOnly });
  });
}

/** Ends the worker (freeing its GPU memory) and starts a new one, on another backend if asked. */
export function restartWorker(opts: { exclude: BackendName[]; run?: LoadableRun }): void {
  worker?.terminate();
  worker = null;
  for (const r of stateRequests.values()) r.reject(new Error('the training worker was restarted'));
  stateRequests.clear();
  const s = useAppStore.getState();
  useAppStore.setState({ status: 'starting' });
  const config = opts.run?.config ?? s.draft;
  timedConfig = config;
  send({ type: 'init', config: s.draft, backend: s.backendRequest, keyFreqs: s.keyFreqsRequest, exclude: opts.exclude, run: opts.run, cachedBackend: cachedBackendChoice(config) });
}

export function setWorkerLostHandler(handler: typeof onWorkerLost): void {
  onWorkerLost = handler;
}

/** Opens a run (saved or imported) in the worker; its history shows once the worker is ready. */
export function loadRun(run: LoadableRun, history: Checkpoint[]): void {
  useAppStore.setState({ pendingHistory: history });
  send({ type: 'load', run });
}

/** Test hook: fault injection ('crash', 'poison', 'lose-device'). */
export function debugWorker(action: 'crash' | 'poison' | 'lose-device'): void {
  send({ type: 'debug', action });
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
    timedConfig = s.draft;
    send({ type: 'init', config: s.draft, backend: s.backendRequest, keyFreqs: s.keyFreqsRequest, cachedBackend: cachedBackendChoice(s.draft) });
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

  /** Asks for §4's evidence of a checkpoint, with an intervention and an input (src/client/evidence.ts). */
  evidence(request: EvidenceRequest): void {
    send({ type: 'evidence', request });
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
