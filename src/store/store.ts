/**
 * The page's state (zustand). Low-rate session state lives here as plain values; the checkpoint
 * history is a mutable, versioned `History` (see history.ts). Worker events come in through
 * `receive`; nothing here talks to the worker (src/client/client.ts does).
 */
import { create } from 'zustand';
import { subscribeWithSelector } from 'zustand/middleware';
import { GROKKED_ACC, grokEpoch } from '../analysis/phases.ts';
import type { BackendInfo, BackendName } from '../config/backends.ts';
import { presetConfig, type PresetName } from '../config/presets.ts';
import { CONFIG_KEYS, FIELDS, type ConfigIssue, type TrainConfig } from '../config/schema.ts';
import type { DecodedUrl } from '../config/url.ts';
import type { Checkpoint } from '../run/history-columns.ts';
import type { HeavyResult, KeyFreqsState, LiveSettings, RunStatus, WorkerEvent } from '../run/protocol.ts';
import { History } from './history.ts';
import { KCurveCache } from './k-curves.ts';
import type { SavedRunMeta } from './saved-runs.ts';

export interface Notice {
  id: number;
  level: 'error' | 'warning' | 'info';
  text: string;
}

export interface RunInfo {
  runId: number;
  numParams: number;
  nTrain: number;
  nTest: number;
}

/** A recorded run shipped with the site, open for exploring (?run=NAME). */
export interface RecordingInfo {
  /** Its ?run= name. */
  key: string;
  /** Its name as recorded. */
  name: string;
  /** What it was trained with, while it is previewed from its file (the draft becomes it once loaded). */
  config?: TrainConfig;
}

export interface AppState {
  /** The configuration in the form and the URL. */
  draft: TrainConfig;
  /** The preset the draft was based on (for the URL), or null. */
  preset: PresetName | null;
  /** ?backend= override. */
  backendRequest: BackendName | null;
  /** Problems found in the URL when the page opened. */
  urlIssues: ConfigIssue[];
  /** The configuration the worker's current run was built with (live fields follow the draft). */
  applied: TrainConfig | null;
  backend: BackendInfo | null;
  /** The backend the worker trains on while the others are timed (null once chosen, #25). */
  backendInHand: BackendInfo | null;
  run: RunInfo | null;
  /** Counts 'ready' events: a new, reset, loaded or restarted run. */
  readyCount: number;
  /** Whether the latest 'ready' was of a loaded run (a saved, imported or recovered one), not a new one. */
  readyLoaded: boolean;
  status: RunStatus;
  epoch: number;
  epochsPerSec: number;
  /** Wall time the run has trained since it was built or opened here. */
  trainSeconds: number;
  /** When test accuracy first reached 99%: the epoch, and the training time (null: before it was opened here). */
  grokked: { epoch: number; trainSeconds: number | null } | null;
  lastTrainLoss: number;
  checkpointEvery: number;
  history: History;
  historyVersion: number;
  /** The key frequencies the curves use, the rule's current answer, and whether pinned. */
  keyFreqs: KeyFreqsState | null;
  /** Key frequencies asked for by the link (?k=), applied when the run is built. */
  keyFreqsRequest: number[] | null;
  /** Past snapshots still to re-measure after K changed. */
  recomputeRemaining: number;
  /** Epochs with a weight snapshot (every view can be shown there). */
  snapshotEpochs: number[];
  /** Heavy analyses by epoch (a small cache, not reactive: see heavyVersion). */
  heavy: Map<number, HeavyResult>;
  heavyVersion: number;
  /** Epoch of the newest heavy analysis of the live weights. */
  latestHeavyEpoch: number | null;
  notices: Notice[];
  /** History of a run being loaded, shown once the worker has loaded it. */
  pendingHistory: Checkpoint[] | null;
  /** The saved-run identity of the current run, and its name. */
  currentRunKey: string | null;
  currentRunName: string;
  savedRuns: SavedRunMeta[];
  /** Bytes the saved runs take, and the browser's quota for the page (if it says). */
  storageBytes: number;
  storageQuota: number | null;
  lastSavedAt: number | null;
  /** A saved run the page offers to resume when it opens. */
  resumeOffer: SavedRunMeta | null;
  /** The epoch the views show (the scrubber), or null to follow training live. */
  viewEpoch: number | null;
  /** Playing the history back as an animation. */
  playing: boolean;
  /** The recorded run on show (not training), or null. */
  recording: RecordingInfo | null;
  /** A recording being opened: it becomes `recording` when the worker has loaded it. */
  recordingRequest: RecordingInfo | null;
  /** A recording laid out in pieces (src/files/recording.ts): its snapshots in hand, of all. */
  recordingSnapshots: { key: string; loaded: number; total: number; failed: number } | null;

