/**
 * The views of one snapshot's heavy analysis: attention from '=' to a per head (Fig. 4 left, 9),
 * neurons (Fig. 5, 12), and the logits in the 2-D Fourier basis (Fig. 4 right).
 */
import { maxOf } from '../../run/extent.ts';
import type * as PlotlyTypes from 'plotly.js';
import type { HeavyResult } from '../../run/protocol.ts';
import type { AppState } from '../../store/store.ts';
import { NARROW_QUERY, useMedia } from '../plot/useNarrow.ts';
import { viewedHeavy, viewedHeavyKey } from '../../store/view.ts';
import { COLORS } from '../plot/plotly.ts';
import { useLivePlot, type PlotSpec, type Watch } from '../plot/useLivePlot.ts';

/** Viridis: perceptually uniform and readable by colour-blind people. */
export const SEQUENTIAL = 'Viridis';
/**
 * Signed values: dark blue (negative) through grey (0) to pale yellow (positive). Its lightness
 * rises monotonically, so the sign still reads in greyscale (a blue–white–red scale has the same
 * lightness at both ends), and blue/orange stay apart for colour-blind readers.
 */
export const SIGNED: [number, string][] = [
  [0, '#0b1f4b'],
  [0.25, '#2f5ea8'],
  [0.5, '#9b9b9b'],
  [0.75, '#e8a33d'],
  [1, '#fff2a8'],
];

const watch: Watch = (s) => [...viewedHeavyKey(s), s.viewEpoch];

/** `[rows, cols]` row-major values as the array of rows Plotly heatmaps take. */
export function toRows(flat: ArrayLike<number>, rows: number, cols: number, offset = 0): number[][] {
  return Array.from({ length: rows }, (_, r) => Array.from({ length: cols }, (_, c) => flat[offset + r * cols + c]));
}

/** The epoch a heavy view shows, said plainly when it is not the shown epoch's snapshot. */
export function epochNote(h: { result: HeavyResult; exact: boolean; ahead?: boolean }): string {
  const note = h.exact ? '' : h.ahead ? ' (nearest computed, after the shown epoch; loading the shown one…)' : ' (catching up: the shown epoch’s views are being prepared)';
  return `epoch ${h.result.epoch.toLocaleString('en-US')}${note}`;
}

/** Axis names for the i-th subplot of a grid. */
function axes(i: number): { x: string; y: string; xl: string; yl: string } {
  const n = i === 0 ? '' : String(i + 1);
  return { x: `x${n}`, y: `y${n}`, xl: `xaxis${n}`, yl: `yaxis${n}` };
}

