/**
 * How series look and read: one colour and one dash per frequency number (the same whatever K is),
 * labels at the ends of frequency lines (so they are told apart without colour), hover text with
 * full names and 3–4 significant digits, marks where a live setting changed, and what an empty
 * chart says.
 */
import type * as PlotlyTypes from 'plotly.js';
import { formatValue } from '../../run/format.ts';
import type { AppState } from '../../store/store.ts';
import { liveChanges } from '../../store/view.ts';

/** Okabe–Ito without yellow (too light on white) or black (the sum over K is black), with indigo and wine: 8 colours. */
export const FREQ_COLORS = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#332288', '#882255'] as const;
/** 7 dash patterns: with 8 colours, (k mod 8, k mod 7) differ for every k in 1…56 (P = 113). */
export const FREQ_DASHES = ['solid', 'dot', 'dash', 'longdash', 'dashdot', 'longdashdot', '8px,3px,2px,3px,2px,3px'] as PlotlyTypes.Dash[];

export function freqStyle(k: number): { color: string; dash: PlotlyTypes.Dash } {
  return { color: FREQ_COLORS[k % FREQ_COLORS.length], dash: FREQ_DASHES[k % FREQ_DASHES.length] };
}

/** Hover text of one series: its full name and its value to 4 significant digits (trailing zeros cut). */
export function hoverValue(name: string, suffix = ''): Pick<PlotlyTypes.PlotData, 'hovertemplate'> {
  return { hovertemplate: `${name}: %{y:.4~g}${suffix}<extra></extra>` };
}

/** The unified hover's heading on charts over epochs. */
export const EPOCH_HOVER_TITLE = { text: 'epoch %{x:,}' };

/** A label at the last point of a frequency's line, in its colour. */
export function endLabel(x: ArrayLike<number>, y: ArrayLike<number>, text: string, color: string): Partial<PlotlyTypes.Annotations> | null {
  for (let i = y.length - 1; i >= 0; i--) {
    if (Number.isFinite(y[i])) return { x: x[i], y: y[i], text, showarrow: false, xanchor: 'left', xshift: 4, font: { size: 10, color }, bgcolor: 'rgba(255,255,255,0.7)' };
  }
  return null;
}

/** Thin vertical lines where λ or the learning rate was changed live, the change on hover. */
export function liveChangeMarks(s: AppState): Pick<PlotlyTypes.Layout, 'shapes' | 'annotations'> {
  const shapes: Partial<PlotlyTypes.Shape>[] = [];
  const annotations: Partial<PlotlyTypes.Annotations>[] = [];
  // Labels of changes close together (one drag of λ across checkpoints) are stacked, not overlaid;
  // they sit at the top, clear of the phase labels at the foot.
  const span = Math.max(s.history.last()?.epoch ?? 1, 1);
  let lastX = -Infinity;
  let level = 0;
  for (const c of liveChanges(s)) {
    level = c.epoch - lastX < 0.08 * span ? (level + 1) % 4 : 0;
    lastX = c.epoch;
    shapes.push({ type: 'line', xref: 'x', yref: 'paper', x0: c.epoch, x1: c.epoch, y0: 0, y1: 1, line: { color: '#555', width: 1 }, layer: 'above' });
    const short = c.setting === 'learning rate' ? 'lr' : 'λ';
    annotations.push({
      x: c.epoch,
      y: 1 - 0.09 * level,
      xref: 'x',
      yref: 'paper',
      yanchor: 'top',
      xanchor: 'left',
      text: `${short} ${formatValue(c.to)}`,
      showarrow: false,
      font: { size: 12, color: '#333' },
      bgcolor: 'rgba(255,255,255,0.8)',
      hovertext: `${c.setting} changed live: ${formatValue(c.from)} → ${formatValue(c.to)} (between epochs ${c.before.toLocaleString('en-US')} and ${c.epoch.toLocaleString('en-US')})`,
    });
  }
  return { shapes: shapes as PlotlyTypes.Shape[], annotations: annotations as PlotlyTypes.Annotations[] };
}

/** What a chart over epochs says before there is a curve to draw. */
export function waitingText(s: AppState): string {
  if (s.recordingRequest) return 'Opening the recorded run…';
  if (s.status === 'running') return 'Training — the first points arrive within a second…';
  if (s.status === 'starting') return 'Starting the training worker…';
  return 'Press Train — the first points arrive within a second';
}

/** An empty chart with the message in the middle (no lone dot on a 0–1 epoch axis). */
export function waitingLayout(s: AppState, title: Partial<PlotlyTypes.Layout>['title']): Partial<PlotlyTypes.Layout> {
  return {
    title,
    xaxis: { visible: false },
    yaxis: { visible: false },
    showlegend: false,
    annotations: [{ text: waitingText(s), x: 0.5, y: 0.5, xref: 'paper', yref: 'paper', showarrow: false, font: { size: 14, color: '#555' } }],
  };
}