  setViewEpoch: (epoch: number | null) => void;
  setPlaying: (playing: boolean) => void;
  /** Fields of the draft; live ones also go to the running worker (by the client). */
  setDraft: (changes: Partial<TrainConfig>) => void;
  choosePreset: (name: PresetName) => void;
  loadUrl: (decoded: DecodedUrl) => void;
  notify: (level: Notice['level'], text: string) => void;
  dismiss: (id: number) => void;
  receive: (event: WorkerEvent) => void;
  /**
   * A recording's curves on show while its run is still being checked and loaded in the worker
   * (#25: the curves first); null withdraws them (the file was refused).
   */
  previewRecording: (recording: RecordingInfo, history: Checkpoint[]) => void;
  withdrawPreview: () => void;
}

let nextNoticeId = 1;
/** Longer notices are cut. */
export const MAX_NOTICE_CHARS = 1500;

/** The grok point of a history brought along by a loaded run (its training time is unknown). */
function grokkedIn(history: History): AppState['grokked'] {
  const epoch = grokEpoch(history.column('epoch'), history.column('testAcc'));
  return epoch === null ? null : { epoch, trainSeconds: null };
}

/**
 * Memory for the heavy analyses kept on the page: 64 MiB holds every snapshot of the reference
 * recording (28 at ~0.9 MB each at P = 113) and ~70 of a live mainline run, so a second Play
 * draws from memory (#21 item 10). The oldest answer goes first.
 */
export const HEAVY_CACHE_BYTES = 64 * 1024 * 1024;

/** Bytes of one heavy analysis (its typed arrays). */
export function heavyBytes(h: HeavyResult): number {
  let n = 0;
  for (const v of Object.values(h)) if (ArrayBuffer.isView(v)) n += v.byteLength;
  return n;
}

/** How many heavy analyses of this size the cache holds (at least 2: the shown one and the next). */
export function heavyCapacity(bytesEach: number): number {
  return Math.max(2, Math.floor(HEAVY_CACHE_BYTES / Math.max(bytesEach, 1)));
}

export const LIVE_FIELDS = CONFIG_KEYS.filter((k) => FIELDS[k].live) as (keyof LiveSettings & keyof TrainConfig)[];

/** Whether the draft differs from the running configuration in a field that needs a reset. */
export function needsReset(draft: TrainConfig, applied: TrainConfig | null): boolean {
  if (!applied) return true;
  return CONFIG_KEYS.some((k) => !FIELDS[k].live && draft[k] !== applied[k]);
}

export function liveSettings(c: TrainConfig): LiveSettings {
  return { lr: c.lr, weightDecay: c.weightDecay, grokfastLambda: c.grokfastLambda, orthoGrad: c.orthoGrad, epochs: c.epochs };
}

