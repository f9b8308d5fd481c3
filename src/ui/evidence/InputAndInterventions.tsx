/**
 * "What does the model do on this input?" and "what if I knock this out?": the correctness map
 * (click a cell, or type a and b), the input's logits, attention and top neurons; interventions
 * on the viewed checkpoint (frequencies in W_E, W_L or the logits, a neuron cluster, a head; zero
 * or mean) with loss and accuracy before → after. Both live in the URL (`pair`, `ablate`).
 */
import { maxOf } from '../../run/extent.ts';
import { useState } from 'react';
import { ABLATION_LABELS, ABLATION_TARGETS, describeAblations, formatAblations, parseAblations, type AblationMode, type AblationTarget } from '../../config/ablations.ts';
import { formatPercent, formatValue } from '../../run/format.ts';
import type { EvidenceResult } from '../../run/evidence.ts';
import { useEvidenceStore } from '../../store/evidence.ts';
import { useAppStore } from '../../store/store.ts';
import { CorrectnessMap, InputLogits } from './EvidenceCharts.tsx';

function PairPicker({ p }: { p: number }) {
  const pair = useEvidenceStore((s) => s.pair);
  const setPair = useEvidenceStore((s) => s.setPair);
  const a = pair === null ? '' : String(Math.floor(pair / p));
  const b = pair === null ? '' : String(pair % p);
  const set = (na: string, nb: string) => {
    const x = Number(na);
    const y = Number(nb);
    if (/^\d+$/.test(na) && /^\d+$/.test(nb) && x < p && y < p) setPair(x * p + y);
  };
  return (
    <div className="pair-picker">
      <label>
        a <input type="number" min={0} max={p - 1} value={a} aria-label="a" data-testid="pair-a" onChange={(e) => set(e.target.value, b || '0')} />
      </label>
      <label>
        b <input type="number" min={0} max={p - 1} value={b} aria-label="b" data-testid="pair-b" onChange={(e) => set(a || '0', e.target.value)} />
      </label>
      {pair !== null && <span className="muted">label (a + b) = {useAppStore.getState().applied?.task === 'add' ? (Math.floor(pair / p) + (pair % p)) % p : 'see the task'}</span>}
    </div>
  );
}

