/**
 * Charts of §4's evidence: attention maps titled with each head's fitted frequency (Fig. 10), the
 * OV circuit's Fourier spectra (Fig. 11), the evidence over training, the P×P correctness map
 * (click a cell to pick the input), and one input's logits and cos(w_k(a+b−c)) terms (Fig. 8).
 */
import type * as PlotlyTypes from 'plotly.js';
import { formatAblations } from '../../config/ablations.ts';
import type { EvidenceResult } from '../../run/evidence.ts';
import { useEvidenceStore, type EvidenceState } from '../../store/evidence.ts';
import type { AppState } from '../../store/store.ts';
import { COLORS } from '../plot/plotly.ts';
import { useLivePlot, type PlotSpec, type Watch } from '../plot/useLivePlot.ts';
import { viewedHeavy, viewedHeavyKey } from '../../store/view.ts';
import { NARROW_QUERY, useMedia } from '../plot/useNarrow.ts';

type Trace = Partial<PlotlyTypes.PlotData>;
const watch: Watch = (s) => [...viewedHeavyKey(s), s.viewEpoch, s.readyCount];

function useEvidencePlot(build: (ev: EvidenceState, app: AppState) => PlotSpec | null, onClick?: (e: PlotlyTypes.PlotMouseEvent) => void, narrow = false) {
  const version = useEvidenceStore((s) => s.version);
  const pair = useEvidenceStore((s) => s.pair);
  return useLivePlot((app) => build(useEvidenceStore.getState(), app), watch, onClick, `${version}:${pair}:${narrow}`);
}

const title = (text: string) => ({ text, x: 0, xanchor: 'left' as const, font: { size: 14 } });
const epochOf = (r: EvidenceResult) => `epoch ${r.epoch.toLocaleString('en-US')}`;

/** Fig. 10: attention from '=' to a per head, each titled with its fitted frequency and FVE. */
function attentionSpec(ev: EvidenceState, app: AppState, columns = 8): PlotSpec | null {
  const heavy = viewedHeavy(app);
  const r = ev.answer;
  if (!heavy) return null;
  const { p, heads, attention } = heavy.result;
  const data: Trace[] = [];
  const annotations: Partial<PlotlyTypes.Annotations>[] = [];
  // On a phone two heads a row: four titles in one row of ~80 px maps overlap.
  const cols = Math.min(heads, columns);
  const rows = Math.ceil(heads / cols);
  const layout: Record<string, unknown> = { title: title(`Attention from '=' to a, ${epochOf(heavy.result as unknown as EvidenceResult)}`), grid: { rows, columns: cols, pattern: 'independent', xgap: 0.1, ygap: 0.3 }, margin: { l: 40, r: 16, t: 64, b: 40 }, hovermode: 'closest' };
  for (let h = 0; h < heads; h++) {
    const n = h === 0 ? '' : String(h + 1);
    const z = Array.from({ length: p }, (_, a) => Array.from({ length: p }, (_, b) => attention[h * p * p + a * p + b]));
    data.push({ type: 'heatmap', z, xaxis: `x${n}`, yaxis: `y${n}`, zmin: 0, zmax: 1, colorscale: 'Viridis', showscale: h === heads - 1, hovertemplate: `head ${h}<br>a = %{y}, b = %{x}<br>attention to a: %{z:.3f}<extra>epoch ${heavy.result.epoch}</extra>` });
    layout[`xaxis${n}`] = { title: { text: 'b' }, constrain: 'domain' };
    layout[`yaxis${n}`] = { title: { text: h === 0 ? 'a' : '' }, scaleanchor: `x${n}`, autorange: 'reversed' };
    const fit = r?.attentionHeads[h];
    annotations.push({ text: fit ? `head ${h}: k = ${fit.freq}, FVE ${fit.fve < 0 ? '< 0' : `${(100 * fit.fve).toFixed(0)}%`}` : `head ${h}`, yanchor: 'bottom', xref: `x${n} domain` as PlotlyTypes.XAxisName, yref: `y${n} domain` as PlotlyTypes.YAxisName, x: 0.5, y: 1.02, showarrow: false, font: { size: 12 } });
  }
  layout.annotations = annotations;
  return { data, layout: layout as Partial<PlotlyTypes.Layout> };
}

/** Fig. 11: per head, the norm of each frequency of its OV circuit W_E W_V W_O in the Fourier basis. */
function ovSpec(ev: EvidenceState): PlotSpec | null {
  const r = ev.answer;
  if (!r) return null;
  const palette = [COLORS.blue, COLORS.orange, COLORS.green, COLORS.purple, COLORS.sky, COLORS.vermillion, COLORS.grey, COLORS.yellow];
  const ks = Array.from({ length: (r.p - 1) / 2 }, (_, i) => i + 1);
  const data: Trace[] = r.ovNorms.map((norms, h) => ({ type: 'bar', x: ks, y: norms.slice(1), name: `head ${h}`, marker: { color: palette[h % palette.length] }, hovertemplate: `head ${h}, frequency %{x}: norm %{y:.3g}<extra>${epochOf(r)}</extra>` }));
  return { data, layout: { title: title(`OV circuit per frequency, ${epochOf(r)}`), barmode: 'group', xaxis: { title: { text: 'frequency k' } }, yaxis: { title: { text: 'norm of F·W_E W_V W_O' } }, hovermode: 'closest' } };
}