/** A grid of square heatmaps with one shared colour scale. */
function heatmapGrid(
  maps: { z: number[][]; title: string }[],
  opts: { columns: number; zmin?: number; zmax?: number; xTitle: string; yTitle: string; colorscale?: PlotlyTypes.ColorScale; heading: string },
): PlotSpec {
  const rows = Math.ceil(maps.length / opts.columns);
  const data: Partial<PlotlyTypes.PlotData>[] = [];
  const layout: Record<string, unknown> = {
    title: { text: opts.heading, x: 0, xanchor: 'left', font: { size: 14 } },
    // ygap: room under a row for its "b" and above the next row for its titles (they collided at 0.22).
    grid: { rows, columns: opts.columns, pattern: 'independent', xgap: 0.08, ygap: rows > 1 ? 0.34 : 0.22 },
    annotations: [],
    // Two columns (a phone): the colour bar goes under the maps, so they get the width.
    margin: opts.columns <= 2 ? { l: 34, r: 8, t: 56, b: 64 } : { l: 40, r: 16, t: 56, b: 36 },
    hovermode: 'closest',
  };
  maps.forEach((m, i) => {
    const a = axes(i);
    data.push({
      type: 'heatmap',
      z: m.z,
      xaxis: a.x,
      yaxis: a.y,
      colorscale: opts.colorscale ?? SEQUENTIAL,
      zmin: opts.zmin,
      zmax: opts.zmax,
      showscale: i === 0,
      colorbar: opts.columns <= 2 ? { orientation: 'h', thickness: 8, len: 0.9, y: -0.08, yanchor: 'top' } : { thickness: 10, len: 0.8 },
      hovertemplate: `${opts.yTitle} %{y}, ${opts.xTitle} %{x}: %{z:.3g}<extra>${m.title}</extra>`,
    } as Partial<PlotlyTypes.PlotData>);
    layout[a.xl] = { title: { text: opts.xTitle, font: { size: 12 }, standoff: 2 }, showgrid: false, tickfont: { size: 12 }, constrain: 'domain' };
    // The y title on the first column only: beside a neighbour's map it sits on its tick labels.
    layout[a.yl] = { title: { text: i % opts.columns === 0 ? opts.yTitle : '', font: { size: 12 } }, showgrid: false, tickfont: { size: 12 }, scaleanchor: a.x, constrain: 'domain', autorange: 'reversed' };
    (layout.annotations as unknown[]).push({ text: m.title, xref: `${a.x} domain`, yref: `${a.y} domain`, x: 0.5, y: 1.02, yanchor: 'bottom', showarrow: false, font: { size: 11 } });
  });
  return { data, layout: layout as Partial<PlotlyTypes.Layout> };
}

export function attentionSpec(s: AppState, columns = 4): PlotSpec | null {
  const h = viewedHeavy(s);
  if (!h) return null;
  const { p, heads, attention } = h.result;
  const maps = Array.from({ length: heads }, (_, i) => ({ z: toRows(attention, p, p, i * p * p), title: `head ${i}` }));
  return heatmapGrid(maps, { columns: Math.min(heads, columns), zmin: 0, zmax: 1, xTitle: 'b', yTitle: 'a', heading: `Attention from '=' to a · ${epochNote(h)}` });
}

export function neuronMapsSpec(s: AppState, columns = 3): PlotSpec | null {
  const h = viewedHeavy(s);
  if (!h) return null;
  const { p, neuronIndices, neuronMaps, neuronFreq, neuronFVE } = h.result;
  const maps = Array.from(neuronIndices, (n, i) => ({
    z: toRows(neuronMaps, p, p, i * p * p),
    // Two columns (a phone): a shorter title, or neighbours' titles run into each other.
    title: columns <= 2 ? `#${n} · k ${neuronFreq[n]} · FVE ${neuronFVE[n].toFixed(2)}` : `neuron ${n} · k ${neuronFreq[n]} · FVE ${neuronFVE[n].toFixed(2)}`,
  }));
  return heatmapGrid(maps, { columns, xTitle: 'b', yTitle: 'a', heading: `Neuron activations over (a, b) · ${epochNote(h)}` });
}

export function fveHistogramSpec(s: AppState): PlotSpec | null {
  const h = viewedHeavy(s);
  if (!h) return null;
  const { neuronFVE, neuronsWellExplained, dMlp } = h.result;
  return {
    data: [
      {
        type: 'histogram',
        x: Array.from(neuronFVE),
        xbins: { start: 0, end: 1.0001, size: 0.05 },
        marker: { color: COLORS.blue },
        hovertemplate: 'FVE %{x}: %{y} neurons<extra></extra>',
      },
    ],
    layout: {
      title: { text: `FVE by each neuron's best frequency · ${neuronsWellExplained} of ${dMlp} above 0.85`, x: 0, xanchor: 'left', font: { size: 13 } },
      xaxis: { title: { text: 'FVE by one frequency' }, range: [0, 1] },
      yaxis: { title: { text: 'neurons' } },
      shapes: [{ type: 'line', x0: 0.85, x1: 0.85, y0: 0, y1: 1, yref: 'paper', line: { color: COLORS.vermillion, dash: 'dash', width: 1.5 } }],
      showlegend: false,
    },
  };
}

