/**
 * One sentence under the run controls: when this run should grok at its current speed, and, when
 * that is a long wait, the quick preset and the recorded run instead.
 */
import { commands } from '../../client/client.ts';
import { openRecording } from '../../client/runs/recording.ts';
import { formatDuration, formatRate } from '../../run/format.ts';
import { useAppStore } from '../../store/store.ts';
import { estimateForRun, QUICK_PRESET } from './grok-estimate.ts';

export function GrokEstimateLine() {
  const applied = useAppStore((s) => s.applied);
  useAppStore((s) => s.epoch);
  useAppStore((s) => s.draft);
  const eps = useAppStore((s) => s.epochsPerSec);
  const status = useAppStore((s) => s.status);
  const grokked = useAppStore((s) => s.grokked);
  if (!applied || grokked || (status !== 'running' && status !== 'paused')) return null;
  const est = estimateForRun(useAppStore.getState());
  if (!est) return null;
  return (
    <p className="hint grok-estimate" data-testid="grok-estimate">
      {capitalize(est.source)}: ~{formatDuration(est.seconds)} from here at {formatRate(eps)} epochs/s.
      {est.quickSeconds !== null && (
        <>
          {' '}Too long to watch? The{' '}
          <button type="button" className="link" onClick={switchToQuick} data-testid="offer-quick">
            quick preset
          </button>{' '}
          groks in ~{formatDuration(est.quickSeconds)} here, or{' '}
          <button type="button" className="link" onClick={() => openRecording('reference', (m) => window.confirm(m))} data-testid="offer-recorded">
            explore the recorded run
          </button>
          .
        </>
      )}
    </p>
  );
}

/** Builds the quick preset's run and trains it (the current run is saved first, as on every Reset). */
export function switchToQuick(): void {
  commands.choosePreset(QUICK_PRESET);
  commands.reset();
  commands.train();
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
