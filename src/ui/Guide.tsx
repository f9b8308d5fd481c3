/**
 * The narrative of the explorable: short panels, in the order of the paper's story, each quoting
 * the live run's own numbers next to the paper's (ANALYSIS.md §6).
 */
import type { ReactNode } from 'react';
import { TASK_LABELS } from '../config/schema.ts';
import { formatPercent, formatValue } from '../run/format.ts';
import { useAppStore, type AppState } from '../store/store.ts';
import { formatK, phases } from './view.ts';

/** The paper's mainline seed (ANALYSIS.md §6). */
export const PAPER = {
  keyFreqs: [14, 35, 41, 42, 52],
  phases: '0–1.4k, 1.4k–9.4k, 9.4k–14k',
  finalTestLoss: 2.4e-7,
  wellExplained: '433 of 512 (84.6%)',
};

export interface RunFacts {
  p: number;
  task: string;
  nTrain: number;
  nPairs: number;
  lastEpoch: number;
  memorizedAt: number | null;
  testAccAtMemorized: number | null;
  memEnd: number | null;
  cleanupStart: number | null;
  stableAt: number | null;
  K: number[];
  testLoss: number;
  testAcc: number;
  giniWL: number;
  giniWLStart: number;
  restrictedLoss: number;
  excludedLoss: number;
  wellExplained: string | null;
  weightDecay: number;
}

/** The numbers the guide quotes, from the store. */
export function runFacts(s: AppState): RunFacts | null {
  const h = s.history;
  if (h.length === 0 || !s.applied || !s.run) return null;
  const trainAcc = h.column('trainAcc');
  const epoch = h.column('epoch');
  const i100 = trainAcc.findIndex((a) => a >= 0.999);
  const ph = phases(s);
  const end = (name: string) => ph.find((p) => p.name === name)?.end ?? null;
  const last = h.length - 1;
  const heavy = s.latestHeavyEpoch !== null ? s.heavy.get(s.latestHeavyEpoch) : undefined;
  return {
    p: s.applied.p,
    task: TASK_LABELS[s.applied.task],
    nTrain: s.run.nTrain,
    nPairs: s.run.nTrain + s.run.nTest,
    lastEpoch: epoch[last],
    memorizedAt: i100 >= 0 ? epoch[i100] : null,
    testAccAtMemorized: i100 >= 0 ? h.column('testAcc')[i100] : null,
    memEnd: end('memorization'),
    cleanupStart: end('circuit formation'),
    stableAt: end('cleanup'),
    K: s.keyFreqs?.active ?? [],
    testLoss: h.column('testLoss')[last],
    testAcc: h.column('testAcc')[last],
    giniWL: h.column('giniWL')[last],
    giniWLStart: h.column('giniWL')[0],
    restrictedLoss: h.column('restrictedLoss')[last],
    excludedLoss: h.column('excludedLoss')[last],
    wellExplained: heavy ? `${heavy.neuronsWellExplained} of ${heavy.dMlp} (${formatPercent(heavy.neuronsWellExplained / heavy.dMlp)})` : null,
    weightDecay: s.applied.weightDecay,
  };
}

const n = (x: number) => x.toLocaleString('en-US');

function Panel({ title, status, children, testId }: { title: string; status: string; children: ReactNode; testId: string }) {
  return (
    <aside className="guide" data-testid={testId}>
      <h3>
        {title} <span className="guide-status">{status}</span>
      </h3>
      {children}
    </aside>
  );
}

export function GuideTask() {
  useAppStore((s) => s.historyVersion);
  const f = runFacts(useAppStore.getState());
  return (
    <Panel title="1 · The task" status="" testId="guide-task">
      <p>
        The transformer reads three tokens, <code>a b =</code>, and must output {f ? f.task : '(a + b) mod P'}. It trains on a fixed random{' '}
        {f ? `${n(f.nTrain)} of the ${n(f.nPairs)} pairs` : 'share of the P² pairs'} (your P = {f?.p ?? '…'}; the paper: P = 113, 30% = 3,830 pairs) and is tested on
        the rest. With weight decay it first memorizes the training pairs, then — long after — generalizes: it <em>groks</em>.
      </p>
    </Panel>
  );
}

