/**
 * Plotly, loaded on demand (its partial "cartesian" bundle: scatter, bar, heatmap, histogram) so
 * the first paint does not wait for it. Colours are Okabe–Ito, safe for colour-blind readers.
 */
import type * as PlotlyTypes from 'plotly.js';

export type Plotly = typeof PlotlyTypes;

let loading: Promise<Plotly> | null = null;

export function loadPlotly(): Promise<Plotly> {
  loading ??= import('plotly.js-cartesian-dist-min').then((m) => (m.default ?? m) as Plotly);
  return loading;
}

/** Okabe–Ito palette. */
export const COLORS = {
  blue: '#0072B2',
  orange: '#E69F00',
  green: '#009E73',
  vermillion: '#D55E00',
  sky: '#56B4E9',
  purple: '#CC79A7',
  yellow: '#F0E442',
  grey: '#777777',
} as const;

export const BASE_LAYOUT: Partial<PlotlyTypes.Layout> = {
  margin: { l: 56, r: 16, t: 36, b: 44 },
  font: { family: 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif', size: 12, color: '#222' },
  paper_bgcolor: 'rgba(0,0,0,0)',
  plot_bgcolor: '#fff',
  hovermode: 'x unified',
  // Full series names in hover labels (Plotly cuts them at 15 characters by default).
  hoverlabel: { namelength: -1 },
};

export const PLOT_CONFIG: Partial<PlotlyTypes.Config> = {
  // No mode bar: it covered titles and legends, added tab stops and offered Plotly's cloud. Each
  // chart has its own export menu (chart-menu.ts), and nothing may send data to another site.
  displayModeBar: false,
  showLink: false,
  showSendToCloud: false,
  showEditInChartStudio: false,
  displaylogo: false,
  responsive: true,
};
