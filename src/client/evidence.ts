/**
 * Keeps the worker's evidence answer in step with what the page shows: whenever the viewed epoch,
 * the run, its K, the intervention or the input change, it asks for the evidence again (a short
 * debounce lets a scrub or a typed number settle first).
 */
import { useEvidenceStore } from '../store/evidence.ts';
import { useAppStore } from '../store/store.ts';
import { commands } from './client.ts';

const REQUEST_DELAY_MS = 120;

export function startEvidenceRequests(): void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const ask = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      const app = useAppStore.getState();
      // Not while Play runs: a frame every ~250 ms would queue one evidence pass each in the
      // worker, ahead of K and everything else; the frame shown when Play stops is measured.
      if (!app.run || app.playing) return;
      const { ablations, pair } = useEvidenceStore.getState();
      const p = app.applied?.p ?? 0;
      commands.evidence({ epoch: app.viewEpoch, ablations, pair: pair !== null && pair < p * p ? pair : null });
    }, REQUEST_DELAY_MS);
  };
  useAppStore.subscribe(
    (s) => [s.readyCount, s.viewEpoch, s.keyFreqs?.version ?? -1, s.run?.runId ?? -1, s.playing] as const,
    ([ready], prev) => {
      if (ready !== prev[0]) useEvidenceStore.getState().clear();
      ask();
    },
    { equalityFn: (a, b) => a.every((x, i) => x === b[i]) },
  );
  useEvidenceStore.subscribe((s) => [s.ablations, s.pair] as const, ask, { equalityFn: (a, b) => a[0] === b[0] && a[1] === b[1] });
}
