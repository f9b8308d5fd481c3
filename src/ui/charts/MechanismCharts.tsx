/**
 * The mechanism, from the run's own weights: Fig. 1 live — each token a's embedding on the circle
 * of a key frequency (circle.ts), and for a chosen pair (a, b) the composed rotation a + b and the
 * readout cos(w_k(a + b − c)) at every c — and Fig. 15, the excluded loss with each key frequency
 * removed alone, over training, beside the one with all of K removed.
 */
import { useState } from 'react';
import type * as PlotlyTypes from 'plotly.js';
import { composeRotation, frequencyCircle, readoutAccuracy, type FrequencyCircle } from '../../analysis/circle.ts';
import type { AppState } from '../../store/store.ts';
import { useAppStore } from '../../store/store.ts';
import { curvePoints, excludedLossPerFreqCurves, viewedHeavy, viewedHeavyKey } from '../../store/view.ts';
import { COLORS } from '../plot/plotly.ts';
import { useLivePlot, type PlotSpec, type Watch } from '../plot/useLivePlot.ts';
import { NARROW_QUERY, useMedia } from '../plot/useNarrow.ts';
import { SEQUENTIAL } from './HeavyViews.tsx';
import { X_AXIS, epochDecorations, line, watchCurves } from './ProgressCharts.tsx';
import { endLabel, freqStyle } from './series.ts';

/** Circles drawn at most (K has up to 10 frequencies; the first ones, largest first, tell the story). */
const MAX_CIRCLES = 6;

const watchHeavy: Watch = (s) => [...viewedHeavyKey(s), s.viewEpoch, s.keyFreqs?.version];

export interface Pair {
  a: number;
  b: number;
}

/**
 * The circles to draw: the key frequencies K; before K is known, the frequencies that carry most
 * of W_E so far (the circles forming).
 */
export function circles(s: AppState): { circles: FrequencyCircle[]; fromK: boolean; epoch: number; p: number } | null {
  const h = viewedHeavy(s);
  if (!h || !h.result.embedding || h.result.embedding.length === 0) return null;
  const { p, embedding, epoch } = h.result;
  const K = (s.keyFreqs?.active ?? []).filter((k) => k >= 1 && k <= (p - 1) / 2);
  if (K.length > 0) return { circles: K.slice(0, MAX_CIRCLES).map((k) => frequencyCircle(embedding, p, k)), fromK: true, epoch, p };
  const all = Array.from({ length: (p - 1) / 2 }, (_, i) => frequencyCircle(embedding, p, i + 1));
  all.sort((x, y) => y.planeShare - x.planeShare);
  return { circles: all.slice(0, Math.min(4, MAX_CIRCLES)), fromK: false, epoch, p };
}

const clampPair = (pair: Pair, p: number): Pair => ({ a: Math.min(Math.max(0, pair.a), p - 1), b: Math.min(Math.max(0, pair.b), p - 1) });

