/** Train and test loss (log scale) and accuracy over epochs, drawn live (paper Fig. 2). */
import type * as PlotlyTypes from 'plotly.js';
import type { AppState } from '../../store/store.ts';
import { COLORS } from './plotly.ts';
import { useLivePlot, type PlotSpec } from './useLivePlot.ts';

const line = (x: Float64Array, y: ArrayLike<number>, name: string, color: string, dash?: PlotlyTypes.Dash): Partial<PlotlyTypes.PlotData> => ({
  x: x as unknown as number[],
  y: y as unknown as number[],
  name,
  type: 'scatter',
  // A lone point (epoch 0) would be invisible as a line.
  mode: x.length < 2 ? 'markers' : 'lines',
  line: { color, width: 2, dash },
});

const X_AXIS: Partial<PlotlyTypes.LayoutAxis> = { title: { text: 'epoch' }, zeroline: false, rangemode: 'tozero' };

export function lossSpec(s: AppState): PlotSpec {
  const h = s.history;
  const epoch = h.column('epoch');
  return {
    data: [line(epoch, h.column('trainLoss'), 'train loss', COLORS.blue), line(epoch, h.column('testLoss'), 'test loss', COLORS.vermillion)],
    layout: {
      title: { text: 'Loss', x: 0, xanchor: 'left', font: { size: 14 } },
      xaxis: X_AXIS,
      yaxis: { type: 'log', title: { text: 'cross-entropy' }, exponentformat: 'power' },
      datarevision: s.historyVersion,
    },
  };
}

export function accuracySpec(s: AppState): PlotSpec {
  const h = s.history;
  const epoch = h.column('epoch');
  const pct = (c: Float64Array) => Array.from(c, (v) => 100 * v);
  return {
    data: [
      line(epoch, pct(h.column('trainAcc')), 'train accuracy', COLORS.blue),
      line(epoch, pct(h.column('testAcc')), 'test accuracy', COLORS.vermillion),
    ],
    layout: {
      title: { text: 'Accuracy', x: 0, xanchor: 'left', font: { size: 14 } },
      xaxis: X_AXIS,
      yaxis: { range: [0, 101], title: { text: '%' }, ticksuffix: '%' },
      datarevision: s.historyVersion,
    },
  };
}

export function LossChart() {
  const ref = useLivePlot(lossSpec);
  return <div ref={ref} className="chart" data-testid="loss-chart" role="img" aria-label="Train and test loss over epochs, log scale" />;
}

export function AccuracyChart() {
  const ref = useLivePlot(accuracySpec);
  return <div ref={ref} className="chart" data-testid="accuracy-chart" role="img" aria-label="Train and test accuracy over epochs" />;
}
