/**
 * The page's sweep (issue #13): its spec, every run's place and curves, progress over the whole
 * sweep (runs × epochs, time left) and each finished run's summary for the phase diagram. Events of
 * the sweep worker come in through `receive`; nothing here talks to a worker (src/client/sweep/sweep.ts).
 */
import { create } from 'zustand';
import { detectPhases, grokEpoch, type PhaseName } from '../analysis/phases.ts';
import { noGrokAdvice } from '../config/sweep.ts';
import type { TrainConfig } from '../config/schema.ts';
import { describePoint, type SweepPoint, type SweepSpec } from '../config/sweep.ts';
import type { Checkpoint } from '../run/history-columns.ts';
import type { SweepEvent, SweepRow } from '../run/sweep-protocol.ts';
import type { RunFinal } from '../run/seed-tables.ts';

export type SweepStatus = 'idle' | 'running' | 'done' | 'stopped' | 'error';

/** What the phase diagram shows of a finished run. */
export interface RunSummary {
  /** First epoch with test accuracy ≥ 99% (grokked), or null. */
  grokEpoch: number | null;
  /** The last phase detected on its curves (§5.3 rules, src/analysis/phases.ts). */
  phase: PhaseName | null;
  finalTestLoss: number;
  finalTestAcc: number;
  /** First epoch where train and test loss are both below 1e-6 (Fig. 21), or null. */
  lossBelowEpoch: number | null;
}

/** Fig. 21's threshold: epochs until train and test loss fall below it. */
export const FIG21_LOSS = 1e-6;

export interface SweepRun {
  index: number;
  config: TrainConfig;
  /** Index into each axis' values. */
  at: number[];
  /** `wd=0.1, seed=3`. */
  label: string;
  rows: SweepRow[];
  summary: RunSummary | null;
  /** What Tables 3–6 take of its final weights (run/seed-tables.ts), once trained in the page. */
  final: RunFinal | null;
  /** Why a trained run has no `final`. */
  finalProblem: string | null;
}

export interface SweepState {
  /** The sweep in the form (`wd:0,1;seed:0-2`), from `sweep=` in the link or typed; the address keeps it. */
  text: string;
  spec: SweepSpec | null;
  base: TrainConfig | null;
  epochs: number;
  every: number;
  runs: SweepRun[];
  batches: number[][];
  status: SweepStatus;
  message: string | null;
  backend: string | null;
  /** Updates done over all runs, of runs × epochs. */
  done: number;
  total: number;
  startedAt: number;
  /** Seconds left at the rate so far, null before the first measured block. */
  etaSeconds: number | null;
  /** Bumped whenever rows are appended (they are appended in place). */
  version: number;
  /** The run opened as the page's run, if any. */
  opened: number | null;
  begin: (spec: SweepSpec, base: TrainConfig, points: SweepPoint[], epochs: number, every: number) => void;
  receive: (event: SweepEvent) => void;
  fail: (message: string) => void;
  setOpened: (index: number | null) => void;
  setText: (text: string) => void;
  /** Shows a finished sweep read from a file (`merge --out`): each run's rows and summary. */
  restore: (runs: { index: number; rows: SweepRow[]; summary: RunSummary }[], message: string) => void;
}

/** The summary of a finished run's history. */
export function summarize(history: Pick<Checkpoint, 'epoch' | 'trainLoss' | 'testLoss' | 'testAcc' | 'excludedLoss' | 'giniWL'>[]): RunSummary {
  const col = <K extends keyof (typeof history)[number]>(k: K) => history.map((h) => h[k] as number);
  const phases = detectPhases({ epoch: col('epoch'), testLoss: col('testLoss'), excludedLoss: col('excludedLoss'), testAcc: col('testAcc'), giniWL: col('giniWL') });
  const last = history.at(-1);
  return {
    grokEpoch: grokEpoch(col('epoch'), col('testAcc')),
    phase: phases.at(-1)?.name ?? null,
    finalTestLoss: last?.testLoss ?? NaN,
    finalTestAcc: last?.testAcc ?? NaN,
    lossBelowEpoch: history.find((h) => h.trainLoss < FIG21_LOSS && h.testLoss < FIG21_LOSS)?.epoch ?? null,
  };
}

export const useSweepStore = create<SweepState>()((set, get) => {
  /** Epoch reached by each run (progress). */
  let reached: number[] = [];
  return {
    text: '',
    spec: null,
    base: null,
    epochs: 0,
    every: 0,
    runs: [],
    batches: [],
    status: 'idle',
    message: null,
    backend: null,
    done: 0,
    total: 0,
    startedAt: 0,
    etaSeconds: null,
    version: 0,
    opened: null,
    begin: (spec, base, points, epochs, every) => {
      reached = points.map(() => 0);
      set({
        spec,
        base,
        epochs,
        every,
        runs: points.map((p) => ({ index: p.index, config: p.config, at: p.at, label: describePoint(spec, p.at), rows: [], summary: null, final: null, finalProblem: null })),
        batches: [],
        status: 'running',
        message: 'starting the sweep worker…',
        backend: null,
        done: 0,
        total: points.length * epochs,
        startedAt: Date.now(),
        etaSeconds: null,
        version: get().version + 1,
        opened: null,
      });
    },
    receive: (event) => {
      const s = get();
      switch (event.type) {
        case 'started':
          set({ backend: event.backend.name, batches: event.batches, message: null, startedAt: Date.now() });
          break;
        case 'checkpoint': {
          event.runs.forEach((i, k) => {
            s.runs[i]?.rows.push(event.rows[k]);
            reached[i] = event.epoch;
          });
          const done = reached.reduce((n, e) => n + e, 0);
          const seconds = (Date.now() - s.startedAt) / 1000;
          set({ done, etaSeconds: done > 0 && seconds > 0.5 ? (seconds * (s.total - done)) / done : null, version: s.version + 1 });
          break;
        }
        case 'run': {
          const runs = s.runs.slice();
          const r = runs[event.index];
          if (r) runs[event.index] = { ...r, summary: summarize(event.history), final: event.final ? { ...event.final, point: r.label } : null, finalProblem: event.finalProblem ?? null };
          set({ runs, version: s.version + 1 });
          break;
        }
        case 'done': {
          const finished = s.runs.filter((r) => r.summary).length;
          const advice = noGrokAdvice(s.runs.filter((r) => r.summary).map((r) => r.summary!.grokEpoch), s.epochs);
          set({ status: event.stopped ? 'stopped' : 'done', etaSeconds: 0, message: `${finished} of ${s.runs.length} runs trained in ${event.seconds.toFixed(1)} s${event.stopped ? ' (stopped)' : ''}.${advice ? ` ${advice}` : ''}` });
          break;
        }
        case 'error':
          set({ status: 'error', etaSeconds: null, message: event.message });
          break;
        default:
          event satisfies never;
      }
    },
    fail: (message) => set({ status: 'error', message, etaSeconds: null }),
    setOpened: (index) => set({ opened: index }),
    setText: (text) => set({ text }),
    restore: (done, message) => {
      const runs = get().runs.slice();
      for (const d of done) if (runs[d.index]) runs[d.index] = { ...runs[d.index], rows: d.rows, summary: d.summary };
      const total = get().total;
      set({ runs, status: 'done', message, done: total, etaSeconds: 0, version: get().version + 1 });
    },
  };
});