function InputDetails({ r }: { r: EvidenceResult }) {
  const pr = r.probe;
  if (!pr) return <p className="muted">Click a cell of the map, or type a and b, to look at one input.</p>;
  const argmax = (l: Float32Array) => l.indexOf(maxOf(l));
  const top = Array.from(pr.contributions, (v, n) => ({ n, v }))
    .sort((x, y) => Math.abs(y.v) - Math.abs(x.v))
    .slice(0, 8);
  return (
    <div className="input-details" data-testid="input-details">
      <p>
        Input ({pr.a}, {pr.b}): label {pr.label}, the model says <strong data-testid="input-argmax">{argmax(pr.logits)}</strong>
        {r.probeAfter && <> and after the intervention {argmax(r.probeAfter.logits)}</>}.
      </p>
      <div className="grid-2">
        <table className="evidence-table">
          <caption>Attention from '=' per head</caption>
          <thead>
            <tr>
              <th scope="col">head</th>
              <th scope="col">to a</th>
              <th scope="col">to b</th>
              <th scope="col">to '='</th>
            </tr>
          </thead>
          <tbody>
            {Array.from({ length: r.heads }, (_, h) => (
              <tr key={h}>
                <th scope="row">
                  {h} (k = {r.attentionHeads[h]?.freq})
                </th>
                {[0, 1, 2].map((i) => (
                  <td key={i} className="num">
                    {pr.attention[3 * h + i].toFixed(3)}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
        <table className="evidence-table">
          <caption>Neurons that push the right answer most (activation × centred W_L weight to c = {pr.label})</caption>
          <thead>
            <tr>
              <th scope="col">neuron</th>
              <th scope="col">frequency</th>
              <th scope="col">contribution</th>
            </tr>
          </thead>
          <tbody>
            {top.map(({ n, v }) => (
              <tr key={n}>
                <th scope="row">{n}</th>
                <td className="num">{r.neuronFreq[n]}</td>
                <td className="num">{formatValue(v)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}

function AblationEditor({ p, heads }: { p: number; heads: number }) {
  const ablations = useEvidenceStore((s) => s.ablations);
  const setAblations = useEvidenceStore((s) => s.setAblations);
  const answer = useEvidenceStore((s) => s.answer);
  const [target, setTarget] = useState<AblationTarget>('we');
  const [index, setIndex] = useState('');
  const [mode, setMode] = useState<AblationMode>('zero');
  const [problem, setProblem] = useState<string | null>(null);
  const add = () => {
    const parsed = parseAblations(`${formatAblations(ablations)}${ablations.length ? ',' : ''}${target}:${index.trim()}:${mode}`, p, heads);
    if ('error' in parsed) setProblem(parsed.error);
    else {
      setProblem(null);
      setAblations(parsed.ablations);
    }
  };
  const suggestions = target === 'head' ? Array.from({ length: heads }, (_, h) => h) : (answer?.keyFreqs ?? []);
  return (
    <div className="ablation-editor">
      <div className="row">
        <select value={target} onChange={(e) => setTarget(e.target.value as AblationTarget)} aria-label="what to ablate" data-testid="ablate-target">
          {ABLATION_TARGETS.map((t) => (
            <option key={t} value={t}>
              {ABLATION_LABELS[t]}
            </option>
          ))}
        </select>
        <input list="ablate-suggestions" value={index} onChange={(e) => setIndex(e.target.value)} placeholder={target === 'head' ? 'head' : 'k'} aria-label="frequency or head" data-testid="ablate-index" size={4} />
        <datalist id="ablate-suggestions">
          {suggestions.map((s) => (
            <option key={s} value={s} />
          ))}
        </datalist>
        <select value={mode} onChange={(e) => setMode(e.target.value as AblationMode)} aria-label="zero or mean" data-testid="ablate-mode">
          <option value="zero">zero</option>
          <option value="mean">mean</option>
        </select>
        <button type="button" onClick={add} data-testid="ablate-add">
          Ablate
        </button>
        {ablations.length > 0 && (
          <button type="button" onClick={() => setAblations([])} data-testid="ablate-clear">
            Clear
          </button>
        )}
      </div>
      {problem && <p className="error">{problem}</p>}
      <p className="muted" data-testid="ablate-list">
        Intervention: {describeAblations(ablations)}
        {ablations.length > 0 && <code> ?ablate={formatAblations(ablations)}</code>}
      </p>
    </div>
  );
}

function BeforeAfter({ r }: { r: EvidenceResult }) {
  if (r.interventionError) return <p className="error">{r.interventionError}</p>;
  const rows: [string, (o: EvidenceResult['before']) => number, (x: number) => string][] = [
    ['train loss', (o) => o.trainLoss, formatValue],
    ['test loss', (o) => o.testLoss, formatValue],
    ['train accuracy', (o) => o.trainAcc, formatPercent],
    ['test accuracy', (o) => o.testAcc, formatPercent],
  ];
  return (
    <table className="evidence-table" data-testid="before-after">
      <caption>Epoch {r.epoch.toLocaleString('en-US')}: before → after</caption>
      <tbody>
        {rows.map(([name, get, fmt]) => (
          <tr key={name}>
            <th scope="row">{name}</th>
            <td className="num" data-testid={`before-${name.replace(' ', '-')}`}>
              {fmt(get(r.before))}
            </td>
            <td className="num" data-testid={`after-${name.replace(' ', '-')}`}>
              {r.after ? `→ ${fmt(get(r.after))}` : ''}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function InputAndInterventions() {
  const r = useEvidenceStore((s) => s.answer);
  const cfg = useAppStore((s) => s.applied);
  if (!cfg) return <p className="muted">Waiting for the run…</p>;
  return (
    <div className="input-interventions" data-testid="input-interventions">
      <AblationEditor p={cfg.p} heads={cfg.nHeads} />
      {r && <BeforeAfter r={r} />}
      <div className="grid-2">
        <div>
          <PairPicker p={cfg.p} />
          <CorrectnessMap />
        </div>
        <div>{r && <InputDetails r={r} />}</div>
      </div>
      <InputLogits />
    </div>
  );
}
