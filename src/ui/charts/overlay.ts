/**
 * The compared runs drawn over the run on show's training curves: test solid and train dotted in
 * the run's own colour, named by the settings in which it differs (src/store/compare.ts).
 */
import type * as PlotlyTypes from 'plotly.js';
import type { AppState } from '../../store/store.ts';
import { differingSettings, useCompareStore } from '../../store/compare.ts';
import { plotText } from '../plot/text.ts';
import type { PlotSpec } from '../plot/useLivePlot.ts';

type Trace = Partial<PlotlyTypes.PlotData>;

/** The legend names of the compared runs: what sets each apart from the others and the run on show. */
export function compareLabels(s: AppState): string[] {
  const runs = useCompareStore.getState().runs;
  if (runs.length === 0) return [];
  const current = s.applied ?? s.draft;
  return differingSettings([current, ...runs.map((r) => r.config)]).slice(1);
}

function traces(s: AppState, quantity: 'loss' | 'acc'): Trace[] {
  const runs = useCompareStore.getState().runs;
  const labels = compareLabels(s);
  const scale = quantity === 'acc' ? 100 : 1;
  return runs.flatMap((r, i) => {
    // The run on show is drawn already.
    if (r.key === s.currentRunKey) return [];
    const [train, test] = quantity === 'loss' ? [r.trainLoss, r.testLoss] : [r.trainAcc, r.testAcc];
    // A run's name is the person's text, from a file: drawn as text, never as markup (plotText).
    const name = plotText(labels[i] === 'same settings' ? r.name.slice(0, 40) : labels[i]);
    const base = { type: 'scatter' as const, mode: 'lines' as const, x: r.epoch, legendgroup: r.key, hovertemplate: `%{y:.4g}${quantity === 'acc' ? '%' : ''}<extra>${name}</extra>` };
    return [
      { ...base, y: test.map((v) => v * scale), name: `${name} · test`, line: { color: r.color, width: 1.6 } },
      { ...base, y: train.map((v) => v * scale), name: `${name} · train`, line: { color: r.color, width: 1.2, dash: 'dot' as const }, showlegend: false },
    ];
  });
}

/** A training-curve chart with the compared runs drawn over it. */
export function withOverlay(spec: (s: AppState) => PlotSpec, quantity: 'loss' | 'acc'): (s: AppState) => PlotSpec {
  return (s) => {
    const p = spec(s);
    if (p.data.length === 0 || useCompareStore.getState().runs.length === 0) return p;
    return { ...p, data: [...p.data, ...traces(s, quantity)], layout: { ...p.layout, datarevision: `${String(p.layout.datarevision)}-${useCompareStore.getState().version}` } };
  };
}