export function neuronsByFrequencySpec(s: AppState): PlotSpec | null {
  const h = viewedHeavy(s);
  if (!h) return null;
  const { neuronFreq, neuronFVE, p } = h.result;
  const nK = (p - 1) / 2;
  const well = new Array<number>(nK).fill(0);
  const rest = new Array<number>(nK).fill(0);
  neuronFreq.forEach((k, n) => (neuronFVE[n] > 0.85 ? well[k - 1]++ : rest[k - 1]++));
  const ks = Array.from({ length: nK }, (_, i) => i + 1);
  return {
    data: [
      { type: 'bar', x: ks, y: well, name: 'FVE > 0.85', marker: { color: COLORS.vermillion } },
      { type: 'bar', x: ks, y: rest, name: 'FVE ≤ 0.85', marker: { color: '#bbbbbb' } },
    ],
    layout: {
      title: { text: 'Neurons grouped by their best frequency', x: 0, xanchor: 'left', font: { size: 13 } },
      barmode: 'stack',
      xaxis: { title: { text: 'frequency k' }, dtick: nK > 30 ? 5 : 1 },
      yaxis: { title: { text: 'neurons' } },
    },
  };
}

/** The most populated frequency among well-explained neurons, and those neurons. */
export function largestCluster(h: HeavyResult): { k: number; neurons: number[] } | null {
  const counts = new Map<number, number[]>();
  h.neuronFreq.forEach((k, n) => {
    if (h.neuronFVE[n] > 0.85) counts.set(k, [...(counts.get(k) ?? []), n]);
  });
  let best: { k: number; neurons: number[] } | null = null;
  for (const [k, neurons] of counts) if (!best || neurons.length > best.neurons.length) best = { k, neurons };
  return best;
}

export function clusterWLSpec(s: AppState): PlotSpec | null {
  const h = viewedHeavy(s);
  if (!h) return null;
  const { p, neuronLogitMap } = h.result;
  const cluster = largestCluster(h.result);
  if (!cluster) {
    return {
      data: [],
      layout: {
        title: { text: 'W_L of a frequency cluster: no neuron is explained by one frequency yet', x: 0, xanchor: 'left', font: { size: 13 } },
        xaxis: { visible: false },
        yaxis: { visible: false },
      },
    };
  }
  const w = (2 * Math.PI * cluster.k) / p;
  // Order the neurons by the phase of their row, so the shared frequency shows as stripes.
  const phaseOf = (n: number) => {
    let cs = 0;
    let sn = 0;
    for (let c = 0; c < p; c++) {
      cs += neuronLogitMap[n * p + c] * Math.cos(w * c);
      sn += neuronLogitMap[n * p + c] * Math.sin(w * c);
    }
    return Math.atan2(sn, cs);
  };
  const ordered = [...cluster.neurons].sort((a, b) => phaseOf(a) - phaseOf(b));
  const z = ordered.map((n) => Array.from(neuronLogitMap.subarray(n * p, (n + 1) * p)));
  const maxAbs = Math.max(1e-9, maxOf(z.flat().map(Math.abs)));
  return {
    data: [
      {
        type: 'heatmap',
        z,
        colorscale: SIGNED,
        zmin: -maxAbs,
        zmax: maxAbs,
        colorbar: { thickness: 12 },
        hovertemplate: 'row %{y}, c %{x}: %{z:.3g}<extra></extra>',
      } as Partial<PlotlyTypes.PlotData>,
    ],
    layout: {
      title: { text: `W_L rows of the ${ordered.length} neurons of frequency ${cluster.k}, ordered by phase`, x: 0, xanchor: 'left', font: { size: 13 } },
      xaxis: { title: { text: 'output c' } },
      yaxis: { title: { text: 'neuron (sorted)' }, showticklabels: false },
    },
  };
}

