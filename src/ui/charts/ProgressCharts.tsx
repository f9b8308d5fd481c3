/**
 * The curves over training, drawn live: loss with the restricted and excluded losses (Fig. 2, 7),
 * accuracy with the restricted accuracy (Fig. 2, 13), the Gini coefficients of W_E and W_L and the
 * sum of squared weights (Fig. 7), and the neurons one frequency explains (§4.3). The detected
 * phases are shaded and labelled; hovering a label shows its rule. A line marks the scrubbed epoch.
 */
import type * as PlotlyTypes from 'plotly.js';
import type { AppState } from '../../store/store.ts';
import type { HistoryColumn } from '../../run/history-columns.ts';
import { curvePoints, formatK, phases, remeasuring, slingshots, viewedEpoch } from '../../store/view.ts';
import { SLINGSHOT_RULE } from '../../analysis/slingshots.ts';
import { COLORS } from '../plot/plotly.ts';
import { EPOCH_HOVER_TITLE, hoverValue, liveChangeMarks, waitingLayout } from './series.ts';
import { useLivePlot, type PlotSpec, type Watch } from '../plot/useLivePlot.ts';
import { useCompareStore } from '../../store/compare.ts';
import { withOverlay } from './overlay.ts';

type Trace = Partial<PlotlyTypes.PlotData>;

export const PHASE_COLORS: Record<string, string> = {
  memorization: 'rgba(0,114,178,0.09)',
  'circuit formation': 'rgba(230,159,0,0.13)',
  cleanup: 'rgba(0,158,115,0.12)',
  stable: 'rgba(120,120,120,0.06)',
};

export function line(x: ArrayLike<number>, y: ArrayLike<number>, name: string, color: string, dash?: PlotlyTypes.Dash, suffix = ''): Trace {
  return {
    x: x as unknown as number[],
    y: y as unknown as number[],
    name,
    type: 'scatter',
    // A lone point (epoch 0) would be invisible as a line.
    mode: x.length < 2 ? 'markers' : 'lines',
    line: { color, width: 2, dash },
    connectgaps: false,
    ...hoverValue(name, suffix),
  };
}

/**
 * A K-dependent curve (§5.6) at the checkpoints measured with the current K: after a K change only
 * the snapshots are re-measured, so it is drawn as markers joined, never as a line full of gaps.
 */
function kLine(s: AppState, column: HistoryColumn, name: string, color: string, dash: PlotlyTypes.Dash, scale = 1, suffix = ''): Trace {
  const { x, y, complete } = curvePoints(s, column);
  const trace = line(x, scale === 1 ? y : y.map((v) => v * scale), name, color, dash, suffix);
  return complete ? trace : { ...trace, mode: 'lines+markers', marker: { size: 5, color } };
}

/** Phase bands, phase labels (hover: the rule) and the scrubber's marker, for any chart over epochs. */
export function epochDecorations(s: AppState): Pick<PlotlyTypes.Layout, 'shapes' | 'annotations'> {
  const last = s.history.last()?.epoch ?? 0;
  const shapes: Partial<PlotlyTypes.Shape>[] = [];
  const annotations: Partial<PlotlyTypes.Annotations>[] = [];
  const list = phases(s);
  list.forEach((p, i) => {
    const end = p.end ?? last;
    shapes.push({ type: 'rect', xref: 'x', yref: 'paper', x0: p.start, x1: end, y0: 0, y1: 1, fillcolor: PHASE_COLORS[p.name], line: { width: 0 }, layer: 'below' });
    annotations.push({
      // The first phase's label starts at its start: centred on a narrow first phase, its veil
      // reached left over the y axis and hid the "0%" tick (#21 polish).
      x: i === 0 ? p.start : (p.start + end) / 2,
      xanchor: i === 0 ? 'left' : 'center',
      // Staggered, so the labels of narrow neighbouring phases do not overlap.
      // At the foot of the plot, where no 100% line runs, on a veil so a curve under it stays legible.
      y: i % 2 === 0 ? 0 : 0.08,
      xref: 'x',
      yref: 'paper',
      yanchor: 'bottom',
      text: p.name,
      showarrow: false,
      bgcolor: 'rgba(255,255,255,0.75)',
      font: { size: 12, color: '#333' },
      hovertext: `${p.name}: ${p.start.toLocaleString('en-US')}–${p.end === null ? 'now' : p.end.toLocaleString('en-US')} epochs. Rule: ${p.rule}`,
    });
  });
  const viewed = s.viewEpoch !== null ? viewedEpoch(s) : null;
  if (viewed !== null) shapes.push({ type: 'line', xref: 'x', yref: 'paper', x0: viewed, x1: viewed, y0: 0, y1: 1, line: { color: '#222', width: 1.5, dash: 'dot' } });
  // The grokking moment (test accuracy first ≥ 99%), said where the eye is: on the curves.
  if (s.grokked) {
    shapes.push({ type: 'line', xref: 'x', yref: 'paper', x0: s.grokked.epoch, x1: s.grokked.epoch, y0: 0, y1: 1, line: { color: COLORS.green, width: 2 } });
    annotations.push({
      x: s.grokked.epoch,
      y: 0.5,
      xref: 'x',
      yref: 'paper',
      xanchor: 'left',
      text: `grokked at epoch ${s.grokked.epoch.toLocaleString('en-US')}`,
      showarrow: false,
      bgcolor: 'rgba(255,255,255,0.85)',
      font: { size: 12, color: COLORS.green },
    });
  }
  const marks = liveChangeMarks(s);
  return { shapes: [...shapes, ...(marks.shapes ?? [])] as PlotlyTypes.Shape[], annotations: [...annotations, ...(marks.annotations ?? [])] as PlotlyTypes.Annotations[] };
}