function seriesSpec(ev: EvidenceState, kind: 'fve' | 'loss'): PlotSpec | null {
  const pts = [...ev.series.values()].sort((a, b) => a.epoch - b.epoch);
  if (pts.length === 0) return null;
  const x = pts.map((p) => p.epoch);
  const line = (y: number[], name: string, color: string, dash?: PlotlyTypes.Dash): Trace => ({ type: 'scatter', mode: pts.length < 2 ? 'markers' : 'lines+markers', x, y, name, line: { color, dash, width: 2 }, marker: { size: 4 } });
  const k = ev.seriesKey ? `K = {${ev.seriesKey.replace(/,/g, ', ')}}` : 'no K yet';
  if (kind === 'fve') {
    return {
      data: [line(pts.map((p) => p.logitFVE), 'logits: cos(w_k(a+b−c)) terms (Table 1)', COLORS.vermillion), line(pts.map((p) => p.attentionFVE), 'attention fits, mean over heads (Table 2)', COLORS.blue), line(pts.map((p) => p.directionFVE), 'u_k, v_k by cos/sin(w_k(a+b)), mean (§4.2)', COLORS.green)],
      layout: { title: title(`Fractions of variance explained over training, ${k}`), xaxis: { title: { text: 'epoch' } }, yaxis: { title: { text: 'FVE' }, range: [0, 1.02], tickformat: '.0%' } },
    };
  }
  return {
    data: [line(pts.map((p) => p.loss), 'model (all pairs)', COLORS.grey), line(pts.map((p) => p.lossOnlyKeyFreqs), 'only key frequencies (Table 4)', COLORS.green), line(pts.map((p) => p.lossKeyFreqsRemoved), 'key frequencies removed (Table 4)', COLORS.vermillion, 'dot'), line(pts.map((p) => p.lossNeuronsReplaced), 'neurons replaced (Fig. 6)', COLORS.purple), line(pts.map((p) => p.lossSkipAblated), 'skip connection mean-ablated (Table 6)', COLORS.orange, 'dash')],
    layout: { title: title(`Ablations over training: loss over all P² pairs, ${k}`), xaxis: { title: { text: 'epoch' } }, yaxis: { title: { text: 'cross-entropy (log)' }, type: 'log' } },
  };
}

/**
 * The P×P correctness map: argmax = label per pair (a row, b column), after the intervention when
 * there is one; train pairs in the lighter shades; the chosen pair circled.
 */
function correctnessSpec(ev: EvidenceState): PlotSpec | null {
  const r = ev.answer;
  if (!r) return null;
  const p = r.p;
  const out = r.after ?? r.before;
  const train = new Uint8Array(p * p);
  for (const i of r.trainPairs) train[i] = 1;
  const z = Array.from({ length: p }, (_, a) => Array.from({ length: p }, (_, b) => out.correct[a * p + b] + 2 * train[a * p + b]));
  const text = Array.from({ length: p }, (_, a) => Array.from({ length: p }, (_, b) => `${train[a * p + b] ? 'train' : 'test'} pair, ${out.correct[a * p + b] ? 'correct' : 'wrong'}`));
  const colorscale: [number, string][] = [
    [0, '#b2182b'],
    [0.25, '#b2182b'],
    [0.25, '#2166ac'],
    [0.5, '#2166ac'],
    [0.5, '#f4a6a6'],
    [0.75, '#f4a6a6'],
    [0.75, '#9ecae1'],
    [1, '#9ecae1'],
  ];
  const data: Trace[] = [{ type: 'heatmap', z, text: text as unknown as string[], zmin: -0.5, zmax: 3.5, colorscale, showscale: false, hovertemplate: `a = %{y}, b = %{x}: %{text}<extra>${epochOf(r)}</extra>` }];
  if (ev.pair !== null && ev.pair < p * p) {
    data.push({ type: 'scatter', mode: 'markers', x: [ev.pair % p], y: [Math.floor(ev.pair / p)], marker: { size: 12, color: 'rgba(0,0,0,0)', line: { color: '#000', width: 2 } }, hoverinfo: 'skip', showlegend: false });
  }
  const wrong = out.correct.length - out.correct.reduce((s, x) => s + x, 0);
  const what = r.after ? `after ${formatAblations(r.ablations)}` : 'the model as it is';
  return {
    data,
    layout: { title: title(`Correct (blue) or wrong (red) per pair, ${what}: ${wrong} wrong; light = train`), xaxis: { title: { text: 'b' }, constrain: 'domain' }, yaxis: { title: { text: 'a' }, scaleanchor: 'x', autorange: 'reversed' }, hovermode: 'closest', margin: { l: 44, r: 12, t: 40, b: 40 } },
  };
}

