/**
 * Many runs at once (issue #13): a sweep — the configuration in Settings plus one or two varied
 * keys (`sweep=` in a link, a preset of the paper's sweeps, or typed) — trained batched in its own
 * worker, with progress for the whole sweep, the small multiples and the phase diagram.
 */
import { maxOf } from '../../run/extent.ts';
import { useEffect, useState } from 'react';
import { commands } from '../../client/client.ts';
import { startSweep, stopSweep } from '../../client/sweep/sweep.ts';
import { FIELDS } from '../../config/schema.ts';
import { SWEEP_PRESETS, decodeSweep, defaultSweepEpochs, isSweepPresetName } from '../../config/sweep.ts';
import { formatDuration, formatInt } from '../../run/format.ts';
import { useAppStore } from '../../store/store.ts';
import { useSweepStore } from '../../store/sweep.ts';
import { PhaseDiagram } from './PhaseDiagram.tsx';
import { SweepCurves } from './SweepCurves.tsx';
import { SweepTables } from './SweepTables.tsx';

export function SweepSection() {
  const text = useSweepStore((s) => s.text);
  const status = useSweepStore((s) => s.status);
  const message = useSweepStore((s) => s.message);
  const done = useSweepStore((s) => s.done);
  const total = useSweepStore((s) => s.total);
  const eta = useSweepStore((s) => s.etaSeconds);
  const batches = useSweepStore((s) => s.batches);
  const backend = useSweepStore((s) => s.backend);
  const nRuns = useSweepStore((s) => s.runs.length);
  const startedAt = useSweepStore((s) => s.startedAt);
  const draft = useAppStore((s) => s.draft);
  const [epochs, setEpochs] = useState(() => String(defaultSweepEpochs(draft)));
  const [every, setEvery] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const decoded = text.trim() ? decodeSweep(text) : null;
  const runsWanted = decoded?.spec ? decoded.spec.axes.reduce((n, a) => n * a.values.length, 1) : 0;
  const running = status === 'running';
  const everyValue = every.trim() === '' ? Math.max(1, Math.round(Number(epochs) / 100)) : Number(every);

  // A sweep= link brings the sweep into view (it sits at the end of the page).
  useEffect(() => {
    if (new URLSearchParams(window.location.search).has('sweep') && !window.location.hash) document.getElementById('sweep')?.scrollIntoView({ block: 'start' });
  }, []);

  const choosePreset = (name: string) => {
    if (!isSweepPresetName(name)) return;
    const p = SWEEP_PRESETS[name];
    commands.choosePreset(p.preset);
    useSweepStore.getState().setText(p.sweep);
    setEpochs(String(defaultSweepEpochs(useAppStore.getState().draft)));
  };
  const train = () => {
    if (!decoded?.spec) return;
    setProblem(startSweep(decoded.spec, { ...useAppStore.getState().draft }, Number(epochs), everyValue));
  };
  const seconds = (Date.now() - startedAt) / 1000;
  const rate = running && seconds > 0 ? done / seconds : 0;

  return (
    <div className="sweep" data-testid="sweep">
      <p className="explain">
        The paper's claims rest on many runs: five seeds (Figs. 15–19), a data-fraction sweep (Fig. 21), several weight decays (App. D). A sweep trains the
        configuration in Settings with one or two keys varied; runs of one shape train <em>batched</em> (one update of all of them is one set of kernels), in a
        worker of their own, so the run above is left as it is. Click a curve or a cell to open that run with every view on this page.
      </p>
      <div className="sweep-form">
        <label>
          Paper's sweeps{' '}
          <select value="" onChange={(e) => choosePreset(e.target.value)} data-testid="sweep-preset" disabled={running}>
            <option value="">choose…</option>
            {Object.entries(SWEEP_PRESETS).map(([name, p]) => (
              <option key={name} value={name}>
                {p.label}
              </option>
            ))}
          </select>
        </label>
        <label>
          vary{' '}
          <input value={text} onChange={(e) => useSweepStore.getState().setText(e.target.value)} placeholder="wd:0,0.3,1;seed:0-2" size={24} spellCheck={false} data-testid="sweep-text" disabled={running} />
        </label>
        <label>
          epochs <input value={epochs} onChange={(e) => setEpochs(e.target.value)} size={6} inputMode="numeric" data-testid="sweep-epochs" disabled={running} />
        </label>
        <label>
          every <input value={every} onChange={(e) => setEvery(e.target.value)} size={4} placeholder={String(everyValue)} inputMode="numeric" data-testid="sweep-every" disabled={running} />
        </label>
        {running ? (
          <button type="button" onClick={stopSweep} data-testid="sweep-stop">
            Stop sweep
          </button>
        ) : (
          <button type="button" className="primary" onClick={train} disabled={!decoded?.spec} data-testid="sweep-train">
            Train sweep{runsWanted > 0 ? ` (${runsWanted} runs)` : ''}
          </button>
        )}
      </div>
      <p className="muted small">
        Keys are the URL's (e.g. wd, lr, seed, frac, p, mlp); values with commas, whole numbers also as a range
        (seed:0-4); two keys with ';'. The varied keys replace these of the base (Settings): P = {draft.p}, d_model = {draft.dModel}, d_mlp = {draft.dMlp}, {FIELDS.weightDecay.key} = {draft.weightDecay}, {FIELDS.frac.key} ={' '}
        {draft.frac}.
      </p>
      {decoded && decoded.issues.length > 0 && (
        <p className="sweep-problem" role="alert" data-testid="sweep-problem">
          {decoded.issues.map((i) => i.message).join('; ')}
        </p>
      )}
      {problem && (
        <p className="sweep-problem" role="alert" data-testid="sweep-problem">
          {problem}
        </p>
      )}
      {status !== 'idle' && (
        <div className="sweep-progress" data-testid="sweep-progress">
          <div className="progress" role="progressbar" aria-valuemin={0} aria-valuemax={total} aria-valuenow={done} aria-label="Sweep progress in runs × epochs">
            <div className="progress-fill" style={{ width: `${total > 0 ? ((100 * done) / total).toFixed(2) : 0}%` }} />
          </div>
          <span>
            {nRuns} runs × {formatInt(total / Math.max(nRuns, 1))} epochs: {formatInt(done)} of {formatInt(total)} model·epochs
            {rate > 0 && ` · ${formatInt(rate)} model·epochs/s`}
            {running && eta !== null && ` · about ${formatDuration(eta)} left`}
            {backend && ` · ${backend}, ${batches.length} batch${batches.length === 1 ? '' : 'es'} of ≤ ${maxOf(batches.map((b) => b.length), 0)}`}
          </span>
          {message && <span className={status === 'error' ? 'sweep-problem' : 'muted'} data-testid="sweep-message"> {message}</span>}
        </div>
      )}
      <div className="sweep-views">
        <SweepCurves />
        <PhaseDiagram />
      </div>
      <SweepTables />
    </div>
  );
}