/**
 * Axis ticks named by Fourier component (const, cos k, …), about seven of them, each a whole step
 * from the next: "cos 1" one row under "const" overlapped it (#21 polish), so the cos ticks start a step on.
 */
export function componentTicks(names: string[]): { tickvals: number[]; ticktext: string[] } {
  const step = 2 * Math.max(1, Math.round(names.length / 14));
  const tickvals = [0, ...Array.from({ length: Math.floor((names.length - 2) / step) }, (_, i) => 1 + (i + 1) * step)].filter((v) => v < names.length);
  return { tickvals, ticktext: tickvals.map((v) => names[v]) };
}

export function logitSpectrumSpec(s: AppState): PlotSpec | null {
  const h = viewedHeavy(s);
  if (!h) return null;
  const { p, logitSpectrum } = h.result;
  const names = ['const', ...Array.from({ length: p - 1 }, (_, i) => `${i % 2 === 0 ? 'cos' : 'sin'} ${Math.floor(i / 2) + 1}`)];
  return {
    data: [
      {
        type: 'heatmap',
        z: toRows(logitSpectrum, p, p),
        colorscale: SEQUENTIAL,
        hovertemplate: `a: %{customdata[0]}, b: %{customdata[1]}: %{z:.3g}<extra>epoch ${h.result.epoch}</extra>`,
        customdata: Array.from({ length: p }, (_, f) => Array.from({ length: p }, (_, g) => [names[f], names[g]])),
      } as unknown as Partial<PlotlyTypes.PlotData>,
    ],
    layout: {
      title: { text: `Logits in the 2-D Fourier basis (norm over c) · ${epochNote(h)}`, x: 0, xanchor: 'left', font: { size: 13 } },
      xaxis: { title: { text: 'Fourier component over b' }, constrain: 'domain', ...componentTicks(names) },
      yaxis: { title: { text: 'Fourier component over a' }, scaleanchor: 'x', constrain: 'domain', autorange: 'reversed', ...componentTicks(names) },
    },
  };
}

function HeavyChart({ spec, testId, label, className = 'chart', redrawKey }: { spec: (s: AppState) => PlotSpec | null; testId: string; label: string; className?: string; redrawKey?: unknown }) {
  const ref = useLivePlot(spec, watch, undefined, redrawKey);
  return <div ref={ref} className={className} data-testid={testId} role="img" aria-label={label} />;
}

/** On a phone the heads wrap 2 × 2 and the neurons 2 × 3, so each map stays readable. */
export function AttentionMaps() {
  const narrow = useMedia(NARROW_QUERY);
  const columns = narrow ? 2 : 4;
  return <HeavyChart spec={(s) => attentionSpec(s, columns)} redrawKey={columns} testId="attention-maps" label="Attention from the '=' token to a, per head, over all pairs (a, b)" className="chart wide" />;
}

export function NeuronMaps() {
  const narrow = useMedia(NARROW_QUERY);
  const columns = narrow ? 2 : 3;
  return <HeavyChart spec={(s) => neuronMapsSpec(s, columns)} redrawKey={columns} testId="neuron-maps" label="Activations of a few MLP neurons over all pairs (a, b)" className="chart tall maps" />;
}
export const FveHistogram = () => <HeavyChart spec={fveHistogramSpec} testId="fve-histogram" label="Histogram of each neuron's fraction of variance explained by its best frequency" />;
export const NeuronsByFrequency = () => <HeavyChart spec={neuronsByFrequencySpec} testId="neurons-by-frequency" label="Number of neurons per best frequency" />;
export const ClusterWL = () => <HeavyChart spec={clusterWLSpec} testId="cluster-wl" label="W_L rows of the neurons of the largest frequency cluster" />;
export const LogitSpectrum = () => <HeavyChart spec={logitSpectrumSpec} testId="logit-spectrum" label="Norm of the logits in the 2-D Fourier basis" className="chart square" />;
