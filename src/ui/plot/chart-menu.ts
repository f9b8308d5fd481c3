/**
 * Each chart's own small export menu (Plotly's mode bar is hidden: its "upload" button would send
 * data to another site). PNG and SVG are drawn by Plotly in the page; CSV and JSON hold the chart's
 * series as drawn (the viewed epoch for spectra and heatmaps), one row per point:
 * trace, x, y, z. Everything is saved with a download link; nothing leaves the browser.
 */
import type * as PlotlyTypes from 'plotly.js';
import { saveBlob } from '../../client/runs/download.ts';
import { useAppStore } from '../../store/store.ts';
import type { Plotly } from './plotly.ts';
import { fromPlotText } from './text.ts';

type Trace = { name?: string; type?: string; x?: ArrayLike<unknown>; y?: ArrayLike<unknown>; z?: ArrayLike<ArrayLike<unknown>> | ArrayLike<unknown> };
type PlotEl = HTMLDivElement & { data?: Trace[]; layout?: { title?: { text?: string } } };

function cell(v: unknown): string {
  if (v === null || v === undefined || (typeof v === 'number' && Number.isNaN(v))) return '';
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The chart's traces in long form: one row per point (heatmaps: one per cell). */
export function tracesToRows(traces: Trace[]): (string | number | null)[][] {
  const rows: (string | number | null)[][] = [];
  traces.forEach((t, i) => {
    const name = t.name === undefined ? `trace ${i}` : fromPlotText(t.name);
    const x = t.x ? Array.from(t.x) : [];
    const y = t.y ? Array.from(t.y) : [];
    if (t.z && t.z.length > 0 && typeof t.z[0] === 'object') {
      const z = Array.from(t.z as ArrayLike<ArrayLike<unknown>>, (r) => Array.from(r));
      z.forEach((r, yi) => r.forEach((v, xi) => rows.push([name, (x[xi] ?? xi) as number, (y[yi] ?? yi) as number, v as number])));
    } else {
      for (let k = 0; k < Math.max(x.length, y.length); k++) rows.push([name, (x[k] ?? k) as number, (y[k] ?? null) as number, null]);
    }
  });
  return rows;
}

export function toCsv(header: string[], rows: unknown[][]): string {
  return [header.map(cell).join(','), ...rows.map((r) => r.map(cell).join(','))].join('\n') + '\n';
}

function baseName(el: PlotEl): string {
  const s = useAppStore.getState();
  const epoch = s.viewEpoch ?? s.epoch;
  return `grokscope-${el.dataset.testid ?? 'chart'}-epoch${epoch}`;
}

/** Adds the menu to a chart element (its children are Plotly's; React renders none there). */
export function attachChartMenu(el: PlotEl, plotly: () => Plotly | null): void {
  if (el.querySelector(':scope > .chart-menu')) return;
  const menu = document.createElement('details');
  menu.className = 'chart-menu';
  const summary = document.createElement('summary');
  summary.textContent = '⤓';
  summary.title = 'Export this chart';
  summary.setAttribute('aria-label', 'Export this chart');
  menu.append(summary);
  const items: [string, () => void | Promise<void>][] = [
    ['PNG', () => plotly()?.downloadImage(el, { format: 'png', filename: baseName(el), width: el.clientWidth * 2, height: el.clientHeight * 2, scale: 1 } as PlotlyTypes.DownloadImgopts)],
    ['SVG', () => plotly()?.downloadImage(el, { format: 'svg', filename: baseName(el), width: el.clientWidth, height: el.clientHeight } as PlotlyTypes.DownloadImgopts)],
    ['CSV', () => saveBlob(new Blob([toCsv(['trace', 'x', 'y', 'z'], tracesToRows(el.data ?? []))], { type: 'text/csv' }), `${baseName(el)}.csv`)],
    [
      'JSON',
      () => {
        const traces = (el.data ?? []).map((t) => ({ name: t.name === undefined ? null : fromPlotText(t.name), type: t.type ?? 'scatter', x: t.x ? Array.from(t.x) : undefined, y: t.y ? Array.from(t.y) : undefined, z: t.z ? Array.from(t.z as ArrayLike<unknown>, (r) => (typeof r === 'object' && r !== null ? Array.from(r as ArrayLike<unknown>) : r)) : undefined }));
        saveBlob(new Blob([JSON.stringify({ chart: el.dataset.testid, title: el.layout?.title?.text ?? null, traces })], { type: 'application/json' }), `${baseName(el)}.json`);
      },
    ],
  ];
  for (const [label, action] of items) {
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = label;
    b.dataset.export = label.toLowerCase();
    b.addEventListener('click', () => {
      menu.open = false;
      void Promise.resolve(action()).catch((err: unknown) => useAppStore.getState().notify('error', `The chart could not be exported: ${String(err)}`));
    });
    menu.append(b);
  }
  el.append(menu);
}
