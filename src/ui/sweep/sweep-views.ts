/**
 * What the sweep's views draw, as plain data: the small multiples' panels (runs faint, their mean
 * bold, as the paper's Figs. 15–19 draw five seeds) and the phase diagram's cells over the two
 * varied keys. No React here, so it is tested alone.
 */
import { maxOf, minOf } from '../../run/extent.ts';
import type { PhaseName } from '../../analysis/phases.ts';
import { FIELDS } from '../../config/schema.ts';
import type { SweepSpec } from '../../config/sweep.ts';
import type { SweepRow } from '../../run/sweep-protocol.ts';
import type { RunSummary, SweepRun } from '../../store/sweep.ts';

export interface Panel {
  title: string;
  /** Sweep indices of the runs drawn faint in it (their mean bold). */
  runs: number[];
}

/**
 * The axis whose runs share a panel: the seeds when a seed is varied (the paper's mean of five
 * seeds), else the second key of two; with one non-seed key every run has a panel of its own.
 */
export function sharedAxis(spec: SweepSpec): number {
  const seed = spec.axes.findIndex((a) => a.field === 'seed');
  if (seed >= 0) return seed;
  return spec.axes.length === 2 ? 1 : -1;
}

export function panels(spec: SweepSpec, runs: Pick<SweepRun, 'index' | 'at'>[]): Panel[] {
  const shared = sharedAxis(spec);
  const byKey = new Map<string, Panel>();
  for (const r of runs) {
    const others = spec.axes.map((a, k) => (k === shared ? null : `${FIELDS[a.field].key}=${a.values[r.at[k]]}`)).filter((x): x is string => x !== null);
    const key = others.join(', ');
    const title = key || (shared >= 0 ? `all ${spec.axes[shared].values.length} ${FIELDS[spec.axes[shared].field].key} values` : '');
    if (!byKey.has(key)) byKey.set(key, { title, runs: [] });
    byKey.get(key)!.runs.push(r.index);
  }
  return [...byKey.values()];
}

/**
 * The mean over runs at each checkpoint every one of them has reached (the runs of a sweep share
 * their checkpoint epochs). Losses are averaged in log space (a geometric mean), as a log axis shows them.
 */
export function meanCurve(curves: SweepRow[][], key: keyof Omit<SweepRow, 'epoch'>, log: boolean): { epoch: number[]; value: number[] } {
  if (curves.length === 0) return { epoch: [], value: [] };
  const n = minOf(curves.map((c) => c.length));
  const epoch: number[] = [];
  const value: number[] = [];
  for (let i = 0; i < n; i++) {
    const e = curves[0][i].epoch;
    if (curves.some((c) => c[i].epoch !== e)) break;
    const vs = curves.map((c) => c[i][key]);
    const m = log ? Math.exp(vs.reduce((s, v) => s + Math.log(Math.max(v, 1e-30)), 0) / vs.length) : vs.reduce((s, v) => s + v, 0) / vs.length;
    epoch.push(e);
    value.push(m);
  }
  return { epoch, value };
}

export type PhaseMetric = 'grok' | 'phase' | 'loss' | 'fig21';

export const METRIC_LABELS: Record<PhaseMetric, string> = {
  grok: 'epoch of 99% test accuracy',
  phase: 'phase reached',
  loss: 'final test loss',
  fig21: 'epoch train and test loss < 1e-6 (Fig. 21)',
};

/** The epoch a metric counts to, for the epoch metrics. */
const epochOf = (s: RunSummary, metric: PhaseMetric) => (metric === 'grok' ? s.grokEpoch : s.lossBelowEpoch);

export interface Cell {
  index: number;
  summary: RunSummary | null;
  /** Text in the cell, a colour for its value, and the text's colour on it (`inkOn`). */
  text: string;
  color: string;
  ink: string;
}

export interface Grid {
  rowLabel: string;
  colLabel: string;
  rows: string[];
  cols: string[];
  cells: Cell[][];
}

export const PHASE_FILL: Record<PhaseName, string> = {
  memorization: '#c6dbef',
  'circuit formation': '#f5c56a',
  cleanup: '#66c2a4',
  stable: '#238b45',
};

