/**
 * Moving through a run's time: Play over the whole run in 2 min, 30 s or 8 s (snapshot to
 * snapshot, the next snapshots' heavy views prepared ahead, and no frame shown before its own),
 * one-checkpoint steps, and the one action Space stands for: train/pause a run of your own,
 * play/pause a recording.
 */
import { create } from 'zustand';
import { commands } from '../../client/client.ts';
import { useAppStore } from '../../store/store.ts';
import { viewIndex } from '../../store/view.ts';

/**
 * Play speeds are durations a teacher can narrate over: the whole run in 2 min, 30 s or 8 s,
 * whatever its length (a 3k-epoch quick run and the 40k mainline alike), snapshot to snapshot.
 */
export const PLAY_DURATIONS = [120, 30, 8] as const;
export type PlayDuration = (typeof PLAY_DURATIONS)[number];
export const PLAY_LABELS: Record<PlayDuration, string> = { 120: '2 min', 30: '30 s', 8: '8 s' };
/**
 * Heavy views asked for and not yet answered at most: the worker answers in order, so a longer
 * queue would hold back every other command (K, evidence) after Play stops.
 */
export const PLAY_IN_FLIGHT = 2;

/**
 * How long Play must hold the current frame before it can step on at `frameMs` with every frame's
 * views ready when it is shown (a video player's buffering): `ready[i]` says whether the i-th frame
 * from the current one (0) has its heavy views; the missing ones are prepared one after another,
 * `computeMs` each, the first of them under way for `progressMs` already, so the j-th is ready
 * j·computeMs − progressMs from now; frame i is shown `i·frameMs − elapsedMs` from now (the
 * current frame has been shown `elapsedMs`). 0 when it can play on now.
 */
export function playLeadMs(ready: readonly boolean[], frameMs: number, computeMs: number, elapsedMs = 0, progressMs = 0): number {
  let missing = 0;
  let lead = 0;
  const done = Math.min(Math.max(progressMs, 0), computeMs);
  ready.forEach((r, i) => {
    if (r) return;
    missing++;
    lead = Math.max(lead, missing * computeMs - done - Math.max(0, i * frameMs - elapsedMs));
  });
  return lead;
}

/** What Play is doing, said on the page. */
export type PlayState =
  | { kind: 'playing' }
  | { kind: 'preparing'; ready: number; total: number; leadMs: number; neededSeconds: number }
  /** The views are ready but drawing a frame's views on screen takes longer than a frame. */
  | { kind: 'drawing'; drawMs: number; seconds: number };

/**
 * The note beside Play: while the views of the next snapshots are prepared, how many are ready,
 * how long until the run plays in step, and what this machine would need to play it all in step
 * as it computes (the asked duration holds once they are ready: the second Play starts at once).
 */
export function playNote(state: PlayState, duration: PlayDuration): string | null {
  if (state.kind === 'playing') return null;
  const s = (ms: number) => `${Math.max(1, Math.round(ms / 1000))} s`;
  if (state.kind === 'drawing') {
    return `${PLAY_LABELS[duration]} asked; this machine draws a frame's views in about ${(state.drawMs / 1000).toFixed(1)} s, so the run plays in about ${s(1000 * state.seconds)}`;
  }
  const needs = state.neededSeconds > duration ? ` (${PLAY_LABELS[duration]} asked; this machine computes them in about ${s(1000 * state.neededSeconds)})` : '';
  return `Preparing the views so they keep step: ${state.ready}/${state.total} ready, playing in about ${s(state.leadMs)}${needs}`;
}

/** Milliseconds per frame for `stops` snapshots played in `duration` seconds. */
export function playFrameMs(duration: number, stops: number): number {
  return (1000 * duration) / Math.max(stops - 1, 1);
}

export const usePlayback = create<{ speed: PlayDuration; setSpeed: (speed: PlayDuration) => void; state: PlayState; setState: (state: PlayState) => void }>()((set) => ({
  speed: 30,
  setSpeed: (speed) => set({ speed }),
  state: { kind: 'playing' },
  setState: (state) => set({ state }),
}));

/** Moves the scrubber by `delta` checkpoints (past the last one: live again). */
export function stepView(delta: number): void {
  const s = useAppStore.getState();
  const n = s.history.length;
  if (n < 2) return;
  const i = Math.min(Math.max(viewIndex(s) + delta, 0), n - 1);
  s.setPlaying(false);
  s.setViewEpoch(i >= n - 1 ? null : s.history.column('epoch')[i]);
}

export function togglePlay(): void {
  const s = useAppStore.getState();
  if (s.history.length >= 2) s.setPlaying(!s.playing);
}

/** Space: plays/pauses a recording (or a finished run); trains/pauses a run of your own. */
export function primaryAction(): void {
  const s = useAppStore.getState();
  if (s.recording || s.status === 'done') togglePlay();
  else if (s.status === 'running') commands.pause();
  else if (s.status === 'idle' || s.status === 'paused') commands.train();
}

/**
 * The scrubber's label: "live" only for a run that trains here (a recording is never live), the
 * phase, and which snapshot's weights the heavy views show when it is not the epoch itself.
 */
export function scrubLabel(v: { epoch: number; following: boolean; recording: boolean; phase?: string; snapshot: number | null }): string {
  const n = (e: number) => e.toLocaleString('en-US');
  const live = v.following && !v.recording ? 'live · ' : '';
  const phase = v.phase ? ` · ${v.phase}` : '';
  const weights = v.snapshot !== null && !v.following && v.snapshot !== v.epoch ? ` · weights from epoch ${n(v.snapshot)}` : '';
  return `${live}epoch ${n(v.epoch)}${phase}${weights}`;
}