export const X_AXIS = { title: { text: 'epoch' }, zeroline: false, rangemode: 'tozero', unifiedhovertitle: EPOCH_HOVER_TITLE } as Partial<PlotlyTypes.LayoutAxis>;
export const title = (text: string) => ({ text, x: 0, xanchor: 'left' as const, font: { size: 14 } });

/** Charts over epochs redraw on new checkpoints, K changes and scrubbing. */
export const watchCurves: Watch = (s) => [s.historyVersion, s.viewEpoch, s.keyFreqs?.version, s.status, s.recordingRequest, s.snapshotEpochs];

/** Before there are two checkpoints, a chart over epochs says what to do instead of showing a dot. */
export function orWaiting(spec: (s: AppState) => PlotSpec): (s: AppState) => PlotSpec {
  return (s) => {
    const full = spec(s);
    return s.history.length < 2 ? { data: [], layout: waitingLayout(s, full.layout.title) } : full;
  };
}

/** Slingshots (App. D.2) as triangles at their peaks, the rule and the rise on hover. */
function slingshotTrace(s: AppState): Trace[] {
  const list = slingshots(s);
  if (list.length === 0) return [];
  return [
    {
      type: 'scatter',
      mode: 'markers',
      name: `slingshot (${list.length})`,
      x: list.map((x) => x.peak),
      y: list.map((x) => x.peakLoss),
      marker: { symbol: 'triangle-down', size: 11, color: COLORS.orange, line: { color: '#222', width: 1 } },
      text: list.map((x) => `slingshot: ${x.ratio.toExponential(1)}× its running minimum (${x.start.toLocaleString('en-US')}–${x.end === null ? 'now' : x.end.toLocaleString('en-US')}). Rule: ${SLINGSHOT_RULE}`),
      hovertemplate: '%{text}<extra></extra>',
    },
  ];
}

export function lossSpec(s: AppState): PlotSpec {
  const h = s.history;
  const epoch = h.column('epoch');
  const K = formatK(s.keyFreqs?.active);
  const progress = remeasuring(s);
  const shots = slingshots(s).length;
  return {
    data: [
      line(epoch, h.column('trainLoss'), 'train', COLORS.blue),
      line(epoch, h.column('testLoss'), 'test', COLORS.vermillion),
      kLine(s, 'restrictedLoss', 'restricted (test)', COLORS.green, 'dash'),
      kLine(s, 'excludedLoss', 'excluded (train)', COLORS.purple, 'dot'),
      ...slingshotTrace(s),
    ],
    layout: {
      // The train and test curves are the loss the run optimizes (README "Beyond the paper").
      title: title(`${s.applied?.loss === 'stablemax' ? 'StableMax loss' : 'Loss'} · restricted & excluded with K = {${K}}${shots > 0 ? ` · ${shots} slingshot${shots > 1 ? 's' : ''}` : ''}${progress ? ` · re-measuring: ${progress.done} of ${progress.total} snapshots` : ''}`),
      xaxis: X_AXIS,
      yaxis: { type: 'log', title: { text: 'cross-entropy' }, exponentformat: 'power' },
      ...epochDecorations(s),
      datarevision: s.historyVersion,
    },
  };
}