export function circleSpec(s: AppState, pair: Pair, columns: number): PlotSpec | null {
  const found = circles(s);
  if (!found) return null;
  const { p } = found;
  const { a, b } = clampPair(pair, p);
  const n = found.circles.length;
  const cols = Math.min(columns, n);
  const rows = Math.ceil(n / cols);
  const data: Partial<PlotlyTypes.PlotData>[] = [];
  const layout: Record<string, unknown> = {
    title: { text: `Each token on its frequency's circle · epoch ${found.epoch.toLocaleString('en-US')}${found.fromK ? '' : ' · no K yet: the strongest frequencies of W_E'}`, x: 0, xanchor: 'left', font: { size: 14 } },
    grid: { rows, columns: cols, pattern: 'independent', xgap: 0.1, ygap: 0.2 },
    annotations: [],
    showlegend: false,
    hovermode: 'closest',
    margin: { l: 30, r: 10, t: 56, b: 30 },
  };
  const tokens = Array.from({ length: p }, (_, t) => t);
  found.circles.forEach((c, i) => {
    const ax = i === 0 ? '' : String(i + 1);
    const xa = `x${ax}`;
    const ya = `y${ax}`;
    const r = composeRotation(c, a, b);
    const R = c.radius;
    data.push({
      type: 'scatter',
      mode: 'markers',
      x: Array.from(c.x),
      y: Array.from(c.y),
      xaxis: xa,
      yaxis: ya,
      marker: { color: tokens, colorscale: SEQUENTIAL, cmin: 0, cmax: p - 1, size: p > 150 ? 4 : 6, showscale: i === 0, colorbar: { title: { text: 'a' }, thickness: 8, len: 0.8 } },
      text: tokens.map((t) => `a = ${t}`),
      hovertemplate: `%{text}<extra>k = ${c.k}</extra>`,
    } as Partial<PlotlyTypes.PlotData>);
    const ray = (angle: number, length: number, color: string, name: string, dash?: PlotlyTypes.Dash) =>
      data.push({ type: 'scatter', mode: 'lines', x: [0, length * Math.cos(angle)], y: [0, length * Math.sin(angle)], xaxis: xa, yaxis: ya, line: { color, width: 2.5, dash }, name, hovertemplate: `${name}<extra>k = ${c.k}</extra>` } as Partial<PlotlyTypes.PlotData>);
    ray(c.angle[a], Math.hypot(c.x[a], c.y[a]), COLORS.blue, `a = ${a}`);
    ray(c.angle[b], Math.hypot(c.x[b], c.y[b]), COLORS.orange, `b = ${b}`);
    ray(r.composed, 1.15 * R, '#222', `a + b: angle_a + angle_b`, 'dot');
    data.push({
      type: 'scatter',
      mode: 'markers',
      x: [c.x[r.answer]],
      y: [c.y[r.answer]],
      xaxis: xa,
      yaxis: ya,
      marker: { size: 16, color: 'rgba(0,0,0,0)', line: { color: COLORS.vermillion, width: 2.5 } },
      hovertemplate: `c = (a + b) mod P = ${r.answer}<extra>k = ${c.k}</extra>`,
    } as Partial<PlotlyTypes.PlotData>);
    const lim = 1.3 * Math.max(R, ...Array.from(c.x, Math.abs), ...Array.from(c.y, Math.abs), 1e-9);
    layout[`xaxis${ax}`] = { range: [-lim, lim], zeroline: true, showgrid: false, showticklabels: false, constrain: 'domain' };
    layout[`yaxis${ax}`] = { range: [-lim, lim], zeroline: true, showgrid: false, showticklabels: false, scaleanchor: xa, constrain: 'domain' };
    const hit = r.best === r.answer ? `reads ${r.best} ✓` : `reads ${r.best}, not ${r.answer}`;
    (layout.annotations as unknown[]).push({
      text: `k = ${c.k} · ${(100 * c.planeShare).toFixed(0)}% of W_E · on angle w_k·a: ${c.phaseCoherence.toFixed(2)} · ${hit}`,
      xref: `${xa} domain`,
      yref: `${ya} domain`,
      x: 0.5,
      y: 1.02,
      yanchor: 'bottom',
      showarrow: false,
      font: { size: 10 },
    });
  });
  return { data, layout: layout as Partial<PlotlyTypes.Layout> };
}

/** The readout at every c: cos(angle_a + angle_b − angle_c) per circle, and their sum (the logits' shape, §4.2). */
export function readoutSpec(s: AppState, pair: Pair): PlotSpec | null {
  const found = circles(s);
  if (!found) return null;
  const { a, b } = clampPair(pair, found.p);
  const cs = Array.from({ length: found.p }, (_, c) => c);
  const sum = new Float64Array(found.p);
  const data: Partial<PlotlyTypes.PlotData>[] = found.circles.map((c) => {
    const r = composeRotation(c, a, b);
    r.readout.forEach((v, i) => (sum[i] += v));
    const st = freqStyle(c.k);
    return { ...line(cs, r.readout, `k = ${c.k}`, st.color, st.dash), hovertemplate: `k = ${c.k}: %{y:.3f}<extra></extra>` };
  });
  let best = 0;
  for (let c = 1; c < found.p; c++) if (sum[c] > sum[best]) best = c;
  data.push({ ...line(cs, sum, 'sum over the circles', '#222'), line: { color: '#222', width: 3 } });
  const answer = (a + b) % found.p;
  const all = readoutAccuracy(found.circles);
  const share = `the circles alone read ${(100 * all.accuracy).toFixed(0)}% of ${all.pairs === found.p * found.p ? 'all' : `${all.pairs.toLocaleString('en-US')} of the`} pairs right`;
  return {
    data,
    layout: {
      title: { text: `Readout at each c for a = ${a}, b = ${b}: the sum peaks at c = ${best}${best === answer ? ' = (a + b) mod P' : `; (a + b) mod P = ${answer}`} · ${share}`, x: 0, xanchor: 'left', font: { size: 13 } },
      xaxis: { title: { text: 'output c' }, range: [-0.5, found.p - 0.5] },
      yaxis: { title: { text: 'cos(angle_a + angle_b − angle_c)' } },
      shapes: [{ type: 'line', x0: answer, x1: answer, y0: 0, y1: 1, yref: 'paper', line: { color: COLORS.vermillion, dash: 'dash', width: 1.5 } }],
      hovermode: 'x unified',
    },
  };
}

