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
import type { RecordedLoss } from '../run/integrity.ts';
import type { Command, ExportedState, LiveSettings, LoadableRun, MeasureAnswer, MeasureRequest, WorkerEvent } from '../run/protocol.ts';
import type { EvidenceRequest } from '../run/evidence.ts';
import type { LlcSchedule } from '../config/llc.ts';
import { useEvidenceStore } from '../store/evidence.ts';
import { useLlcStore } from '../store/llc.ts';
import { useAppStore, liveSettings, needsReset } from '../store/store.ts';
import { cachedBackendChoice, rememberBackendChoice } from './backend-cache.ts';

let worker: Worker | null = null;
/** Called when the worker crashes or loses its GPU (set by the persistence layer). */
let onWorkerLost: ((reason: string, fault: 'crash' | 'device-lost') => void) | null = null;
const stateRequests = new Map<number, { resolve: (s: ExportedState, runId: number) => void; reject: (e: Error) => void }>();
const verifyRequests = new Map<number, (problem: string | null) => void>();
/** Makes a checkpoint's state durable before the checkpoint is shown (set by the persistence layer). */
let onCheckpointState: ((state: ExportedState, checkpoint: Checkpoint, runId: number) => Promise<void>) | null = null;
let pendingState: { state: ExportedState; runId: number } | null = null;
/** Events are handled in order; a durable save holds the ones after it until it is written. */
let eventChain: Promise<void> = Promise.resolve();
/**
 * Building a run (init, reset, load) takes the worker a while; commands sent meanwhile are held
 * here and coalesced, so only the last requested configuration is built (30 Resets in 3 s build
 * one run, not 30) and a Train after them waits for one build, not for all.
 */
let building = false;
let held: Command[] = [];
/** Saves the run in hand before a Reset replaces it (set by the persistence layer). */
let beforeReplace: (() => Promise<void>) | null = null;
const benchRequests = new Map<number, (e: Extract<WorkerEvent, { type: 'bench' }>) => void>();
let nextRequestId = 1;
/** The configuration the worker's backend choice was timed on (until its first 'ready'). */
let timedConfig: TrainConfig | null = null;

function route(event: WorkerEvent): void {
  // Answers to requests skip the queue: a durable save that holds it may be waiting for one.
  if (event.type === 'state' || event.type === 'verified' || event.type === 'bench') {
    void handleEvent(event);
    return;
  }
  eventChain = eventChain.then(() => handleEvent(event)).catch((err: unknown) => {
    useAppStore.getState().notify('warning', `The run could not be saved at its last checkpoint: ${err instanceof Error ? err.message : String(err)}`);
  });
}

async function handleEvent(event: WorkerEvent): Promise<void> {
  // The newest held build goes out as soon as the run in hand is 'ready': the worker then skips
  // the rest of the superseded build's first measures (session.ts), and Resets clicked meanwhile
  // have coalesced into that one.
  if (event.type === 'ready' || event.type === 'error') {
    building = false;
    flushHeld();
  }
  if (event.type === 'checkpointState') {
    pendingState = { state: event.state, runId: event.runId };
    return;
  }
  if (event.type === 'checkpoint' && pendingState && pendingState.state.epoch === event.checkpoint.epoch && pendingState.runId === event.runId) {
    const { state } = pendingState;
    pendingState = null;
    try {
      await onCheckpointState?.(state, event.checkpoint, event.runId);
    } finally {
      useAppStore.getState().receive(event);
    }
    return;
  }
  if (event.type === 'verified') {
    verifyRequests.get(event.requestId)?.(event.problem);
    verifyRequests.delete(event.requestId);
    return;
  }
  if (event.type === 'bench') {
    benchRequests.get(event.requestId)?.(event);
    benchRequests.delete(event.requestId);
    return;
  }
  if (event.type === 'state') {
    stateRequests.get(event.requestId)?.resolve(event.state, event.runId);
    stateRequests.delete(event.requestId);
    return;
  }
  if (event.type === 'evidence') {
    if (event.runId === useAppStore.getState().run?.runId) useEvidenceStore.getState().receive(event);
    return;
  }
  if (event.type === 'llc' || event.type === 'llcProgress') {
    if (event.runId === useAppStore.getState().run?.runId) useLlcStore.getState().receive(event);
    return;
  }
  useAppStore.getState().receive(event);
  if (event.type === 'ready' && measureAfterReady) {
    measureBackends(measureAfterReady);
    measureAfterReady = null;
  }
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

const BUILDS: Command['type'][] = ['init', 'reset', 'load'];
/** Commands that act on the run in hand: held while a run is being built. */
const RUN_COMMANDS: Command['type'][] = [...BUILDS, 'start', 'resume', 'pause', 'step', 'set', 'setKeyFreqs', 'inspect', 'moveBackend', 'addSnapshots'];

function sendRun(cmd: Command): void {
  if (!RUN_COMMANDS.includes(cmd.type)) return send(cmd);
  if (building) {
    // A new build makes everything held before it moot, except live settings (the draft has them).
    if (BUILDS.includes(cmd.type)) held = held.filter((c) => c.type === 'set' || c.type === 'moveBackend');
    held.push(cmd);
    return;
  }
  send(cmd);
  if (BUILDS.includes(cmd.type)) building = true;
}

function flushHeld(): void {
  while (!building && held.length > 0) sendRun(held.shift()!);
}

/** Asks the worker whether a run's configuration reproduces its recorded loss (null: it does). */
export function verifyRun(run: { config: TrainConfig; trainIndices: Int32Array; recorded: RecordedLoss }, timeoutMs = 120_000): Promise<string | null> {
  const requestId = nextRequestId++;
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      verifyRequests.delete(requestId);
      resolve('the training worker did not answer while checking it');
    }, timeoutMs);
    verifyRequests.set(requestId, (problem) => {
      clearTimeout(timer);
      resolve(problem);
    });
    send({ type: 'verify', requestId, ...run });
  });
}

