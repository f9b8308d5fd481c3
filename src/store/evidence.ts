/**
 * The page's state of §4's evidence (ANALYSIS.md §7): the intervention and input the person chose
 * (also in the URL), the worker's answer for the viewed checkpoint, and the evidence curves over
 * training (one point per measured snapshot or live pass). A store of its own beside the main one.
 */
import { create } from 'zustand';
import { subscribeWithSelector } from 'zustand/middleware';
import type { Ablation } from '../config/ablations.ts';
import type { DecodedUrl } from '../config/url.ts';
import type { EvidenceResult } from '../run/evidence.ts';
import type { WorkerEvent } from '../run/protocol.ts';

/** The scalars of one evidence pass that are drawn over training. */
export interface EvidencePoint {
  epoch: number;
  attentionFVE: number;
  directionFVE: number;
  logitFVE: number;
  lossOnlyKeyFreqs: number;
  lossKeyFreqsRemoved: number;
  lossNeuronsReplaced: number;
  lossSkipAblated: number;
  /** Loss over all pairs of the checkpoint as it is. */
  loss: number;
}

export interface EvidenceState {
  ablations: Ablation[];
  pair: number | null;
  /** The answer to the page's request (for the viewed checkpoint), or null while none came. */
  answer: EvidenceResult | null;
  /** Curve points by epoch, and the K they were measured with. */
  series: Map<number, EvidencePoint>;
  seriesKey: string;
  version: number;
  setAblations: (ablations: Ablation[]) => void;
  setPair: (pair: number | null) => void;
  loadUrl: (decoded: DecodedUrl) => void;
  /** A new run: forget its predecessor's answers and curves (the choices stay). */
  clear: () => void;
  receive: (event: Extract<WorkerEvent, { type: 'evidence' }>) => void;
}

const mean = (xs: number[]) => (xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : NaN);

export function toPoint(r: EvidenceResult): EvidencePoint {
  const dirs = Object.values(r.directionFVE).flatMap((d) => [d.cos, d.sin]);
  return {
    epoch: r.epoch,
    // A fit without intercept can have a negative FVE (attention far from 0.5 on average): drawn as 0.
    attentionFVE: mean(r.attentionHeads.map((h) => Math.max(h.fve, 0))),
    directionFVE: mean(dirs),
    logitFVE: r.logitFVE,
    lossOnlyKeyFreqs: r.lossOnlyKeyFreqs,
    lossKeyFreqsRemoved: r.lossKeyFreqsRemoved,
    lossNeuronsReplaced: r.lossNeuronsReplaced,
    lossSkipAblated: r.lossSkipAblated,
    loss: r.before.allLoss,
  };
}

export const createEvidenceStore = () =>
  create<EvidenceState>()(
    subscribeWithSelector((set, get) => ({
      ablations: [],
      pair: null,
      answer: null,
      series: new Map(),
      seriesKey: '',
      version: 0,
      setAblations: (ablations) => set({ ablations }),
      setPair: (pair) => set({ pair }),
      loadUrl: (decoded) => set({ ablations: decoded.ablations ?? [], pair: decoded.pair ?? null }),
      clear: () => set((s) => ({ answer: null, series: new Map(), seriesKey: '', version: s.version + 1 })),
      receive: (event) => {
        const s = get();
        const r = event.result;
        let series = s.series;
        const key = r.keyFreqs.join(',');
        if (event.series) {
          // Curves use one K: a new K starts them again.
          if (key !== s.seriesKey) series = new Map();
          series.set(r.epoch, toPoint(r));
        }
        set({ answer: event.answer ? r : s.answer, series, seriesKey: event.series ? key : s.seriesKey, version: s.version + 1 });
      },
    })),
  );

export const useEvidenceStore = createEvidenceStore();
