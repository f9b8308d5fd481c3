/**
 * Time: a scrubber over the run's checkpoints that shows every view at that epoch (during and after
 * training), a Play button that animates the history, and Live to follow training again. Scrubbing
 * to the right end also returns to live. The heavy views are computed for the nearest snapshot.
 */
import { useEffect, useId, useRef } from 'react';
import { commands } from '../client/client.ts';
import { useAppStore } from '../store/store.ts';
import { nearestSnapshot, phases, viewIndex } from './view.ts';

/** Time per frame of the history animation (it also waits for each frame's heavy analysis). */
export const PLAY_FRAME_MS = 350;
/** … but not longer than this for one. */
export const PLAY_MAX_WAIT_MS = 4000;

export function Scrubber() {
  const length = useAppStore((s) => s.history.length);
  useAppStore((s) => s.historyVersion);
  const viewEpoch = useAppStore((s) => s.viewEpoch);
  const playing = useAppStore((s) => s.playing);
  const setViewEpoch = useAppStore((s) => s.setViewEpoch);
  const setPlaying = useAppStore((s) => s.setPlaying);
  const state = useAppStore.getState();
  const index = viewIndex(state);
  const epochs = state.history.column('epoch');
  const epoch = index >= 0 ? epochs[index] : 0;
  const phase = phases(state).find((p) => epoch >= p.start && (p.end === null || epoch < p.end))?.name;
  const snapshot = nearestSnapshot(state);
  const id = useId();
  return (
    <div className="scrubber" data-testid="scrubber">
      <button type="button" onClick={() => setPlaying(!playing)} disabled={length < 2} data-testid="play" aria-pressed={playing}>
        {playing ? 'Stop' : 'Play'}
      </button>
      <button
        type="button"
        className={viewEpoch === null ? 'live on' : 'live'}
        onClick={() => {
          setPlaying(false);
          setViewEpoch(null);
        }}
        data-testid="live"
        aria-pressed={viewEpoch === null}
      >
        Live
      </button>
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
        {viewEpoch === null ? 'live · ' : ''}epoch {epoch.toLocaleString('en-US')}
        {phase ? ` · ${phase}` : ''}
        {snapshot !== null && viewEpoch !== null && snapshot !== epoch ? ` · weights from epoch ${snapshot.toLocaleString('en-US')}` : ''}
      </span>
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
      if (s.viewEpoch === null || !s.run) return;
      const snap = nearestSnapshot(s);
      const key = `${s.run.runId}:${snap}`;
      if (snap === null || s.heavy.has(snap) || requested.current.has(key)) return;
      clearTimeout(timer);
      timer = setTimeout(() => {
        requested.current.add(key);
        commands.inspect(snap);
      }, 120);
    };
    const unsubscribe = useAppStore.subscribe((s) => [s.viewEpoch, s.snapshotEpochs, s.heavyVersion, s.run?.runId] as const, check, {
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

/** Steps the scrubber through the snapshots while playing, waiting for each frame's heavy views. */
function Player() {
  const playing = useAppStore((s) => s.playing);
  useEffect(() => {
    if (!playing) return;
    let shownAt = performance.now();
    const timer = setInterval(() => {
      const s = useAppStore.getState();
      const stops = s.snapshotEpochs.length > 1 ? s.snapshotEpochs : Array.from(s.history.column('epoch'));
      if (stops.length < 2) return;
      const current = s.viewEpoch ?? stops[0];
      const ready = nearestSnapshot(s) === null || s.heavy.has(nearestSnapshot(s)!) || performance.now() - shownAt > PLAY_MAX_WAIT_MS;
      if (!ready || performance.now() - shownAt < PLAY_FRAME_MS) return;
      const next = stops.find((e) => e > current);
      if (next === undefined) {
        s.setPlaying(false);
        return;
      }
      s.setViewEpoch(next);
      shownAt = performance.now();
    }, 50);
    const s = useAppStore.getState();
    if (s.viewEpoch === null) {
      const first = s.snapshotEpochs[0] ?? s.history.column('epoch')[0];
      if (first !== undefined) s.setViewEpoch(first);
    }
    return () => clearInterval(timer);
  }, [playing]);
  return null;
}
