/**
 * The page's LLC over training (README "Beyond the paper"): the schedule the person chose (also
 * in the URL as `llc=`), one point per estimated snapshot (epoch, LLC, its error, whether it
 * settled), the last estimate's chains' loss traces, and the estimate in progress. A store of its
 * own beside the main one; the worker makes the estimates (worker/training/llc-scheduler.ts).
 */
import { create } from 'zustand';
import { subscribeWithSelector } from 'zustand/middleware';
import type { LlcPoint, LlcSchedule, LlcSeries, LlcSettings } from '../config/llc.ts';
import type { LlcEstimate, WorkerEvent } from '../run/protocol.ts';

export type { LlcPoint } from '../config/llc.ts';

export interface LlcState {
  /** Null: off. */
  schedule: LlcSchedule | null;
  /** By epoch, ascending; all made with `settings`. */
  points: LlcPoint[];
  /** The settings the points were made with (nβ resolved), or null before the first. */
  settings: LlcSettings | null;
  /** The newest estimate, traces and all. */
  last: LlcEstimate | null;
  progress: { epoch: number; done: number; total: number } | null;
  /** The series a run being loaded brought (a saved or imported run file), shown once it is loaded. */
  pending: LlcSeries | null;
  version: number;
  setSchedule: (schedule: LlcSchedule | null) => void;
  /** A new run: forget the old one's estimates (the schedule stays); a loaded one shows the series it brought. */
  clear: (loaded?: boolean) => void;
  receive: (event: Extract<WorkerEvent, { type: 'llc' | 'llcProgress' }>) => void;
}

export function toLlcPoint(e: LlcEstimate): LlcPoint {
  return { epoch: e.epoch, llc: e.llc, error: e.error, settled: e.settled, seconds: e.seconds };
}

/** Inserts or replaces the point of an epoch, keeping them sorted. */
export function withPoint(points: readonly LlcPoint[], p: LlcPoint): LlcPoint[] {
  const out = points.filter((x) => x.epoch !== p.epoch);
  const at = out.findIndex((x) => x.epoch > p.epoch);
  out.splice(at === -1 ? out.length : at, 0, p);
  return out;
}

/** The LLC over training as far as a saved state reaches (a run file carries it), or null if none was estimated. */
export function llcSeriesUpTo(s: Pick<LlcState, 'settings' | 'points'>, epoch: number): LlcSeries | null {
  const kept = s.points.filter((p) => p.epoch <= epoch);
  return s.settings && kept.length > 0 ? { settings: s.settings, points: kept } : null;
}

export const createLlcStore = () =>
  create<LlcState>()(
    subscribeWithSelector((set, get) => ({
      schedule: null,
      points: [],
      settings: null,
      last: null,
      progress: null,
      pending: null,
      version: 0,
      // Estimates at other settings are not comparable (README): a new schedule starts the curve again.
      setSchedule: (schedule) => set((s) => (JSON.stringify(schedule) === JSON.stringify(s.schedule) ? {} : { schedule, points: [], settings: null, last: null, progress: null, version: s.version + 1 })),
      clear: (loaded = false) =>
        set((s) => {
          const brought = loaded ? s.pending : null;
          return { points: brought?.points ?? [], settings: brought?.settings ?? null, last: null, progress: null, pending: loaded ? null : s.pending, version: s.version + 1 };
        }),
      receive: (event) => {
        const s = get();
        if (!s.schedule) return;
        if (event.type === 'llcProgress') {
          set({ progress: event.done < event.total ? { epoch: event.epoch, done: event.done, total: event.total } : null, version: s.version + 1 });
          return;
        }
        const e = event.estimate;
        const same = s.settings !== null && JSON.stringify(s.settings) === JSON.stringify(e.settings);
        set({ points: withPoint(same ? s.points : [], toLlcPoint(e)), settings: e.settings, last: e, version: s.version + 1 });
      },
    })),
  );

export const useLlcStore = createLlcStore();