/** A sequential scale (light = low, dark = high), readable in greyscale. */
function ramp(t: number): string {
  const u = Math.min(1, Math.max(0, t));
  const from = [255, 247, 188];
  const to = [8, 48, 107];
  return `rgb(${from.map((f, i) => Math.round(f + (to[i] - f) * u)).join(',')})`;
}

/** WCAG relative luminance of `rgb(r,g,b)` or `#rrggbb`. */
function luminance(color: string): number {
  const rgb = color.startsWith('#') ? [1, 3, 5].map((i) => parseInt(color.slice(i, i + 2), 16)) : (color.match(/\d+/g) ?? []).map(Number);
  const [r, g, b] = rgb.map((c) => {
    const x = c / 255;
    return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

export const DARK_INK = '#000000';
export const LIGHT_INK = '#ffffff';

/** WCAG contrast ratio of two colours. */
export function contrast(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

/** The text colour, dark or light, that reads best on a cell's colour (the ramp's dark end needs light text). */
export function inkOn(color: string): string {
  return contrast(DARK_INK, color) >= contrast(LIGHT_INK, color) ? DARK_INK : LIGHT_INK;
}

function cellOf(index: number, s: RunSummary | null, metric: PhaseMetric, range: { lo: number; hi: number }): Cell {
  const cell = cellColour(index, s, metric, range);
  return { ...cell, ink: inkOn(cell.color) };
}

function cellColour(index: number, s: RunSummary | null, metric: PhaseMetric, range: { lo: number; hi: number }): Omit<Cell, 'ink'> {
  if (!s) return { index, summary: null, text: '…', color: '#eef0f3' };
  if (metric === 'phase') return { index, summary: s, text: s.phase ?? '—', color: s.phase ? PHASE_FILL[s.phase] : '#eef0f3' };
  if (metric === 'grok' || metric === 'fig21') {
    const e = epochOf(s, metric);
    // A sweep of loss curves only (the authors' sweep files) has no accuracy to grok by.
    if (metric === 'grok' && !Number.isFinite(s.finalTestAcc)) return { index, summary: s, text: 'no accuracy', color: '#d9d9d9' };
    if (e === null) return { index, summary: s, text: metric === 'grok' ? 'not grokked' : 'not reached', color: '#d9d9d9' };
    const t = range.hi > range.lo ? (e - range.lo) / (range.hi - range.lo) : 0;
    return { index, summary: s, text: e.toLocaleString('en-US'), color: ramp(t) };
  }
  const l = Math.log10(Math.max(s.finalTestLoss, 1e-30));
  const t = range.hi > range.lo ? (l - range.lo) / (range.hi - range.lo) : 0;
  return { index, summary: s, text: Number.isFinite(s.finalTestLoss) ? s.finalTestLoss.toExponential(1) : 'NaN', color: Number.isFinite(s.finalTestLoss) ? ramp(t) : '#d9d9d9' };
}

/** The phase diagram: rows = the first key's values, columns = the second's (one column for one key). */
export function phaseGrid(spec: SweepSpec, runs: Pick<SweepRun, 'index' | 'at' | 'summary'>[], metric: PhaseMetric): Grid {
  const [a0, a1] = spec.axes;
  const values = runs.map((r) => r.summary).filter((s): s is RunSummary => s !== null);
  const nums = metric === 'grok' || metric === 'fig21' ? values.map((s) => epochOf(s, metric)).filter((e): e is number => e !== null) : values.map((s) => Math.log10(Math.max(s.finalTestLoss, 1e-30))).filter(Number.isFinite);
  const range = { lo: minOf(nums), hi: maxOf(nums) };
  const rows = a0.values.map(String);
  const cols = a1 ? a1.values.map(String) : [''];
  const cells: Cell[][] = rows.map(() => cols.map(() => ({ index: -1, summary: null, text: '', color: '', ink: DARK_INK })));
  for (const r of runs) cells[r.at[0]][a1 ? r.at[1] : 0] = cellOf(r.index, r.summary, metric, range);
  return { rowLabel: FIELDS[a0.field].label, colLabel: a1 ? FIELDS[a1.field].label : '', rows, cols, cells };
}
