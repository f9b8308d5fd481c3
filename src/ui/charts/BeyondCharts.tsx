/**
 * Measures from after the paper (README "Beyond the paper"), drawn live beside its own: softmax
 * collapse (Prieto et al. 2025, SC: the share of training pairs whose float32 loss is exactly 0),
 * the run's path in the plane of weight norm and test accuracy (Omnigrok, Liu et al. 2023, Fig. 1),
 * and the clock/pizza measures (Zhong et al. 2023).
 */
import type { AppState } from '../../store/store.ts';
import { CLOCK_PIZZA_REFERENCE } from '../../run/clock-pizza.ts';
import { curvePoints } from '../../store/view.ts';
import { COLORS } from '../plot/plotly.ts';
import type { PlotSpec } from '../plot/useLivePlot.ts';
import { Chart, X_AXIS, epochDecorations, line, orWaiting, title } from './ProgressCharts.tsx';

export function softmaxCollapseSpec(s: AppState): PlotSpec {
  const h = s.history;
  const sc = Array.from(h.column('softmaxCollapse'), (v) => v * 100);
  const loss = s.applied?.loss === 'stablemax' ? 'StableMax' : 'softmax';
  return {
    data: [line(h.column('epoch'), sc, 'softmax collapse', COLORS.purple, undefined, '%')],
    layout: {
      // Half a row wide: the definition is in the guide's line above and the chart's label.
      title: title(`Softmax collapse (${loss})`),
      xaxis: X_AXIS,
      yaxis: { range: [0, 102], title: { text: 'of training pairs' }, ticksuffix: '%' },
      showlegend: false,
      ...epochDecorations(s),
      datarevision: s.historyVersion,
    },
  };
}

/** ‖θ‖₂ = √Σθ² against test accuracy, one point a checkpoint, the viewed one marked. */
export function normAccuracySpec(s: AppState): PlotSpec {
  const h = s.history;
  const norm = Array.from(h.column('sumSquaredWeights'), Math.sqrt);
  const acc = Array.from(h.column('testAcc'), (v) => v * 100);
  const epochs = h.column('epoch');
  const at = Math.max(0, epochs.findLastIndex((e) => e <= (s.viewEpoch ?? Infinity)));
  const constrained = s.applied && s.applied.weightNorm > 0 ? ` · ‖θ‖ held at ${s.applied.weightNorm}` : '';
  return {
    data: [
      {
        ...line(norm, acc, 'test accuracy', COLORS.vermillion, undefined, '%'),
        mode: 'lines+markers',
        marker: { size: 4, color: Array.from(epochs), colorscale: 'Viridis', showscale: false },
        text: Array.from(epochs, (e) => `epoch ${e.toLocaleString('en-US')}`),
        hovertemplate: '‖θ‖ %{x:.3g}, test %{y:.1f}%<br>%{text}<extra></extra>',
      },
      { x: [norm[at]], y: [acc[at]], type: 'scatter', mode: 'markers', marker: { size: 10, color: COLORS.vermillion, symbol: 'circle-open' }, hoverinfo: 'skip', name: 'viewed' },
    ],
    layout: {
      title: title(`Norm vs test accuracy (Omnigrok)${constrained}`),
      xaxis: { title: { text: '‖θ‖₂ (dark: early, light: late)' } },
      yaxis: { range: [0, 102], title: { text: 'test accuracy' }, ticksuffix: '%' },
      showlegend: false,
      datarevision: s.historyVersion,
    },
  };
}

/**
 * Zhong et al.'s two measures over training (heavy-pass checkpoints only), with their clock and
 * pizza models' values as dotted lines (run/clock-pizza.ts).
 */
export function clockPizzaSpec(s: AppState): PlotSpec {
  // Measured at heavy-pass checkpoints only: NaN in between (curvePoints keeps the finite points).
  const di = curvePoints(s, 'distanceIrrelevance');
  const gs = curvePoints(s, 'gradientSymmetricity');
  const ref = CLOCK_PIZZA_REFERENCE;
  const level = (y: number, color: string, text: string) => ({
    shape: { type: 'line' as const, xref: 'paper' as const, yref: 'y' as const, x0: 0, x1: 1, y0: y, y1: y, line: { color, width: 1, dash: 'dot' as const } },
    note: { xref: 'paper' as const, yref: 'y' as const, x: 1, y, text, showarrow: false, xanchor: 'right' as const, yanchor: 'bottom' as const, font: { size: 10, color } },
  });
  const levels = [
    level(ref.clock.distanceIrrelevance, COLORS.blue, `clock q ${ref.clock.distanceIrrelevance}`),
    level(ref.pizza.distanceIrrelevance, COLORS.blue, `pizza q ${ref.pizza.distanceIrrelevance}`),
    level(ref.clock.gradientSymmetricity, COLORS.orange, `clock s ${ref.clock.gradientSymmetricity}`),
    level(ref.pizza.gradientSymmetricity, COLORS.orange, `pizza s ${ref.pizza.gradientSymmetricity}`),
  ];
  const decorations = epochDecorations(s);
  return {
    data: [
      { ...line(di.x, di.y, 'distance irrelevance q', COLORS.blue), mode: 'lines+markers', marker: { size: 4 } },
      { ...line(gs.x, gs.y, 'gradient symmetricity s', COLORS.orange, 'dash'), mode: 'lines+markers', marker: { size: 4 } },
    ],
    layout: {
      title: title('Clock or pizza (Zhong et al.)'),
      xaxis: X_AXIS,
      yaxis: { range: [-0.05, 1.05], title: { text: 'q (solid), s (dashed)' } },
      showlegend: false,
      ...decorations,
      shapes: [...(decorations.shapes ?? []), ...levels.map((l) => l.shape)],
      annotations: [...(decorations.annotations ?? []), ...levels.map((l) => l.note)],
      datarevision: s.historyVersion,
    },
  };
}

const softmaxCollapseChart = orWaiting(softmaxCollapseSpec);
const clockPizzaChart = orWaiting(clockPizzaSpec);

export const ClockPizzaChart = () => (
  <Chart
    spec={clockPizzaChart}
    testId="clock-pizza-chart"
    label="Distance irrelevance and gradient symmetricity over epochs, with the clock and pizza models' values (Zhong et al. 2023)"
  />
);
const normAccuracyChart = orWaiting(normAccuracySpec);

export const NormAccuracyChart = () => (
  <Chart spec={normAccuracyChart} testId="norm-accuracy-chart" label="Weight norm against test accuracy, one point per checkpoint (Omnigrok)" />
);

export const SoftmaxCollapseChart = () => (
  <Chart spec={softmaxCollapseChart} testId="softmax-collapse-chart" label="Share of training pairs whose float32 loss is exactly 0 (softmax collapse) over epochs" />
);
