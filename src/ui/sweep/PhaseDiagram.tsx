/**
 * The phase diagram over the sweep's two varied keys (one row per value of the first, one column
 * per value of the second): the epoch of 99% test accuracy, the phase reached (§5.3's rules), or
 * the final test loss. Click a cell to open that run with every single-run view.
 */
import { useState } from 'react';
import { canOpenSweepRun, openSweepRun } from '../../client/sweep/sweep.ts';
import { useSweepStore } from '../../store/sweep.ts';
import { METRIC_LABELS, PHASE_FILL, phaseGrid, type PhaseMetric } from './sweep-views.ts';

const PHASE_KEY = Object.entries(PHASE_FILL);

export function PhaseDiagram() {
  const spec = useSweepStore((s) => s.spec);
  const runs = useSweepStore((s) => s.runs);
  const opened = useSweepStore((s) => s.opened);
  const [metric, setMetric] = useState<PhaseMetric>('grok');
  if (!spec || runs.length === 0) return null;
  const grid = phaseGrid(spec, runs, metric);
  return (
    <div className="phase-diagram">
      <label>
        Phase diagram:{' '}
        <select value={metric} onChange={(e) => setMetric(e.target.value as PhaseMetric)} data-testid="phase-metric">
          {(Object.keys(METRIC_LABELS) as PhaseMetric[]).map((m) => (
            <option key={m} value={m}>
              {METRIC_LABELS[m]}
            </option>
          ))}
        </select>
      </label>
      <table className="phase-table" data-testid="phase-diagram">
        <thead>
          <tr>
            <th scope="col">
              {grid.rowLabel}
              {grid.colLabel && ` ↓ · ${grid.colLabel} →`}
            </th>
            {grid.cols.map((c) => (
              <th key={c} scope="col">
                {c}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {grid.rows.map((r, i) => (
            <tr key={r}>
              <th scope="row">{r}</th>
              {grid.cells[i].map((cell, j) => (
                <td key={j} style={{ background: cell.color, color: cell.ink }} className={cell.index === opened ? 'opened' : undefined}>
                  <button
                    type="button"
                    data-testid="phase-cell"
                    data-filled={cell.summary ? 'true' : 'false'}
                    disabled={!cell.summary || !canOpenSweepRun(cell.index)}
                    onClick={() => void openSweepRun(cell.index)}
                    title={cell.summary ? `${runs[cell.index]?.label}: test accuracy ${(100 * cell.summary.finalTestAcc).toFixed(1)}%, test loss ${cell.summary.finalTestLoss.toExponential(2)}, ${cell.summary.grokEpoch === null ? 'not grokked' : `99% at epoch ${cell.summary.grokEpoch}`}, phase: ${cell.summary.phase ?? '—'}. ${canOpenSweepRun(cell.index) ? 'Click to open this run.' : 'Its history only (a packed sweep): open its record file to explore it.'}` : 'training…'}
                  >
                    {cell.text}
                  </button>
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      <p className="phase-key">
        {metric === 'phase' ? (
          PHASE_KEY.map(([name, color]) => (
            <span key={name}>
              <i style={{ background: color }} />
              {name}
            </span>
          ))
        ) : (
          <>
            <span>
              <i style={{ background: 'rgb(255,247,188)' }} />
              {metric === 'loss' ? 'lowest' : 'earliest'}
            </span>
            <span>
              <i style={{ background: 'rgb(8,48,107)' }} />
              {metric === 'loss' ? 'highest (log scale)' : 'latest'}
            </span>
            {metric !== 'loss' && (
              <span>
                <i style={{ background: '#d9d9d9' }} />
                {metric === 'grok' ? 'not grokked (test accuracy below 99%)' : 'not reached'}
              </span>
            )}
          </>
        )}
        <span>{runs.some((r) => canOpenSweepRun(r.index)) ? 'click a cell to open its run' : 'histories only: a run opens from its record file (sweep --record)'}</span>
      </p>
    </div>
  );
}
