/**
 * The narrative of the explorable: short panels, in the order of the paper's story, each quoting
 * the live run's own numbers next to the paper's (ANALYSIS.md §6).
 */
import type { ReactNode } from 'react';
import type { PhaseName } from '../../analysis/phases.ts';
import { openRecording } from '../../client/runs/recording.ts';
import { TASK_LABELS } from '../../task/registry.ts';
import { formatPercent, formatValue } from '../../run/format.ts';
import { useAppStore, type AppState } from '../../store/store.ts';
import { Term } from './Glossary.tsx';
import { curve, formatK, phaseAt, phases, viewIndex, viewedHeavy } from '../../store/view.ts';

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
  /** The epoch the views show (the scrubber's, or the newest). */
  epoch: number;
  /** The newest epoch of the run. */
  lastEpoch: number;
  /** The phase at the viewed epoch. */
  phase: PhaseName | null;
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
  /** Whose run the guide speaks of: "Your run", or "The recorded run" for a recording. */
  run: string;
}

/** The numbers the guide quotes: those of the viewed epoch, from the store. */
export function runFacts(s: AppState): RunFacts | null {
  const h = s.history;
  if (h.length === 0 || !s.applied || !s.run) return null;
  const i = viewIndex(s);
  const epoch = h.column('epoch');
  const at = epoch[i];
  const trainAcc = h.column('trainAcc');
  const i100 = trainAcc.findIndex((a) => a >= 0.999);
  const memorized = i100 >= 0 && i100 <= i;
  const ph = phases(s);
  // A phase counts as ended only where the viewed epoch is past its end.
  const end = (name: PhaseName) => {
    const e = ph.find((p) => p.name === name)?.end ?? null;
    return e !== null && e <= at ? e : null;
  };
  const heavy = viewedHeavy(s)?.result;
  const restricted = curve(s, 'restrictedLoss')[i];
  const excluded = curve(s, 'excludedLoss')[i];
  return {
    p: s.applied.p,
    task: TASK_LABELS[s.applied.task],
    nTrain: s.run.nTrain,
    nPairs: s.run.nTrain + s.run.nTest,
    epoch: at,
    lastEpoch: epoch[h.length - 1],
    phase: phaseAt(s, at)?.name ?? null,
    memorizedAt: memorized ? epoch[i100] : null,
    testAccAtMemorized: memorized ? h.column('testAcc')[i100] : null,
    memEnd: end('memorization'),
    cleanupStart: end('circuit formation'),
    stableAt: end('cleanup'),
    K: s.keyFreqs?.active ?? [],
    testLoss: h.column('testLoss')[i],
    testAcc: h.column('testAcc')[i],
    giniWL: h.column('giniWL')[i],
    giniWLStart: h.column('giniWL')[0],
    restrictedLoss: restricted,
    excludedLoss: excluded,
    wellExplained: heavy ? `${heavy.neuronsWellExplained} of ${heavy.dMlp} (${formatPercent(heavy.neuronsWellExplained / heavy.dMlp)})` : null,
    weightDecay: h.column('weightDecay')[i] ?? s.applied.weightDecay,
    run: s.recording ? 'The recorded run' : 'Your run',
  };
}

const n = (x: number) => x.toLocaleString('en-US');

/** Re-renders with the run, the scrubber and the heavy views; returns the facts of the viewed epoch. */
function useFacts(): RunFacts | null {
  useAppStore((s) => s.historyVersion);
  useAppStore((s) => s.viewEpoch);
  useAppStore((s) => s.heavyVersion);
  useAppStore((s) => s.keyFreqs);
  return runFacts(useAppStore.getState());
}

/** "at epoch 1,200" while scrubbed back, "now" at the newest checkpoint. */
function when(f: RunFacts): string {
  return f.epoch === f.lastEpoch ? 'now' : `at epoch ${n(f.epoch)}`;
}

function Panel({ title, status, children, testId, current }: { title: string; status: string; children: ReactNode; testId: string; current?: boolean }) {
  return (
    <aside className={current ? 'guide current' : 'guide'} data-testid={testId} aria-current={current ? 'step' : undefined}>
      <h3>
        {title} <span className="guide-status">{status}</span>
        {current ? <span className="guide-here">you are here</span> : null}
      </h3>
      {children}
    </aside>
  );
}

export function GuideTask() {
  const f = useFacts();
  return (
    <Panel title="1 · The task" status="" testId="guide-task">
      <p>
        The transformer reads three tokens, <code>a b =</code>, and must output {f ? f.task : '(a + b) mod P'}: addition in <Term term="ℤ_P" />. It trains on a fixed random{' '}
        {f ? `${n(f.nTrain)} of the ${n(f.nPairs)} pairs` : 'share of the P² pairs'} (your P = {f?.p ?? '…'}; the paper: P = 113, 30% = 3,830 pairs) and is tested on
        the rest. With weight decay it first memorizes the training pairs, then — long after — generalizes: it <em>groks</em>.
      </p>
    </Panel>
  );
}

