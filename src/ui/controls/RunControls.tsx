/** Train / Pause / Step / Reset, and where the run stands: epoch, speed, time left. */
import { commands } from '../../client/client.ts';
import { trainRecordingYourself } from '../../client/runs/recording.ts';
import { formatDuration, formatInt, formatPercent, formatRate, formatValue } from '../../run/format.ts';
import { useAppStore, needsReset } from '../../store/store.ts';
import { GrokEstimateLine } from './GrokEstimate.tsx';

const STEP_EPOCHS = 10;

export function RunControls() {
  const status = useAppStore((s) => s.status);
  const epoch = useAppStore((s) => s.epoch);
  const target = useAppStore((s) => s.applied?.epochs ?? s.draft.epochs);
  const eps = useAppStore((s) => s.epochsPerSec);
  const loss = useAppStore((s) => s.lastTrainLoss);
  const pending = useAppStore((s) => needsReset(s.draft, s.applied));
  const recording = useAppStore((s) => s.recording);
  // A recording being opened shows its curves before its run is in the worker (#25): watched too.
  const opening = useAppStore((s) => s.recordingRequest !== null);
  const openingEpoch = useAppStore((s) => (s.recordingRequest ? (s.history.last()?.epoch ?? null) : null));
  const testAcc = useAppStore((s) => s.history.last()?.testAcc ?? NaN);
  const grokked = useAppStore((s) => s.grokked);
  const running = status === 'running';
  // A recording is watched, not trained: only what acts on it (Train yourself; Play, the scrubber and Branch in the time bar).
  const watching = (recording !== null || opening) && !running;
  const busy = status === 'starting' || status === 'error';
  const fraction = openingEpoch !== null ? 1 : target > 0 ? Math.min(epoch / target, 1) : 0;
  const eta = running && eps > 0 ? (target - epoch) / eps : NaN;

  return (
    <section className="panel run-controls" aria-label="Run">
      <div className="buttons">
        {watching ? (
          <button type="button" className="primary" onClick={trainRecordingYourself} disabled={busy || opening} data-testid="train-yourself" title="A new run with this recording's configuration, trained here">
            Train this configuration yourself
          </button>
        ) : running ? (
          <button type="button" className="primary" onClick={commands.pause} data-testid="pause">
            Pause
          </button>
        ) : (
          // Usable while the run is built (#25): the press is held and the run starts once it is ready.
          <button type="button" className="primary" onClick={commands.train} disabled={status === 'error' || status === 'done'} data-testid="train">
            {status === 'paused' ? 'Resume' : 'Train'}
          </button>
        )}
        {!watching && (
          <>
            <button type="button" onClick={() => commands.step(STEP_EPOCHS)} disabled={busy || running} title={`Train ${STEP_EPOCHS} epochs, then pause`} data-testid="step">
              Step {STEP_EPOCHS}
            </button>
            <button type="button" onClick={commands.reset} disabled={status === 'starting'} className={pending ? 'attention' : undefined} data-testid="reset">
              Reset
            </button>
          </>
        )}
      </div>
      <div
        className="progress"
        role="progressbar"
        aria-valuemin={0}
        aria-valuemax={target}
        aria-valuenow={epoch}
        aria-label="Training progress in epochs"
      >
        <div className="progress-fill" style={{ width: `${(100 * fraction).toFixed(2)}%` }} />
      </div>
      <dl className="run-stats">
        <div>
          <dt>epoch</dt>
          <dd data-testid="epoch">
            {openingEpoch !== null ? formatInt(openingEpoch) : <>{formatInt(epoch)} <span className="muted">/ {formatInt(target)}</span></>}
          </dd>
        </div>
        <div>
          <dt>test acc</dt>
          <dd data-testid="live-test-acc" className={grokked ? 'grokked' : undefined}>
            {Number.isNaN(testAcc) ? '–' : formatPercent(testAcc)}
          </dd>
        </div>
        <div>
          <dt>epochs/s</dt>
          <dd data-testid="eps">{running ? formatRate(eps) : '–'}</dd>
        </div>
        <div>
          <dt>time left</dt>
          <dd data-testid="eta">{formatDuration(eta)}</dd>
        </div>
        <div>
          <dt>train loss</dt>
          <dd data-testid="live-loss">{Number.isNaN(loss) ? '–' : formatValue(loss)}</dd>
        </div>
      </dl>
      {grokked ? (
        <p className="grokked-line" data-testid="grokked-line" role="status">
          Grokked at epoch {formatInt(grokked.epoch)}: test accuracy reached 99%.
        </p>
      ) : (
        <GrokEstimateLine />
      )}
      <p className="status" data-testid="status" aria-live="polite">
        {/* The time bar's recording line says it on a wide screen; a phone's one-row bar hides it. */}
        {watching ? <span className="recording-status">{recording ? `${recording.name} — recorded, not training.` : 'Opening the recorded run…'}</span> : statusText(status)}
        {pending && status !== 'starting' ? ' · form changes apply on Reset' : ''}
      </p>
    </section>
  );
}

function statusText(status: string): string {
  switch (status) {
    case 'starting':
      return 'Starting the training worker…';
    case 'idle':
      return 'Ready. Press Train.';
    case 'running':
      return 'Training…';
    case 'paused':
      return 'Paused.';
    case 'done':
      return 'Finished: reached the epoch limit.';
    case 'error':
      return 'Stopped by an error (see above).';
    default:
      return status;
  }
}
