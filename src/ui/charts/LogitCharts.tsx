/**
 * The logits' mechanism over time: the coefficients of cos(w_k(a+b−c)) for the key frequencies
 * over training (Fig. 14), and how the key-frequency cosines interfere constructively at
 * c = a + b (Fig. 8), drawn from the run's own K.
 */
import { useId, useState } from 'react';
import { type AppState, useAppStore } from '../../store/store.ts';
import { formatK } from '../../store/view.ts';
import { X_AXIS, epochDecorations, line, watchCurves } from './ProgressCharts.tsx';
import { endLabel, freqStyle } from './series.ts';
import { useLivePlot, type PlotSpec, type Watch } from '../plot/useLivePlot.ts';

export function coefficientsSpec(s: AppState): PlotSpec | null {
  const h = s.history;
  const K = s.keyFreqs?.active ?? [];
  if (h.width('cosCoefficients') === 0) return null;
  const epoch = h.column('epoch');
  const columns = K.map((k) => h.matrixColumn('cosCoefficients', k - 1));
  const decorations = epochDecorations(s);
  // Each frequency keeps its colour and dash whatever K is, and is named at its line's end.
  const labels = K.map((k, i) => endLabel(epoch, columns[i], `k ${k}`, freqStyle(k).color)).filter((a) => a !== null);
  return {
    data: K.map((k, i) => line(epoch, columns[i], `k = ${k}`, freqStyle(k).color, freqStyle(k).dash)),
    layout: {
      title: { text: `Coefficient of cos(w_k(a+b−c)) in the logits, K = {${formatK(K)}}`, x: 0, xanchor: 'left', font: { size: 13 } },
      xaxis: X_AXIS,
      yaxis: { title: { text: 'coefficient' } },
      margin: { l: 56, r: 44, t: 36, b: 44 },
      ...decorations,
      annotations: [...(decorations.annotations ?? []), ...labels],
      datarevision: s.historyVersion,
    },
  };
}

export function interferenceSpec(a: number, b: number) {
  return (s: AppState): PlotSpec | null => {
    const p = s.applied?.p ?? s.draft.p;
    const K = s.keyFreqs?.active ?? [];
    const cs = Array.from({ length: p }, (_, c) => c);
    const wave = (k: number) => cs.map((c) => Math.cos((2 * Math.PI * k * (a + b - c)) / p));
    const total = cs.map((c) => K.reduce((sum, k) => sum + Math.cos((2 * Math.PI * k * (a + b - c)) / p), 0));
    const answer = (a + b) % p;
    return {
      data: [
        ...K.map((k) => ({ ...line(cs, wave(k), `cos(w_${k}(a+b−c))`, freqStyle(k).color), line: { ...freqStyle(k), width: 1.2 } })),
        { ...line(cs, total, 'sum over K', '#000000'), line: { color: '#000000', width: 3 } },
      ],
      layout: {
        title: { text: `Constructive interference: for a = ${a}, b = ${b} the cosines of K all peak at c = ${answer}`, x: 0, xanchor: 'left', font: { size: 13 } },
        xaxis: { title: { text: 'output c' }, range: [0, p - 1] },
        yaxis: { title: { text: 'contribution to logit c' } },
        shapes: [{ type: 'line', x0: answer, x1: answer, y0: 0, y1: 1, yref: 'paper', line: { color: '#555', dash: 'dot', width: 1 } }],
        annotations: K.map((k) => endLabel(cs, wave(k), `k ${k}`, freqStyle(k).color)).filter((a) => a !== null),
        margin: { l: 56, r: 44, t: 36, b: 44 },
        hovermode: 'x unified',
      },
    };
  };
}

const watchK: Watch = (s) => [s.keyFreqs?.version, s.applied?.p];

export function CoefficientsChart() {
  const ref = useLivePlot(coefficientsSpec, watchCurves);
  return <div ref={ref} className="chart" data-testid="cos-coefficients" role="img" aria-label="Coefficients of cos(w_k(a+b−c)) for the key frequencies over training" />;
}

export function InterferenceChart() {
  const p = useAppStore((s) => s.applied?.p ?? s.draft.p);
  const [a, setA] = useState(5);
  const [b, setB] = useState(11);
  const safeA = Math.min(a, p - 1);
  const safeB = Math.min(b, p - 1);
  const spec = interferenceSpec(safeA, safeB);
  const ref = useLivePlot(spec, watchK, undefined, `${safeA},${safeB}`);
  const idA = useId();
  const idB = useId();
  return (
    <div>
      <div className="inline-fields">
        <label htmlFor={idA}>a</label>
        <input id={idA} type="number" min={0} max={p - 1} value={safeA} onChange={(e) => setA(clampInt(e.target.value, p))} data-testid="interference-a" />
        <label htmlFor={idB}>b</label>
        <input id={idB} type="number" min={0} max={p - 1} value={safeB} onChange={(e) => setB(clampInt(e.target.value, p))} data-testid="interference-b" />
      </div>
      <div ref={ref} className="chart" data-testid="interference" role="img" aria-label="Cosines of the key frequencies over the output c, and their sum, peaking at c = a + b" />
    </div>
  );
}

function clampInt(raw: string, p: number): number {
  const v = Math.round(Number(raw));
  return Number.isFinite(v) ? Math.max(0, Math.min(p - 1, v)) : 0;
}