/** One sentence, while a run of your own is memorizing, that shows what is coming. */
function WhatIsComing({ f }: { f: RunFacts }) {
  const recording = useAppStore((s) => s.recording);
  if (recording || (f.phase !== null && f.phase !== 'memorization')) return null;
  return (
    <p className="coming" data-testid="coming">
      Grokking takes thousands of epochs: to see what is coming, open the{' '}
      <button type="button" className="link" onClick={() => openRecording('reference', (m) => window.confirm(m))} data-testid="coming-reference">
        recorded reference run
      </button>{' '}
      (your run is saved first and stays under Runs).
    </p>
  );
}

export function GuideMemorization() {
  const f = useFacts();
  const status = f?.memEnd != null ? `ended at epoch ${n(f.memEnd)}` : f ? 'under way' : 'not yet';
  return (
    <Panel title="2 · Memorization" status={status} testId="guide-memorization" current={f?.phase === 'memorization'}>
      <p>
        The training loss falls fast while the test loss rises: the model stores answers.{' '}
        {f?.memorizedAt != null ? (
          <>
            {f.run} reached 100% train accuracy at epoch <strong>{n(f.memorizedAt)}</strong>, with test accuracy {formatPercent(f.testAccAtMemorized ?? 0)}.
          </>
        ) : f ? (
          `At epoch ${n(f.epoch)} it has not memorized the training set yet (train accuracy ${formatPercent(useAppStore.getState().history.column('trainAcc')[viewIndex(useAppStore.getState())])}).`
        ) : (
          'Your run has not memorized the training set yet.'
        )}{' '}
        The <Term term="excluded loss" /> — the training loss once the <Term term="K">key frequencies K</Term> (the few Fourier frequencies the finished circuit
        uses, section 3) are removed from the logits — falls with it{f && Number.isFinite(f.excludedLoss) ? ` (${when(f)}: ${formatValue(f.excludedLoss)})` : ''}:
        memorization does not use the Fourier circuit. The phase ends where the excluded loss turns up (paper: ~1.4k epochs).
      </p>
      {f ? <WhatIsComing f={f} /> : null}
    </Panel>
  );
}

export function GuideCircuit() {
  const f = useFacts();
  const status = f?.cleanupStart ? `ended at epoch ${n(f.cleanupStart)}` : f?.memEnd ? 'under way' : 'not yet';
  return (
    <Panel title="3 · Circuit formation" status={status} testId="guide-circuit" current={f?.phase === 'circuit formation'}>
      <p>
        Weight decay keeps pulling the weights down, and a cheaper solution grows: the model embeds a and b as rotations at a few key frequencies w_k = 2πk/P,
        multiplies them in the MLP, and reads out cos(w_k(a+b−c)) through <Term term="W_L" />. {f?.run ?? 'Your run'}'s key frequencies: <strong>{formatK(f?.K)}</strong>; the
        paper's seed: {PAPER.keyFreqs.join(', ')} (other seeds use other 3–5 frequencies). While test loss stays high, the <Term term="restricted loss" /> (only
        the key frequencies kept{f && Number.isFinite(f.restrictedLoss) ? `; ${when(f)} ${formatValue(f.restrictedLoss)}` : ''}) falls and the excluded loss
        {f && Number.isFinite(f.excludedLoss) ? ` (${when(f)} ${formatValue(f.excludedLoss)})` : ''} rises: the circuit is doing the work long before test accuracy
        shows it. The <Term term="Gini" /> coefficients below measure how few frequencies W_E and W_L use. Paper: 1.4k–9.4k epochs.
      </p>
    </Panel>
  );
}

export function GuideCleanup() {
  const f = useFacts();
  const status = f?.stableAt ? `ended at epoch ${n(f.stableAt)}` : f?.cleanupStart ? 'under way' : 'not yet';
  return (
    <Panel title="4 · Cleanup" status={status} testId="guide-cleanup" current={f?.phase === 'cleanup' || f?.phase === 'stable'}>
      <p>
        Weight decay removes the memorizing weights; only the circuit remains and the test loss collapses — the grokking jump.{' '}
        {f?.cleanupStart ? (
          <>
            In {f.run.toLowerCase()} it began at epoch <strong>{n(f.cleanupStart)}</strong> (paper: 9.4k–14k).
          </>
        ) : f && f.epoch !== f.lastEpoch ? (
          `At epoch ${n(f.epoch)} it has not started yet.`
        ) : (
          `${f?.run ?? 'Your run'} has not started it yet.`
        )}{' '}
        {f ? (
          <>
            At epoch {n(f.epoch)}: test loss {formatValue(f.testLoss)} (paper, at 40k epochs: {formatValue(PAPER.finalTestLoss)}), test accuracy {formatPercent(f.testAcc)},
            Gini of W_L {f.giniWL.toFixed(2)} (from {f.giniWLStart.toFixed(2)} at the start), neurons explained by one frequency: {f.wellExplained ?? '…'} (paper:{' '}
            {PAPER.wellExplained}).
          </>
        ) : null}{' '}
        {f && f.weightDecay === 0 ? 'Without weight decay (λ = 0) this phase never comes: the paper finds no grokking.' : ''}
      </p>
    </Panel>
  );
}
