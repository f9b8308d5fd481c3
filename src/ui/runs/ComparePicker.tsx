/**
 * Pick saved runs and branches to overlay on the training curves, one colour each, with a legend
 * of the settings in which they differ from the run on show.
 */
import { compareRun } from '../../client/runs/compare.ts';
import { differingSettings, useCompareStore } from '../../store/compare.ts';
import { useAppStore, type AppState } from '../../store/store.ts';

/** Which other runs there are, as a string: the picker re-renders when the list changes, not on
 * every save of the run in hand (a re-render above the loss chart made each of its draws reflow). */
const othersSignature = (s: AppState) =>
  s.savedRuns
    .filter((r) => r.key !== s.currentRunKey)
    .map((r) => `${r.key}\u0000${r.name}`)
    .join('\u0001');

export function ComparePicker() {
  useAppStore(othersSignature);
  const current = useAppStore((s) => s.applied ?? s.draft);
  const compared = useCompareStore((s) => s.runs);
  const { savedRuns, currentRunKey } = useAppStore.getState();
  const others = savedRuns.filter((r) => r.key !== currentRunKey);
  if (others.length === 0 && compared.length === 0) return null;
  const labels = differingSettings([current, ...others.map((r) => r.config)]).slice(1);
  return (
    <details className="compare-picker" data-testid="compare-picker" open={compared.length > 0 || undefined}>
      <summary>
        Compare with saved runs and branches{compared.length > 0 ? ` (${compared.length} overlaid)` : ''}
      </summary>
      <ul>
        {others.map((r, i) => {
          const on = compared.find((c) => c.key === r.key);
          return (
            <li key={r.key}>
              <label>
                <input type="checkbox" checked={!!on} onChange={(e) => void compareRun(r.key, e.target.checked)} data-testid="compare-run" />
                <i className="swatch" style={{ background: on?.color ?? 'transparent' }} /> <span>{labels[i]}</span> <span className="muted">· {r.name.slice(0, 60)} · epoch {r.epoch.toLocaleString('en-US')}</span>
              </label>
            </li>
          );
        })}
      </ul>
      <p className="muted small">Overlaid runs: test loss/accuracy solid, train dotted, in the run's colour; named by the settings in which they differ from this run.</p>
    </details>
  );
}