export function accuracySpec(s: AppState): PlotSpec {
  const h = s.history;
  const epoch = h.column('epoch');
  const pct = (c: ArrayLike<number>) => Array.from(c, (v) => 100 * v);
  return {
    data: [
      line(epoch, pct(h.column('trainAcc')), 'train', COLORS.blue, undefined, '%'),
      line(epoch, pct(h.column('testAcc')), 'test', COLORS.vermillion, undefined, '%'),
      kLine(s, 'restrictedAcc', 'restricted (test)', COLORS.green, 'dash', 100, '%'),
    ],
    layout: {
      title: title('Accuracy'),
      xaxis: X_AXIS,
      yaxis: { range: [0, 102], title: { text: '%' }, ticksuffix: '%' },
      ...epochDecorations(s),
      datarevision: s.historyVersion,
    },
  };
}

export function giniSpec(s: AppState): PlotSpec {
  const h = s.history;
  const epoch = h.column('epoch');
  return {
    data: [line(epoch, h.column('giniWE'), 'Gini of W_E', COLORS.sky, 'dash'), line(epoch, h.column('giniWL'), 'Gini of W_L', COLORS.blue)],
    layout: {
      title: title('Gini of the Fourier norms (sparsity)'),
      xaxis: X_AXIS,
      yaxis: { range: [0, 1], title: { text: 'Gini' } },
      ...epochDecorations(s),
      datarevision: s.historyVersion,
    },
  };
}

export function weightNormSpec(s: AppState): PlotSpec {
  const h = s.history;
  const epoch = h.column('epoch');
  return {
    data: [line(epoch, h.column('sumSquaredWeights'), 'Σ θ²', COLORS.orange)],
    layout: {
      title: title('Sum of squared weights'),
      xaxis: X_AXIS,
      yaxis: { title: { text: 'Σ θ²' }, rangemode: 'tozero' },
      showlegend: false,
      ...epochDecorations(s),
      datarevision: s.historyVersion,
    },
  };
}

export function neuronCountSpec(s: AppState): PlotSpec {
  // Measured by heavy passes only: NaN at the other checkpoints.
  const { x, y } = curvePoints(s, 'neuronsWellExplained');
  const dMlp = s.applied?.dMlp ?? 0;
  return {
    data: [{ ...line(x, y, 'neurons explained by one frequency', COLORS.green), mode: 'lines+markers', marker: { size: 4 } }],
    layout: {
      title: title('Neurons explained by one frequency (FVE > 0.85)'),
      xaxis: X_AXIS,
      yaxis: { range: [0, Math.max(dMlp, 1)], title: { text: `of ${dMlp}` } },
      showlegend: false,
      ...epochDecorations(s),
      datarevision: s.historyVersion,
    },
  };
}

export function Chart({ spec, testId, label, tall }: { spec: (s: AppState) => PlotSpec; testId: string; label: string; tall?: boolean }) {
  const compared = useCompareStore((c) => c.version);
  const ref = useLivePlot(spec, watchCurves, undefined, compared);
  return <div ref={ref} className={tall ? 'chart tall' : 'chart'} data-testid={testId} role="img" aria-label={label} />;
}

// Compared runs and branches drawn over them (issue #13).
const lossChart = orWaiting(withOverlay(lossSpec, 'loss'));
const accuracyChart = orWaiting(withOverlay(accuracySpec, 'acc'));
const giniChart = orWaiting(giniSpec);
const weightNormChart = orWaiting(weightNormSpec);

export const LossChart = () => <Chart spec={lossChart} testId="loss-chart" label="Train, test, restricted and excluded loss over epochs, log scale, with the phases shaded" tall />;
export const AccuracyChart = () => <Chart spec={accuracyChart} testId="accuracy-chart" label="Train, test and restricted accuracy over epochs" />;
export const GiniChart = () => <Chart spec={giniChart} testId="gini-chart" label="Gini coefficient of the Fourier norms of W_E and W_L over epochs" />;
export const WeightNormChart = () => <Chart spec={weightNormChart} testId="weight-norm-chart" label="Sum of squared weights over epochs" />;
export const NeuronCountChart = () => <Chart spec={neuronCountSpec} testId="neuron-count-chart" label="Number of MLP neurons explained by one frequency over epochs" />;
