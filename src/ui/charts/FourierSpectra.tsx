/**
 * Fig. 3: the norms of the embedding W_E and of the neuron-logit map W_L per Fourier frequency, at
 * the viewed epoch. Key frequencies are highlighted; clicking a bar pins or unpins that frequency in
 * K (every K-dependent curve is then re-measured), and the K editor does the same by keyboard.
 */
import type * as PlotlyTypes from 'plotly.js';
import { useEffect, useId, useState } from 'react';
import { KEY_FREQ_RULE } from '../../analysis/keyfreqs.ts';
import { commands } from '../../client/client.ts';
import { checkKeyFreqs, sameKeyFreqs } from '../../config/keyfreqs.ts';
import { useAppStore, type AppState } from '../../store/store.ts';
import { formatK, remeasuring, viewIndex } from '../../store/view.ts';
import { COLORS } from '../plot/plotly.ts';
import { useLivePlot, type PlotSpec, type Watch } from '../plot/useLivePlot.ts';

const watch: Watch = (s) => [s.historyVersion, s.viewEpoch, s.keyFreqs?.version, s.keyFreqs?.active];

function spectrumSpec(matrix: 'normsWE' | 'normsWL', label: string) {
  return (s: AppState): PlotSpec | null => {
    const i = viewIndex(s);
    if (i < 0 || s.history.width(matrix) === 0) return null;
    const row = s.history.row(matrix, i);
    const freqs = Array.from({ length: row.length - 1 }, (_, k) => k + 1);
    const K = new Set(s.keyFreqs?.active ?? []);
    const epoch = s.history.column('epoch')[i];
    return {
      data: [
        {
          type: 'bar',
          x: freqs,
          y: Array.from(row.subarray(1)),
          marker: { color: freqs.map((k) => (K.has(k) ? COLORS.vermillion : COLORS.blue)) },
          hovertemplate: 'frequency %{x}: norm %{y:.3g}<extra></extra>',
          name: label,
        },
      ],
      layout: {
        title: { text: `${label} by frequency · epoch ${epoch.toLocaleString('en-US')}`, x: 0, xanchor: 'left', font: { size: 14 } },
        xaxis: { title: { text: 'frequency k (w_k = 2πk/P)' }, dtick: freqs.length > 30 ? 5 : 1 },
        yaxis: { title: { text: 'norm' }, rangemode: 'tozero' },
        showlegend: false,
        bargap: 0.15,
      },
    };
  };
}

const specWE = spectrumSpec('normsWE', 'W_E (embedding)');
const specWL = spectrumSpec('normsWL', 'W_L (neurons → logits)');

/** Clicking frequency k adds it to, or removes it from, the pinned K. */
function toggleFrequency(e: PlotlyTypes.PlotMouseEvent): void {
  const k = Number(e.points[0]?.x);
  if (!Number.isInteger(k)) return;
  const active = useAppStore.getState().keyFreqs?.active ?? [];
  const next = active.includes(k) ? active.filter((x) => x !== k) : [...active, k];
  commands.setKeyFreqs(next.length > 0 ? next : null);
}

export function FourierSpectra() {
  const refWE = useLivePlot(specWE, watch, toggleFrequency);
  const refWL = useLivePlot(specWL, watch, toggleFrequency);
  return (
    <div className="spectra">
      <div ref={refWE} className="chart" data-testid="spectrum-we" role="img" aria-label="Norm of the embedding W_E per Fourier frequency; click a bar to pin it as a key frequency" />
      <div ref={refWL} className="chart" data-testid="spectrum-wl" role="img" aria-label="Norm of W_L per Fourier frequency; click a bar to pin it as a key frequency" />
      <KeyFreqsEditor />
    </div>
  );
}

export function KeyFreqsEditor() {
  const keyFreqs = useAppStore((s) => s.keyFreqs);
  const p = useAppStore((s) => s.applied?.p ?? s.draft.p);
  useAppStore((s) => s.historyVersion);
  useAppStore((s) => s.snapshotEpochs);
  const progress = remeasuring(useAppStore.getState());
  const [text, setText] = useState('');
  const [error, setError] = useState<string | null>(null);
  const id = useId();
  useEffect(() => {
    setText(keyFreqs?.active.join(', ') ?? '');
    setError(null);
  }, [keyFreqs?.version, keyFreqs?.active]);
  const apply = () => {
    const parts = text.split(/[\s,]+/).filter((x) => x.length > 0);
    const ks = parts.map((x) => (/^\d+$/.test(x) ? Number(x) : NaN));
    const problem = ks.some(Number.isNaN) ? 'use whole numbers separated by commas' : checkKeyFreqs(ks, p);
    if (problem) {
      setError(problem);
      return;
    }
    setError(null);
    commands.setKeyFreqs(ks);
  };
  return (
    <div className="k-editor" data-testid="k-editor">
      <div className="k-row">
        <label htmlFor={id}>key frequencies K</label>
        <input
          id={id}
          type="text"
          value={text}
          placeholder="e.g. 14, 35, 41"
          aria-invalid={error !== null}
          data-testid="k-input"
          onChange={(e) => setText(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter') apply();
          }}
        />
        <button type="button" onClick={apply} data-testid="k-apply">
          Pin
        </button>
        <button type="button" onClick={() => commands.setKeyFreqs(null)} disabled={!keyFreqs?.pinned} data-testid="k-rule">
          Use the rule
        </button>
      </div>
      {error && (
        <p className="field-error" role="alert">
          {error}
        </p>
      )}
      <p className="hint muted" data-testid="k-status">
        {keyFreqs?.pinned ? 'Pinned by hand' : 'Chosen by the rule'}: K = {'{'}
        {formatK(keyFreqs?.active)}
        {'}'}
        {/* Only a different set is news: the same frequencies in another order are the same K. */}
        {keyFreqs && !keyFreqs.pinned && keyFreqs.live.length > 0 && !sameKeyFreqs(keyFreqs.live, keyFreqs.active) ? ` (the rule now says {${formatK(keyFreqs.live)}}; curves switch once it holds for 3 checkpoints)` : ''}
        {progress ? ` · re-measuring the curves with this K: ${progress.done} of ${progress.total} snapshots done…` : ''}
      </p>
      <p className="hint muted">
        Rule: {KEY_FREQ_RULE}. Click a bar to pin or unpin a frequency.
      </p>
    </div>
  );
}
