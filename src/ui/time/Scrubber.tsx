/**
 * Time: a scrubber over the run's checkpoints that shows every view at that epoch (during and after
 * training), Play over the whole run in 2 min, 30 s or 8 s (Player.tsx) with one-checkpoint steps either side, and Live to follow
 * training again. Scrubbing to the right end also returns to live. The heavy views are computed
 * for the snapshot at or before the epoch shown.
 */
import { useEffect, useId, useRef } from 'react';
import { commands } from '../../client/client.ts';
import { useAppStore } from '../../store/store.ts';
import { PLAY_DURATIONS, PLAY_LABELS, playNote, scrubLabel, stepView, togglePlay, usePlayback } from './playback.ts';
import { Player } from './Player.tsx';
import { viewedSnapshot, phaseAt, viewIndex } from '../../store/view.ts';
import { BranchButton } from './BranchButton.tsx';

export function Scrubber() {
  const length = useAppStore((s) => s.history.length);
  useAppStore((s) => s.historyVersion);
  const viewEpoch = useAppStore((s) => s.viewEpoch);
  // A recording being opened is one already: its curves show from the file's head (#25), with no
  // phases yet (the worker measures them), and there is nothing live to follow (#21 items 6–7).
  const recording = useAppStore((s) => s.recording !== null || s.recordingRequest !== null);
  const previewing = useAppStore((s) => s.recordingRequest !== null);
  const playing = useAppStore((s) => s.playing);
  const setViewEpoch = useAppStore((s) => s.setViewEpoch);
  const setPlaying = useAppStore((s) => s.setPlaying);
  const speed = usePlayback((p) => p.speed);
  const setSpeed = usePlayback((p) => p.setSpeed);
  const note = usePlayback((p) => (playing ? playNote(p.state, p.speed) : null));
  const state = useAppStore.getState();
  const index = viewIndex(state);
  const epochs = state.history.column('epoch');
  const epoch = index >= 0 ? epochs[index] : 0;
  const phase = previewing ? undefined : phaseAt(state, epoch)?.name;
  const snapshot = viewedSnapshot(state);
  const label = scrubLabel({ epoch, following: viewEpoch === null, recording, phase, snapshot });
  const restAt = label.indexOf(' · ', label.indexOf('epoch ')) < 0 ? label.length : label.indexOf(' · ', label.indexOf('epoch '));
  const id = useId();
  return (
    <div className="scrubber" data-testid="scrubber">
      <div className="scrub-buttons">
      <button type="button" onClick={() => stepView(-1)} disabled={length < 2 || index <= 0} data-testid="step-back" aria-label="Back one checkpoint (←)" title="Back one checkpoint (←)">
        ◀
      </button>
      <button type="button" onClick={togglePlay} disabled={length < 2} data-testid="play" aria-pressed={playing}>
        {playing ? 'Stop' : 'Play'}
      </button>
      <button type="button" onClick={() => stepView(1)} disabled={length < 2 || viewEpoch === null} data-testid="step-forward" aria-label="Forward one checkpoint (→)" title="Forward one checkpoint (→)">
        ▶
      </button>
      <span className="speeds" role="group" aria-label="Play the whole run in">
        {PLAY_DURATIONS.map((x) => (
          <button key={x} type="button" className={x === speed ? 'on' : undefined} aria-pressed={x === speed} onClick={() => setSpeed(x)} data-testid={`speed-${x}`} title={`Play the whole run in ${PLAY_LABELS[x]}`}>
            {PLAY_LABELS[x]}
          </button>
        ))}
      </span>
      <button
        type="button"
        className={viewEpoch === null ? 'live on' : 'live'}
        onClick={() => {
          setPlaying(false);
          setViewEpoch(null);
        }}
        data-testid="live"
        aria-pressed={viewEpoch === null}
        title={recording ? 'The last checkpoint of the recording' : 'Follow the training again'}
      >
        {recording ? 'End' : 'Live'}
      </button>
      </div>
      <label htmlFor={id} className="visually-hidden">
        Epoch shown by every view
      </label>
      <input
        id={id}
        type="range"
        min={0}
        max={Math.max(length - 1, 0)}
        step={1}
        value={Math.max(index, 0)}
        disabled={length < 2}
        data-testid="scrub"
        aria-valuetext={`epoch ${epoch}`}
        onChange={(e) => {
          const i = Number(e.target.value);
          setPlaying(false);
          setViewEpoch(i >= length - 1 ? null : epochs[i]);
        }}
      />
      <span className="scrub-label" data-testid="scrub-label" aria-live="polite">
        {/* "… epoch N" and the rest (phase, snapshot), which a phone's one-row bar leaves to the menu. */}
        <span className="scrub-epoch">{label.slice(0, restAt)}</span>
        <span className="scrub-rest">{label.slice(restAt)}</span>
      </span>
      {note && (
        <span className="play-note" data-testid="play-note" role="status">
          {note}
        </span>
      )}
      <BranchButton />
      <HeavyFetcher />
      <Player />
    </div>
  );
}

/** Asks the worker for the heavy analysis of the scrubbed epoch's snapshot when it is not cached. */
function HeavyFetcher() {
  const requested = useRef(new Set<string>());
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const check = () => {
      const s = useAppStore.getState();
      // While playing, the Player asks for the frames' views (a bounded few ahead).
      if (s.viewEpoch === null || !s.run || s.playing) return;
      const snap = viewedSnapshot(s);
      const key = `${s.run.runId}:${snap}`;
      if (snap === null || s.heavy.has(snap) || requested.current.has(key)) return;
      clearTimeout(timer);
      timer = setTimeout(() => {
        requested.current.add(key);
        commands.inspect(snap);
      }, 120);
    };
    const unsubscribe = useAppStore.subscribe((s) => [s.viewEpoch, s.snapshotEpochs, s.heavyVersion, s.run?.runId, s.playing] as const, check, {
      equalityFn: (a, b) => a.every((x, i) => x === b[i]),
    });
    check();
    return () => {
      unsubscribe();
      clearTimeout(timer);
    };
  }, []);
  return null;
}