/** One input: its logits over c (before and after the intervention), and Fig. 8's terms for it. */
function inputSpec(ev: EvidenceState): PlotSpec | null {
  const r = ev.answer;
  const pr = r?.probe;
  if (!r || !pr) return null;
  const p = r.p;
  const cs = Array.from({ length: p }, (_, c) => c);
  const centred = (l: Float32Array) => {
    const m = l.subarray(0, p).reduce((s, x) => s + x, 0) / p;
    return cs.map((c) => l[c] - m);
  };
  const data: Trace[] = [{ type: 'scatter', mode: 'lines', x: cs, y: centred(pr.logits), name: 'logits (centred over c)', line: { color: COLORS.grey, width: 3 } }];
  if (r.probeAfter) data.push({ type: 'scatter', mode: 'lines', x: cs, y: centred(r.probeAfter.logits), name: 'logits after the intervention', line: { color: COLORS.vermillion, width: 2, dash: 'dot' } });
  // Term k: coefficient × the unit cos(w_k(a+b−c)), whose norm over (a, b, c) is √(P³/2).
  const unit = Math.sqrt(2 / p ** 3);
  const sum = new Array<number>(p).fill(0);
  const palette = [COLORS.blue, COLORS.orange, COLORS.green, COLORS.purple, COLORS.sky];
  r.keyFreqs.forEach((k, i) => {
    const coef = r.cosCoefficients[k - 1];
    const y = cs.map((c) => coef * unit * Math.cos((2 * Math.PI * k * (pr.a + pr.b - c)) / p));
    y.forEach((v, c) => (sum[c] += v));
    data.push({ type: 'scatter', mode: 'lines', x: cs, y, name: `k = ${k}`, line: { color: palette[i % palette.length], width: 1 } });
  });
  if (r.keyFreqs.length > 0) data.push({ type: 'scatter', mode: 'lines', x: cs, y: sum, name: 'Σ_K (Fig. 8)', line: { color: '#000', width: 2, dash: 'dash' } });
  return {
    data,
    layout: {
      title: title(`Input a = ${pr.a}, b = ${pr.b} (label ${pr.label}): logits over c and each key frequency's cos(w_k(a+b−c)) term, ${epochOf(r)}`),
      xaxis: { title: { text: 'c' } },
      yaxis: { title: { text: 'logit' } },
      shapes: [{ type: 'line', x0: pr.label, x1: pr.label, yref: 'paper', y0: 0, y1: 1, line: { color: COLORS.green, width: 1, dash: 'dot' } }],
    },
  };
}

export function AttentionFitMaps() {
  const narrow = useMedia(NARROW_QUERY);
  const ref = useEvidencePlot((ev, app) => attentionSpec(ev, app, narrow ? 2 : 8), undefined, narrow);
  return <div ref={ref} className="chart wide" data-testid="attention-fit-maps" role="img" aria-label="Attention from = to a per head, titled with the fitted frequency" />;
}

export function OvSpectra() {
  const ref = useEvidencePlot(ovSpec);
  return <div ref={ref} className="chart" data-testid="ov-spectra" role="img" aria-label="Norms of the OV circuit per frequency, per head" />;
}

export function EvidenceFveChart() {
  const ref = useEvidencePlot((ev) => seriesSpec(ev, 'fve'));
  return <div ref={ref} className="chart" data-testid="evidence-fve-chart" role="img" aria-label="Fractions of variance explained over training" />;
}

export function EvidenceLossChart() {
  const ref = useEvidencePlot((ev) => seriesSpec(ev, 'loss'));
  return <div ref={ref} className="chart" data-testid="evidence-loss-chart" role="img" aria-label="Ablation losses over training" />;
}

export function CorrectnessMap() {
  const ref = useEvidencePlot(correctnessSpec, (e) => {
    const pt = e.points[0];
    const ev = useEvidenceStore.getState();
    const p = ev.answer?.p;
    if (!pt || !p || typeof pt.x !== 'number' || typeof pt.y !== 'number') return;
    ev.setPair(pt.y * p + pt.x);
  });
  return <div ref={ref} className="chart square" data-testid="correctness-map" role="img" aria-label="Correctness per pair (a, b); click a cell to look at that input" />;
}

export function InputLogits() {
  const ref = useEvidencePlot(inputSpec);
  return <div ref={ref} className="chart" data-testid="input-logits" role="img" aria-label="The chosen input's logits over c and the cos(w_k(a+b−c)) terms" />;
}