/** Fig. 15: the excluded loss with each key frequency alone removed, beside all of K removed, and the train loss. */
export function excludedPerFreqSpec(s: AppState): PlotSpec {
  const h = s.history;
  const epoch = h.column('epoch');
  const all = curvePoints(s, 'excludedLoss');
  const curves = excludedLossPerFreqCurves(s);
  const annotations: Partial<PlotlyTypes.Annotations>[] = [];
  const data = [
    line(epoch, h.column('trainLoss'), 'train', COLORS.blue),
    { ...line(all.x, all.y, 'excluded: all of K removed', '#222'), line: { color: '#222', width: 3 } },
    ...curves.map((c) => {
      const st = freqStyle(c.k);
      const label = endLabel(c.x, c.y, `k ${c.k}`, st.color);
      // On a log axis Plotly places annotations by log10 of the value.
      if (label) annotations.push({ ...label, y: Math.log10(Number(label.y)) });
      return line(c.x, c.y, `excluded: k = ${c.k} removed alone`, st.color, st.dash);
    }),
  ];
  const decorations = epochDecorations(s);
  return {
    data,
    layout: {
      title: { text: curves.length > 0 ? 'Excluded loss, each key frequency removed alone (train pairs)' : 'Excluded loss per key frequency: no key frequencies yet', x: 0, xanchor: 'left', font: { size: 14 } },
      xaxis: X_AXIS,
      yaxis: { type: 'log', title: { text: 'cross-entropy' }, exponentformat: 'power' },
      shapes: decorations.shapes,
      annotations: [...(decorations.annotations ?? []), ...annotations] as PlotlyTypes.Annotations[],
      datarevision: s.historyVersion,
    },
  };
}

export function CircleFigure() {
  const p = useAppStore((s) => (s.applied ?? s.draft).p);
  const [pair, setPair] = useState<Pair>({ a: 5, b: 9 });
  const narrow = useMedia(NARROW_QUERY);
  const columns = narrow ? 2 : 3;
  const circleRef = useLivePlot((s) => circleSpec(s, pair, columns), watchHeavy, undefined, `${pair.a},${pair.b},${columns}`);
  const readoutRef = useLivePlot((s) => readoutSpec(s, pair), watchHeavy, undefined, `${pair.a},${pair.b}`);
  const input = (name: 'a' | 'b') => (
    <label>
      {name}{' '}
      <input
        type="number"
        min={0}
        max={p - 1}
        step={1}
        value={pair[name]}
        data-testid={`circle-${name}`}
        onChange={(e) => {
          const v = Math.round(Number(e.target.value));
          if (Number.isFinite(v)) setPair((q) => clampPair({ ...q, [name]: v }, p));
        }}
      />
    </label>
  );
  return (
    <div className="circle-figure">
      <div className="circle-pair" role="group" aria-label="The pair (a, b) whose rotations are composed">
        Pair: {input('a')} {input('b')} <span className="muted">→ c = (a + b) mod P = {(Math.min(pair.a, p - 1) + Math.min(pair.b, p - 1)) % p}</span>
      </div>
      <div ref={circleRef} className="chart tall" data-testid="circle-maps" role="img" aria-label="Each token's embedding projected on the plane of a key frequency, coloured by the token, with the rotations of a, b and a + b" />
      <div ref={readoutRef} className="chart" data-testid="circle-readout" role="img" aria-label="The readout cos(w_k(a + b − c)) at every output c, per key frequency and summed" />
    </div>
  );
}

export function ExcludedPerFreqChart() {
  const ref = useLivePlot((s) => (s.history.length < 2 ? null : excludedPerFreqSpec(s)), watchCurves);
  return <div ref={ref} className="chart" data-testid="excluded-per-freq-chart" role="img" aria-label="Excluded loss with each key frequency removed alone, and with all of K removed, over epochs" />;
}
