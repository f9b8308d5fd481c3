/**
 * Measures from after the paper (README "Beyond the paper"), drawn live beside its own: softmax
 * collapse (Prieto et al. 2025, SC: the share of training pairs whose float32 loss is exactly 0).
 */
import type { AppState } from '../../store/store.ts';
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
      title: title(`Softmax collapse (${loss}): training pairs whose float32 loss is exactly 0`),
      xaxis: X_AXIS,
      yaxis: { range: [0, 102], title: { text: '%' }, ticksuffix: '%' },
      showlegend: false,
      ...epochDecorations(s),
      datarevision: s.historyVersion,
    },
  };
}

const softmaxCollapseChart = orWaiting(softmaxCollapseSpec);

export const SoftmaxCollapseChart = () => (
  <Chart spec={softmaxCollapseChart} testId="softmax-collapse-chart" label="Share of training pairs whose float32 loss is exactly 0 (softmax collapse) over epochs" />
);