/** The worker's side of the run (weights, Adam moments, new snapshots), for saving, and its runId. */
export function requestState(snapshotsAfter: number, timeoutMs = 60_000): Promise<ExportedState & { runId: number }> {
  const requestId = nextRequestId++;
  return new Promise<ExportedState & { runId: number }>((resolve, reject) => {
    const timer = setTimeout(() => {
      stateRequests.delete(requestId);
      reject(new Error('the training worker did not answer'));
    }, timeoutMs);
    stateRequests.set(requestId, {
      resolve: (st, runId) => {
        clearTimeout(timer);
        resolve({ ...st, runId });
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
export function benchWorker(opts: { config: TrainConfig; paths: ForwardPath[]; blocks?: number; targetBlockMs?: number; analysis?: boolean; analysisOnly?: boolean; models?: number }): Promise<Extract<WorkerEvent, { type: 'bench' }>> {
  const requestId = nextRequestId++;
  return new Promise((resolve) => {
    benchRequests.set(requestId, resolve);
    send({ type: 'bench', requestId, config: opts.config, paths: opts.paths, blocks: opts.blocks ?? 5, targetBlockMs: opts.targetBlockMs ?? 1000, analysis: opts.analysis ?? true, analysisOnly: opts.analysisOnly, models: opts.models });
  });
}

/** Ends the worker (freeing its GPU memory) and starts a new one, on another backend if asked. */
export function restartWorker(opts: { exclude: BackendName[]; run?: LoadableRun }): void {
  worker?.terminate();
  worker = null;
  // The new worker chooses for itself, without the failed backends.
  measurer?.terminate();
  measurer = null;
  measureAfterReady = null;
  for (const r of stateRequests.values()) r.reject(new Error('the training worker was restarted'));
  stateRequests.clear();
  for (const r of verifyRequests.values()) r('the training worker was restarted');
  verifyRequests.clear();
  pendingState = null;
  held = [];
  building = false;
  const s = useAppStore.getState();
  useAppStore.setState({ status: 'starting' });
  const config = opts.run?.config ?? s.draft;
  timedConfig = config;
  sendRun({ type: 'init', config: s.draft, backend: s.backendRequest, keyFreqs: s.keyFreqsRequest, exclude: opts.exclude, run: opts.run, cachedBackend: cachedBackendChoice(config) });
}

export function setWorkerLostHandler(handler: typeof onWorkerLost): void {
  onWorkerLost = handler;
}

export function setPersistenceHooks(hooks: { checkpointState: typeof onCheckpointState; beforeReplace: typeof beforeReplace }): void {
  onCheckpointState = hooks.checkpointState;
  beforeReplace = hooks.beforeReplace;
}

/** Whether a run is being built (commands are held until it is ready). */
export function isBuilding(): boolean {
  return building;
}

/** Opens a run (saved or imported) in the worker; its history shows once the worker is ready. */
export function loadRun(run: LoadableRun, history: Checkpoint[]): void {
  useAppStore.setState({ pendingHistory: history });
  useLlcStore.setState({ pending: run.llc ?? null });
  sendRun({ type: 'load', run });
}

/** Gives the loaded run past snapshots that arrived later (a recording's pieces). */
export function addSnapshots(snapshots: { epoch: number; weights: Float32Array }[]): void {
  sendRun({ type: 'addSnapshots', snapshots });
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
    sendRun({ type: 'reset', config: s.draft, keyFreqs: s.keyFreqsRequest });
  }
}

let measurer: Worker | null = null;
/** The configuration to time once the first run is ready (#25). */
let measureAfterReady: TrainConfig | null = null;

/**
 * Times the backends in a worker of their own while the training worker starts on the one in hand
 * (#25); the answer is remembered for the next visit and moves the run at its next checkpoint.
 */
function measureBackends(config: TrainConfig): void {
  measurer?.terminate();
  const m = new Worker(new URL('../worker/measure.worker.ts', import.meta.url), { type: 'module' });
  measurer = m;
  const done = () => {
    m.terminate();
    if (measurer === m) measurer = null;
  };
  m.onmessage = (e: MessageEvent<MeasureAnswer>) => {
    done();
    if (e.data.type === 'failed') {
      store().notify('warning', `The backends could not be timed (${e.data.message}); training stays on the one in hand.`);
      return;
    }
    rememberBackendChoice(config, e.data.backend);
    sendRun({ type: 'moveBackend', backend: e.data.backend });
  };
  m.onerror = (e: ErrorEvent) => {
    e.preventDefault();
    done();
    store().notify('warning', `The backends could not be timed (${e.message || 'the measuring worker failed'}); training stays on the one in hand.`);
  };
  const request: MeasureRequest = { config, exclude: [] };
  m.postMessage(request);
}

export const commands = {
  /**
   * Starts the worker with the configuration from the URL: on the backend the link asks for, the
   * one remembered for this device, or else the one in hand while the others are timed beside it.
   */
  init(): void {
    const s = store();
    const cachedBackend = cachedBackendChoice(s.draft);
    const provisional = !s.backendRequest && !cachedBackend;
    timedConfig = s.draft;
    sendRun({ type: 'init', config: s.draft, backend: s.backendRequest, keyFreqs: s.keyFreqsRequest, cachedBackend, provisional });
    // Timed once the run in hand is built: on a machine of few cores the two would slow each other.
    measureAfterReady = provisional ? s.draft : null;
  },

  /** Train: applies pending form changes first if the run has not trained yet, then runs. */
  train(): void {
    const s = store();
    if (checkConsistency(s.draft).length > 0) return;
    // Pressed while the first run is built (s.applied null): the build in flight is the draft's.
    if (s.applied && needsReset(s.draft, s.applied) && s.epoch === 0) sendRun({ type: 'reset', config: s.draft, keyFreqs: s.keyFreqsRequest });
    sendRun({ type: s.status === 'paused' ? 'resume' : 'start' });
  },

  pause(): void {
    sendRun({ type: 'pause' });
  },

  step(epochs: number): void {
    const s = store();
    if (checkConsistency(s.draft).length > 0) return;
    if (needsReset(s.draft, s.applied) && s.epoch === 0) sendRun({ type: 'reset', config: s.draft, keyFreqs: s.keyFreqsRequest });
    sendRun({ type: 'step', epochs });
  },

  /** Throws the run away and builds the form's configuration (if it is a possible one). */
  reset(): void {
    const s = store();
    if (checkConsistency(s.draft).length > 0) return;
    const cmd: Command = { type: 'reset', config: s.draft, keyFreqs: s.keyFreqsRequest };
    if (!beforeReplace || building || s.epoch === 0) return sendRun(cmd);
    // Save the run in hand first (Reset must not lose the epochs since the last save); further
    // Resets meanwhile are coalesced into this one.
    building = true;
    held = [cmd];
    void beforeReplace().finally(() => {
      building = false;
      flushHeld();
    });
  },

  /** Changes live settings (λ, lr, …): the draft, the URL and the running training. */
  setLive(changes: Partial<LiveSettings>): void {
    store().setDraft(changes as Partial<TrainConfig>);
    sendRun({ type: 'set', settings: changes });
  },

  /** Pins the key frequencies (null: back to the rule); the curves are re-measured with them. */
  setKeyFreqs(keyFreqs: number[] | null): void {
    useAppStore.setState({ keyFreqsRequest: keyFreqs });
    sendRun({ type: 'setKeyFreqs', keyFreqs });
  },

  /** Asks for the heavy measures (neurons, spectra, attention) at an epoch. */
  inspect(epoch: number): void {
    sendRun({ type: 'inspect', epoch });
  },

  /** Asks for §4's evidence of a checkpoint, with an intervention and an input (src/client/evidence.ts). */
  evidence(request: EvidenceRequest): void {
    send({ type: 'evidence', request });
  },

  /** The LLC over training (null: off), for this run and the next (src/client/llc.ts sends it). */
  llc(schedule: LlcSchedule | null): void {
    send({ type: 'llc', schedule });
  },

  /** Changes fields that apply on Reset; applied at once while the run has not trained. */
  setConfig(changes: Partial<TrainConfig>): void {
    store().setDraft(changes);
    applyIfUntrained();
  },

  choosePreset(name: PresetName): void {
    store().choosePreset(name);
    sendRun({ type: 'set', settings: liveSettings(store().draft) });
    applyIfUntrained();
  },
};
