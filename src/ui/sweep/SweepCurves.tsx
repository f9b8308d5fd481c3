/**
 * Small multiples of the sweep's training curves: in each panel the runs faint and their mean bold,
 * as the paper draws five seeds (Figs. 15–19, 22, 24). Plain SVG: dozens of small panels stay
 * cheap while the sweep trains. Click a faint curve to open that run.
 */
import { useState } from 'react';
import { maxOf, minOf } from '../../run/extent.ts';
import { openSweepRun } from '../../client/sweep/sweep.ts';
import type { SweepRow } from '../../run/sweep-protocol.ts';
import { useSweepStore } from '../../store/sweep.ts';
import { meanCurve, panels } from './sweep-views.ts';

const W = 230;
const H = 130;
const PAD = { l: 34, r: 6, t: 6, b: 18 };
const TRAIN = '#0072b2';
const TEST = '#d55e00';

type Quantity = 'loss' | 'acc';

/** Points a panel's curve draws at most (it is 230 px wide): a 40,000-row run is thinned to these, its last point kept. */
const MAX_POINTS = 2 * W;

function path(xs: number[], ys: number[], x: (v: number) => number, y: (v: number) => number): string {
  const step = Math.max(1, Math.ceil(xs.length / MAX_POINTS));
  const parts: string[] = [];
  for (let i = 0; i < xs.length; i += step) parts.push(`${parts.length === 0 ? 'M' : 'L'}${x(xs[i]).toFixed(1)},${y(ys[i]).toFixed(1)}`);
  if (xs.length > 1 && (xs.length - 1) % step !== 0) parts.push(`L${x(xs.at(-1)!).toFixed(1)},${y(ys.at(-1)!).toFixed(1)}`);
  return parts.join('');
}

function SmallPanel({ title, curves, indices, epochs, quantity, opened }: { title: string; curves: SweepRow[][]; indices: number[]; epochs: number; quantity: Quantity; opened: number | null }) {
  const log = quantity === 'loss';
  const keys = log ? (['trainLoss', 'testLoss'] as const) : (['trainAcc', 'testAcc'] as const);
  const all = curves.flatMap((c) => c.flatMap((r) => keys.map((k) => r[k]))).filter((v) => Number.isFinite(v) && (!log || v > 0));
  const [lo, hi] = log ? [Math.log10(Math.max(Math.min(minOf(all, 1), 1), 1e-8)), Math.log10(Math.max(maxOf(all, 1e-7), 1e-7)) + 0.1] : [0, 1];
  const x = (e: number) => PAD.l + ((W - PAD.l - PAD.r) * e) / Math.max(epochs, 1);
  const y = (v: number) => {
    const t = log ? (Math.log10(Math.max(v, 1e-30)) - lo) / (hi - lo || 1) : v;
    return H - PAD.b - (H - PAD.t - PAD.b) * Math.min(1, Math.max(0, t));
  };
  const ticks = log ? [Math.ceil(lo), Math.floor(hi)].filter((v, i, a) => a.indexOf(v) === i) : [0, 1];
  return (
    <figure className="sweep-panel" data-testid="sweep-panel">
      <figcaption>{title}</figcaption>
      <svg viewBox={`0 0 ${W} ${H}`} width={W} height={H} role="img" aria-label={`${title}: ${log ? 'train and test loss' : 'train and test accuracy'}`}>
        <line x1={PAD.l} y1={H - PAD.b} x2={W - PAD.r} y2={H - PAD.b} stroke="#aab" />
        {ticks.map((t) => (
          <text key={t} x={PAD.l - 3} y={y(log ? 10 ** t : t) + 3} textAnchor="end" fontSize="9" fill="#5f6b7a">
            {log ? `1e${t}` : `${t * 100}%`}
          </text>
        ))}
        <text x={W - PAD.r} y={H - 4} textAnchor="end" fontSize="9" fill="#5f6b7a">
          {epochs.toLocaleString('en-US')}
        </text>
        {curves.map((c, k) =>
          keys.map((key, j) => (
            <path
              key={`${indices[k]}-${key}`}
              d={path(c.map((r) => r.epoch), c.map((r) => r[key]), x, y)}
              stroke={j === 0 ? TRAIN : TEST}
              strokeOpacity={indices[k] === opened ? 0.9 : 0.28}
              strokeWidth={indices[k] === opened ? 1.6 : 1}
              fill="none"
              className="sweep-run-curve"
              onClick={() => void openSweepRun(indices[k])}
            >
              <title>run {indices[k] + 1} (click to open)</title>
            </path>
          )),
        )}
        {curves.length > 1 &&
          keys.map((key, j) => {
            const m = meanCurve(curves, key, log);
            return <path key={`mean-${key}`} d={path(m.epoch, m.value, x, y)} stroke={j === 0 ? TRAIN : TEST} strokeWidth={2.4} fill="none" pointerEvents="none" />;
          })}
      </svg>
    </figure>
  );
}

export function SweepCurves() {
  const spec = useSweepStore((s) => s.spec);
  const runs = useSweepStore((s) => s.runs);
  const epochs = useSweepStore((s) => s.epochs);
  const opened = useSweepStore((s) => s.opened);
  useSweepStore((s) => s.version);
  const [quantity, setQuantity] = useState<Quantity>('loss');
  if (!spec || runs.length === 0) return null;
  const ps = panels(spec, runs);
  return (
    <div className="sweep-curves">
      <div className="sweep-legend">
        <label>
          show{' '}
          <select value={quantity} onChange={(e) => setQuantity(e.target.value as Quantity)} data-testid="sweep-quantity">
            <option value="loss">loss (log)</option>
            <option value="acc">accuracy</option>
          </select>
        </label>
        <span style={{ color: TRAIN }}>━ train</span> <span style={{ color: TEST }}>━ test</span>
        <span className="muted">faint: each run; bold: their mean (losses: geometric)</span>
      </div>
      <div className="sweep-multiples">
        {ps.map((p) => (
          <SmallPanel key={p.title} title={p.title} curves={p.runs.map((i) => runs[i].rows)} indices={p.runs} epochs={epochs} quantity={quantity} opened={opened} />
        ))}
      </div>
    </div>
  );
}