export function GuideMemorization() {
  useAppStore((s) => s.historyVersion);
  const f = runFacts(useAppStore.getState());
  const status = f?.memEnd !== null && f?.memEnd !== undefined ? `ended at epoch ${n(f.memEnd)}` : f?.memorizedAt !== null && f ? 'under way' : 'not yet';
  return (
    <Panel title="2 · Memorization" status={status} testId="guide-memorization">
      <p>
        The training loss falls fast while the test loss rises: the model stores answers.{' '}
        {f?.memorizedAt !== null && f ? (
          <>
            Your run reached 100% train accuracy at epoch <strong>{n(f.memorizedAt)}</strong>, with test accuracy {formatPercent(f.testAccAtMemorized ?? 0)}.
          </>
        ) : (
          'Your run has not memorized the training set yet.'
        )}{' '}
        The <em>excluded loss</em> — the training loss once the key frequencies are removed from the logits — falls with it: memorization does not use the Fourier
        circuit. The phase ends where the excluded loss turns up (paper: ~1.4k epochs).
      </p>
    </Panel>
  );
}

export function GuideCircuit() {
  useAppStore((s) => s.historyVersion);
  const f = runFacts(useAppStore.getState());
  const status = f?.cleanupStart ? `ended at epoch ${n(f.cleanupStart)}` : f?.memEnd ? 'under way' : 'not yet';
  return (
    <Panel title="3 · Circuit formation" status={status} testId="guide-circuit">
      <p>
        Weight decay keeps pulling the weights down, and a cheaper solution grows: the model embeds a and b as rotations at a few key frequencies w_k = 2πk/P,
        multiplies them in the MLP, and reads out cos(w_k(a+b−c)). Your run's key frequencies: <strong>{formatK(f?.K)}</strong>; the paper's seed:{' '}
        {PAPER.keyFreqs.join(', ')} (other seeds use other 3–5 frequencies). While test loss stays high, the <em>restricted loss</em> (only the key frequencies
        kept{f ? `; now ${formatValue(f.restrictedLoss)}` : ''}) falls and the excluded loss{f ? ` (now ${formatValue(f.excludedLoss)})` : ''} rises: the circuit
        is doing the work long before test accuracy shows it. Paper: 1.4k–9.4k epochs.
      </p>
    </Panel>
  );
}

export function GuideCleanup() {
  useAppStore((s) => s.historyVersion);
  useAppStore((s) => s.heavyVersion);
  const f = runFacts(useAppStore.getState());
  const status = f?.stableAt ? `ended at epoch ${n(f.stableAt)}` : f?.cleanupStart ? 'under way' : 'not yet';
  return (
    <Panel title="4 · Cleanup" status={status} testId="guide-cleanup">
      <p>
        Weight decay removes the memorizing weights; only the circuit remains and the test loss collapses — the grokking jump.{' '}
        {f?.cleanupStart ? (
          <>
            In your run it began at epoch <strong>{n(f.cleanupStart)}</strong> (paper: 9.4k–14k).
          </>
        ) : (
          'Your run has not started it yet.'
        )}{' '}
        {f ? (
          <>
            Now: test loss {formatValue(f.testLoss)} (paper, at 40k epochs: {formatValue(PAPER.finalTestLoss)}), test accuracy {formatPercent(f.testAcc)}, Gini of W_L{' '}
            {f.giniWL.toFixed(2)} (from {f.giniWLStart.toFixed(2)} at the start), neurons explained by one frequency: {f.wellExplained ?? '…'} (paper: {PAPER.wellExplained}).
          </>
        ) : null}{' '}
        {f && f.weightDecay === 0 ? 'Without weight decay (λ = 0) this phase never comes: the paper finds no grokking.' : ''}
      </p>
    </Panel>
  );
}
