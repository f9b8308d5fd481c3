/**
 * "Branch here" at the scrubbed checkpoint (issue #13): a new run from that checkpoint's weights —
 * and its Adam moments at the run's latest epoch — with another λ, lr or Grokfast λ. The parent is
 * saved and overlaid on the curves.
 */
import { useState } from 'react';
import { branchHere } from '../../client/runs/branch.ts';
import { useAppStore } from '../../store/store.ts';
import { viewedSnapshot } from '../../store/view.ts';

export function BranchButton() {
  const viewEpoch = useAppStore((s) => s.viewEpoch);
  const latest = useAppStore((s) => s.epoch);
  const status = useAppStore((s) => s.status);
  const draft = useAppStore((s) => s.draft);
  const hasHistory = useAppStore((s) => s.history.length > 0);
  const snapshotEpochs = useAppStore((s) => s.snapshotEpochs);
  const [open, setOpen] = useState(false);
  const [wd, setWd] = useState('');
  const [lr, setLr] = useState('');
  const [gf, setGf] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const exact = viewEpoch === null || viewEpoch >= latest;
  const from = exact ? latest : (snapshotEpochs.filter((e) => e <= viewEpoch).at(-1) ?? viewedSnapshot(useAppStore.getState()));
  const num = (text: string, fallback: number) => (text.trim() === '' ? fallback : Number(text));
  const go = async () => {
    const changes = { weightDecay: num(wd, draft.weightDecay), lr: num(lr, draft.lr), grokfastLambda: num(gf, draft.grokfastLambda) };
    const bad = Object.entries(changes).find(([, v]) => !Number.isFinite(v) || v < 0);
    if (bad) return setProblem(`${bad[0]} must be a number ≥ 0`);
    if (changes.lr <= 0) return setProblem('lr must be above 0');
    setProblem(await branchHere(exact ? null : viewEpoch, changes));
    setOpen(false);
  };
  return (
    <span className="branch">
      <button type="button" onClick={() => setOpen(!open)} disabled={!hasHistory || status === 'starting'} aria-expanded={open} data-testid="branch-here" title="Start a new run from this checkpoint with other settings">
        Branch here
      </button>
      {open && (
        <div className="branch-form" role="dialog" aria-label="Branch from this checkpoint">
          <p className="small">
            From epoch {from?.toLocaleString('en-US') ?? '—'}:{' '}
            {exact ? 'its weights and Adam moments (continues exactly as resuming would).' : 'the kept snapshot’s weights; Adam moments exist only at the latest epoch, so the branch starts with fresh moments.'}
          </p>
          <label>
            λ <input value={wd} placeholder={String(draft.weightDecay)} onChange={(e) => setWd(e.target.value)} size={6} data-testid="branch-wd" />
          </label>
          <label>
            lr <input value={lr} placeholder={String(draft.lr)} onChange={(e) => setLr(e.target.value)} size={7} data-testid="branch-lr" />
          </label>
          <label>
            Grokfast λ <input value={gf} placeholder={String(draft.grokfastLambda)} onChange={(e) => setGf(e.target.value)} size={4} data-testid="branch-grokfast" />
          </label>
          <button type="button" className="primary" onClick={() => void go()} data-testid="branch-start">
            Start branch
          </button>
        </div>
      )}
      {problem && (
        <span className="sweep-problem" role="alert">
          {problem}
        </span>
      )}
    </span>
  );
}