export const createAppStore = () => {
  const kCurves = new KCurveCache();
  return create<AppState>()(
    subscribeWithSelector((set, get) => ({
      draft: presetConfig('mainline'),
      preset: null,
      backendRequest: null,
      urlIssues: [],
      applied: null,
      backend: null,
      backendInHand: null,
      run: null,
      readyCount: 0,
      readyLoaded: false,
      status: 'starting',
      epoch: 0,
      epochsPerSec: 0,
      trainSeconds: 0,
      grokked: null,
      lastTrainLoss: NaN,
      checkpointEvery: 1,
      history: new History(),
      historyVersion: 0,
      keyFreqs: null,
      keyFreqsRequest: null,
      recomputeRemaining: 0,
      snapshotEpochs: [],
      heavy: new Map(),
      heavyVersion: 0,
      latestHeavyEpoch: null,
      notices: [],
      viewEpoch: null,
      playing: false,
      recording: null,
      recordingRequest: null,
      recordingSnapshots: null,
      pendingHistory: null,
      currentRunKey: null,
      currentRunName: '',
      savedRuns: [],
      storageBytes: 0,
      storageQuota: null,
      lastSavedAt: null,
      resumeOffer: null,

      setViewEpoch: (epoch) => set({ viewEpoch: epoch }),
      setPlaying: (playing) => set({ playing }),

      setDraft: (changes) => set((s) => ({ draft: { ...s.draft, ...changes } })),

      choosePreset: (name) => set({ draft: presetConfig(name), preset: name }),

      loadUrl: (decoded) =>
        set({
          draft: decoded.config,
          preset: decoded.preset,
          backendRequest: decoded.backend,
          keyFreqsRequest: decoded.keyFreqs,
          urlIssues: decoded.issues,
        }),

      notify: (level, raw) =>
        set((s) => {
          // A notice is read by a person: never megabytes long (a file's name may be), never the same one twice in a row.
          const text = raw.length > MAX_NOTICE_CHARS ? `${raw.slice(0, MAX_NOTICE_CHARS)}…` : raw;
          const last = s.notices.at(-1);
          if (last && last.level === level && last.text === text) return {};
          return { notices: [...s.notices, { id: nextNoticeId++, level, text }] };
        }),

      dismiss: (id) => set((s) => ({ notices: s.notices.filter((n) => n.id !== id) })),

      previewRecording: (recording, history) => {
        const s = get();
        s.history.clear();
        for (const c of history) s.history.push(c);
        set({ recordingRequest: recording, pendingHistory: history, viewEpoch: null, playing: false, grokked: grokkedIn(s.history), historyVersion: s.historyVersion + 1 });
      },

      withdrawPreview: () => {
        const s = get();
        if (!s.recordingRequest) return;
        s.history.clear();
        set({ recordingRequest: null, pendingHistory: null, grokked: null, historyVersion: s.historyVersion + 1 });
      },

      receive: (event) => {
        const s = get();
        // Events of an older run (before a reset) are dropped, except errors about the worker itself.
        const stale = s.run !== null && event.runId !== -1 && event.type !== 'ready' && event.runId !== s.run.runId;
        if (stale) return;
        switch (event.type) {
          case 'ready':
            s.history.clear();
            s.heavy.clear();
            kCurves.clear();
            // A loaded run brings its history along; a recording being opened keeps its curves on
            // show through the 'ready' of the run it replaces.
            if (s.pendingHistory && (event.loadedAt !== null || s.recordingRequest)) {
              for (const c of s.pendingHistory) if (event.loadedAt === null || c.epoch <= event.loadedAt) s.history.push(c);
            }
            set({
              viewEpoch: null,
              playing: false,
              keyFreqs: null,
              recomputeRemaining: 0,
              snapshotEpochs: [],
              heavyVersion: s.heavyVersion + 1,
              latestHeavyEpoch: null,
              run: { runId: event.runId, numParams: event.numParams, nTrain: event.nTrain, nTest: event.nTest },
              // The backend in hand is no choice yet: `backend` stays null until the timing ends.
              backend: event.backend.chosenBy === 'provisional' ? null : event.backend,
              backendInHand: event.backend.chosenBy === 'provisional' ? event.backend : null,
              applied: event.config,
              epoch: event.loadedAt ?? 0,
              epochsPerSec: 0,
              trainSeconds: 0,
              grokked: grokkedIn(s.history),
              lastTrainLoss: NaN,
              historyVersion: s.historyVersion + 1,
              // Only a loaded run consumes the history it brought: the 'ready' of the page's first,
              // fresh run can arrive after a quickly fetched (cached) run was sent to load.
              pendingHistory: event.loadedAt !== null ? null : s.pendingHistory,
              readyCount: s.readyCount + 1,
              readyLoaded: event.loadedAt !== null,
              // A new or reset run is no recording; a loaded one is what its loader asked for.
              recording: event.loadedAt !== null ? s.recordingRequest : null,
              recordingRequest: event.loadedAt !== null ? null : s.recordingRequest,
            });
            return;
          case 'state':
          case 'checkpointState':
          case 'verified':
          case 'bench':
          case 'evidence': // src/store/evidence.ts keeps these
          case 'llc': // and src/store/llc.ts these
          case 'llcProgress':
            return;
          case 'status':
            set({ status: event.status, epoch: event.epoch });
            return;
          case 'progress':
            set({
              epoch: event.epoch,
              epochsPerSec: event.epochsPerSec,
              trainSeconds: event.trainSeconds,
              lastTrainLoss: event.trainLoss,
              checkpointEvery: event.checkpointEvery,
            });
            return;
          case 'checkpoint':
            // The run a recording replaces: its curves give way to the recording's.
            if (s.recordingRequest && s.pendingHistory) return;
            s.history.push(event.checkpoint);
            set({
              historyVersion: s.historyVersion + 1,
              epoch: Math.max(s.epoch, event.checkpoint.epoch),
              grokked: s.grokked ?? (event.checkpoint.testAcc >= GROKKED_ACC ? { epoch: event.checkpoint.epoch, trainSeconds: s.trainSeconds } : null),
            });
            return;
          case 'keyFreqs':
            kCurves.switchTo(s.history, s.keyFreqs, event.keyFreqs);
            set({ keyFreqs: event.keyFreqs, historyVersion: s.historyVersion + 1 });
            return;
          case 'recomputed':
            // Rows measured with a K that has since been left would mix two Ks in one curve.
            if (s.keyFreqs && event.version !== s.keyFreqs.version) return;
            for (const row of event.rows) s.history.applyRecomputed(row, event.version);
            set({ recomputeRemaining: event.remaining, historyVersion: s.historyVersion + 1 });
            return;
          case 'heavy': {
            s.heavy.delete(event.result.epoch);
            s.heavy.set(event.result.epoch, event.result);
            // Bounded memory: the oldest answers go first (every analysis of a run has one size).
            while (s.heavy.size > heavyCapacity(heavyBytes(event.result))) s.heavy.delete(s.heavy.keys().next().value!);
            if (event.latest) s.history.setNeuronsWellExplained(event.result.epoch, event.result.neuronsWellExplained);
            set({
              heavyVersion: s.heavyVersion + 1,
              latestHeavyEpoch: event.latest ? event.result.epoch : s.latestHeavyEpoch,
              historyVersion: event.latest ? s.historyVersion + 1 : s.historyVersion,
            });
            return;
          }
          case 'snapshots':
            set({ snapshotEpochs: event.epochs });
            return;
          case 'backend':
            // The run goes on, on the backend timed fastest: the history stays (#25).
            set({ backend: event.backend, backendInHand: null });
            return;
          case 'error':
            get().notify(event.fatal ? 'error' : 'warning', event.message);
            if (event.fatal) set({ status: 'error' });
            return;
          default: {
            const never: never = event;
            throw new Error(`unhandled worker event ${JSON.stringify(never)}`);
          }
        }
      },
    })),
  );
};

export type AppStore = ReturnType<typeof createAppStore>;

/** The page's one store. */
export const useAppStore = createAppStore();
